"""extractive_qa tasks."""

from muppet.tasks.spec import HubSource, LocalSource, TaskSpec, register  # noqa: F401
