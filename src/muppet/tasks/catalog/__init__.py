"""The built-in task catalogue: importing this package registers every task, family by family,
and the named mixtures of those tasks (GLUE, SuperGLUE, the MUPPET paper's)."""

from muppet.tasks.catalog import classification, extractive_qa, mixtures, multiple_choice, summarization  # noqa: F401
