"""Checking hub sources before anything is read in full: the first rows of every declared
split go through the task's whole declaration (columns, filter, row adapter, label map, the
family's record check). ``muppet tasks check-hub`` prints the verdicts; a run checks every
hub source it will read up front, so a wrong declaration stops it before its first dataset
is downloaded in full, not on its 30th."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from muppet.errors import DataError
from muppet.tables import markdown_table
from muppet.tasks.hub import HubLoader, declared_request, hub_error
from muppet.tasks.loading import Problem, open_hub_split, reads_local
from muppet.tasks.spec import SPLITS, TaskSpec

CHECK_ROWS = 20


@dataclass
class SplitCheck:
    task: str
    split: str
    dataset: str
    revision: str = ""  # the revision read (the export's, after a fallback)
    rows: int = 0  # rows read
    records: int = 0  # rows that made a record
    filtered: int = 0  # rows the hub filter left out
    fatal: str = ""  # the split cannot be read at all (load, columns)
    problems: list[str] = field(default_factory=list)  # rows that make no record

    @property
    def ok(self) -> bool:
        return not self.fatal and not self.problems and self.records > 0

    @property
    def message(self) -> str:
        if self.fatal:
            return self.fatal
        if self.problems:
            return f"{len(self.problems)} of {self.rows} rows make no record; first: {self.problems[0]}"
        if not self.records:
            return f"no record among the first {self.rows} rows ({self.filtered} left out by the filter)"
        return ""

    def run_problem(self) -> str:
        """What stops a run: the split cannot be read, or none of its first rows makes a record
        (the declaration does not match the data; single bad rows are on_bad_record's business)."""
        if self.fatal:
            return self.fatal
        if self.problems and not self.records:
            return (f"task {self.task!r}: none of the first {self.rows} rows of {self.dataset} ({self.split}, revision "
                    f"{self.revision}) makes a record; first: {self.problems[0]}. The declaration does not match this "
                    f"dataset: check its columns, label_map, filter and row adapter (muppet tasks check-hub {self.task}).")
        return ""


def check_split(
    spec: TaskSpec, split: str, loader: HubLoader | None = None, rows: int = CHECK_ROWS, thorough: bool = True
) -> SplitCheck:
    """Stream the first ``rows`` rows of one declared hub split through the declaration; ``thorough``:
    the first ``rows`` the filter keeps, however far they are (a run's quick check reads ``rows`` only)."""
    assert spec.hub is not None
    check = SplitCheck(spec.name, split, spec.hub.path, declared_request(spec.hub).revision_used)
    try:
        source = open_hub_split(spec, split, loader, streaming=True, limit=rows, limit_kept=thorough)
        assert source.hub_rows is not None
        check.revision = source.hub_rows.request.revision_used
        for _, item in source.records():
            if isinstance(item, Problem):
                check.problems.append(str(item))
            else:
                check.records += 1
        check.rows, check.filtered = source.hub_rows.read, source.hub_rows.filtered
    except DataError as exc:
        check.fatal = str(exc)
    # A stream can also fail mid-way (HTTP, Arrow casts): the same one message as a failed load.
    except Exception as exc:  # noqa: BLE001
        check.fatal = str(hub_error(spec, declared_request(spec.hub), split, exc))
    return check


def check_task(
    spec: TaskSpec, loader: HubLoader | None = None, rows: int = CHECK_ROWS, thorough: bool = True
) -> list[SplitCheck]:
    assert spec.hub is not None
    return [check_split(spec, split, loader, rows, thorough) for split in SPLITS if split in spec.hub.splits]


def preflight(
    specs: Sequence[TaskSpec], data_dir: str | os.PathLike[str] | None, source: str = "auto",
    loader: HubLoader | None = None, rows: int = CHECK_ROWS,
) -> list[str]:
    """The problems of every hub source a run will read, found before any is read in full."""
    out = []
    for spec in specs:
        if spec.hub is None or reads_local(spec, data_dir, source):
            continue
        problems = [p for check in check_task(spec, loader, rows, thorough=False) if (p := check.run_problem())]
        out += problems[:1]  # a task's splits usually fail for one reason (offline, script-only): say it once
    return out


def format_checks(checks: Sequence[SplitCheck]) -> Iterator[str]:
    """One table row per task: the splits found, rows checked and the first problem."""
    rows = []
    by_task: dict[str, list[SplitCheck]] = {}
    for check in checks:
        by_task.setdefault(check.task, []).append(check)
    for task, splits in by_task.items():
        found = ",".join(c.split for c in splits if not c.fatal) or "-"
        revisions = ", ".join(dict.fromkeys(c.revision for c in splits))
        failed = [c for c in splits if not c.ok]
        message = f"{failed[0].split}: {failed[0].message}" if failed else ""
        if len(failed) > 1:  # usually the same reason: one message is enough
            message += f" (also failing: {', '.join(c.split for c in failed[1:])})"
        rows.append((task, splits[0].dataset, revisions, found, sum(c.rows for c in splits), "FAIL" if failed else "ok",
                     message))
    yield from markdown_table(("task", "dataset", "revision used", "splits", "rows checked", "verdict", "message"), rows)
