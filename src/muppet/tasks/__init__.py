"""Tasks: declarative specs, their registry, readers and named mixtures."""

from muppet.tasks.spec import FAMILIES, HubSource, LocalSource, TaskSpec, all_tasks, get_task, register

__all__ = ["FAMILIES", "HubSource", "LocalSource", "TaskSpec", "all_tasks", "get_task", "register"]
