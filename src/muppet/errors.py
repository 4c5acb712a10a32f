"""User-facing errors: the CLI prints their message, never a traceback."""

from __future__ import annotations


class MuppetError(Exception):
    """Base class for errors caused by the user's input (config, data, model choice)."""


class ConfigError(MuppetError):
    """An invalid configuration key or value."""


class UnknownNameError(MuppetError, KeyError):
    """A name that no registry holds; the message lists the nearest names."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class DuplicateNameError(MuppetError):
    """A second registration under a name that is already taken."""


class DataError(MuppetError):
    """Malformed input data; the message names file, line or record, field and reason."""


class TrainingError(MuppetError):
    """The run cannot go on (non-finite weights, repeated non-finite losses, a failed write);
    the message names the last good checkpoint and what to do."""
