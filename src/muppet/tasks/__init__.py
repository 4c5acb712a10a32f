"""Tasks: declarative specs, their registry, readers and named mixtures."""

from muppet.tasks.spec import HubSource, LocalSource, TaskSpec, all_tasks, get_task, register

__all__ = ["HubSource", "LocalSource", "TaskSpec", "all_tasks", "get_task", "register"]
