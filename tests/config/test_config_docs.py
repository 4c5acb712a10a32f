"""--help and the README's key tables are generated from the config fields, and cannot drift."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from muppet.cli import build_parser
from muppet.config.docs import COMMANDS, render_readme, rows

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_key_has_a_description(command: str) -> None:
    table = rows(COMMANDS[command])
    assert table, command
    assert [key for _, key, _, _, description in table if not description.strip()] == []


def test_readme_key_tables_match_the_code() -> None:
    text = README.read_text(encoding="utf-8")
    assert render_readme(text) == text, "README key tables are stale: run `make docs`"


def test_a_changed_default_makes_the_readme_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    from muppet.config import PrefinetuneConfig

    text = README.read_text(encoding="utf-8")
    monkeypatch.setattr(PrefinetuneConfig.model_fields["max_steps"], "default", 1234)
    assert render_readme(text) != text


@pytest.mark.parametrize("command", ["prefinetune", "finetune", "sweep", "study"])
def test_help_lists_every_key_with_its_default(command: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    text = out.getvalue()
    for _, key, default, _, _ in rows(COMMANDS[command]):
        line = next((line for line in text.splitlines() if line.strip().startswith(key + " ")), None)
        assert line is not None, f"{command} --help lacks {key}"
        assert f"default {default}]" in line, line
