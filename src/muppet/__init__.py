"""muppet: pre-finetuning (Aghajanyan et al., 2021) for Hugging Face transformers.

The public Python API is what ``__all__`` names (see the README's "Python API"); everything
else is internal. Importing ``muppet`` stays cheap: torch loads with the first command run.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = ("prefinetune", "finetune", "sweep", "study", "register_task")
_CONFIGS = ("PrefinetuneConfig", "FinetuneConfig", "SweepConfig", "StudyConfig")
__all__ = [*_API, *_CONFIGS, "MuppetError", "ConfigError", "DataError", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `import muppet` (and `muppet --help`) do not pay for pydantic and torch.
    if name in _API:
        from muppet import api

        return getattr(api, name)
    if name in _CONFIGS:
        from muppet import config

        return getattr(config, name)
    if name in ("MuppetError", "ConfigError", "DataError"):
        from muppet import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'muppet' has no attribute {name!r}")
