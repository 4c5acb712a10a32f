"""File formats: each reader is registered by name in ``FORMATS`` and named by a task's LocalSource."""

from muppet.tasks.formats import columnar, common  # noqa: F401  (registers the generic formats)
from muppet.tasks.formats.base import FORMATS, ROW_FORMATS, BadRecord, Loc, RecordError

__all__ = ["FORMATS", "ROW_FORMATS", "BadRecord", "Loc", "RecordError"]
