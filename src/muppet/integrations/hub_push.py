"""Push an export to the Hugging Face Hub with its transfer card (``muppet push``, ``push_to_hub:``).

The card is rendered afresh from ``muppet.json`` (with the repo id as the model's name) into
the export's README.md, and the folder is uploaded as it is: ``create_repo`` (kept when it
exists), ``create_branch`` for a revision, ``upload_folder``, one commit.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from muppet.errors import MuppetError
from muppet.integrations.card import transfer_card
from muppet.train.export import read_manifest


class HubError(MuppetError):
    """The Hub cannot be reached or refused the push; the message says what to do."""


def check_can_push() -> None:
    """Fail before any work when a push could not happen (offline, no token)."""
    from huggingface_hub import constants, get_token

    if constants.is_offline_mode():
        raise HubError("cannot push to the Hub: offline mode is on (HF_HUB_OFFLINE=1); unset it on a machine "
                       "with network access")
    if get_token() is None:
        raise HubError("cannot push to the Hub: no token; log in with `hf auth login` or set HF_TOKEN")


def push(export_dir: str | os.PathLike[str], repo_id: str, *, private: bool | None = None,
         revision: str | None = None) -> str:
    """Upload the export to ``repo_id`` (at branch ``revision``); returns the commit's URL."""
    from huggingface_hub import HfApi
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    manifest = read_manifest(export_dir)
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise HubError(f"{repo_id!r} is not a Hub repo id ({exc})") from None
    check_can_push()
    folder = Path(export_dir)
    (folder / "README.md").write_text(transfer_card(manifest, folder, name=repo_id), encoding="utf-8")
    api = HfApi()
    try:
        api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        if revision:
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo_id, folder_path=str(folder), revision=revision,
            commit_message=f"muppet export: {manifest['base_model']} after {manifest['steps']} updates "
                           f"on {len(manifest['tasks'])} tasks",
        )
    except _network_errors() as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        raise HubError(f"pushing {folder} to {repo_id} failed ({reason}); the export is intact: retry with "
                       f"`muppet push {folder} {repo_id}`") from None
    return str(getattr(commit, "commit_url", None) or commit)


def _network_errors() -> tuple[type[BaseException], ...]:
    # The Hub's HTTP errors are OSErrors; a connection that fails raises its HTTP client's own
    # error (httpx2 for huggingface_hub 2, httpx before).
    errors: list[type[BaseException]] = [OSError, ValueError]
    for name in ("httpx2", "httpx"):
        try:
            errors.append(importlib.import_module(name).HTTPError)
        except ImportError:
            continue
    return tuple(errors)
