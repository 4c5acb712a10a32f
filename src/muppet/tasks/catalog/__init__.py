"""The built-in task catalogue: importing this package registers every task, family by family."""

from muppet.tasks.catalog import classification, extractive_qa, multiple_choice, summarization  # noqa: F401
