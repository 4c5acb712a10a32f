"""Hugging Face Hub sources: one way to load them, the Parquet-export fallback, row filters,
and one clear message for every way a hub dataset can fail to load.

``datasets`` >= 4 no longer runs loading scripts: when a repository's main branch still holds
``<name>.py``, ``load_dataset`` raises "Dataset scripts are no longer supported", even when data
files sit beside the script. The Hub keeps an automatic Parquet export of most such
repositories on the revision ``refs/convert/parquet``, one folder per subset (whose name may
differ from the script's config name: ``HubSource.export_subset``). muppet then reads that
export and says so once in the log. Remote code never runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from muppet.errors import DataError
from muppet.tasks.formats import ROW_FORMATS, BadRecord, Loc, RecordError
from muppet.tasks.spec import HubSource, TaskSpec, filter_conditions

log = logging.getLogger(__name__)
EXPORT_REVISION = "refs/convert/parquet"
SCRIPT_ERROR = "Dataset scripts are no longer supported"
# A limited read (a check) gives up after this many rows, whatever the filter keeps: MRQA's
# NaturalQuestionsShort rows start after about 412k rows of other subsets.
SCAN_LIMIT = 1_000_000


@dataclass(frozen=True)
class HubRequest:
    """The arguments of one ``datasets.load_dataset`` call (the split apart)."""

    path: str
    name: str | None = None
    revision: str | None = None
    data_dir: str | None = None
    data_files: Any = None

    @property
    def revision_used(self) -> str:
        """For tables: the revision, with the export's subset when it is the export."""
        if self.revision == EXPORT_REVISION:
            return f"{EXPORT_REVISION} (subset {self.data_dir})"
        return self.revision or "main"

    def __str__(self) -> str:
        parts = [f"revision {self.revision_used}"]
        if self.revision != EXPORT_REVISION:
            parts.append(f"config {self.name or 'default'}")
            if self.data_dir:
                parts.append(f"data_dir {self.data_dir}")
        if self.data_files:
            parts.append("declared data_files")
        return f"{self.path} ({', '.join(parts)})"


def declared_request(hub: HubSource) -> HubRequest:
    return HubRequest(hub.path, hub.name, hub.revision, hub.data_dir, hub.data_files)


def export_request(hub: HubSource) -> HubRequest:
    """The Hub's Parquet export: no README there, so the subset is chosen by its folder."""
    return HubRequest(hub.path, None, EXPORT_REVISION, hub.export_subset or hub.name or "default")


# A loader gets the request, the hub split name and whether to stream, and returns the rows
# (a datasets.Dataset or IterableDataset, or any iterable of mappings).
HubLoader = Callable[[HubRequest, str, bool], Any]


def repo_location(path: str, revision: str | None) -> str:
    """What ``load_dataset`` is given for a Hub id: the id itself. Tests point this at local
    folders laid out as Hub repositories, which then go through the same ``datasets`` code
    (its script check included)."""
    return path


def load_hub(request: HubRequest, split: str, streaming: bool = False) -> Any:
    import datasets

    return datasets.load_dataset(
        repo_location(request.path, request.revision),
        request.name,
        split=split,
        revision=request.revision,
        data_dir=request.data_dir,
        data_files=request.data_files,
        streaming=streaming,
    )


_announced: set[str] = set()


def open_rows(spec: TaskSpec, split: str, loader: HubLoader | None = None, streaming: bool = False) -> tuple[Any, HubRequest]:
    """The rows of one declared split and the request that produced them: the declaration, or
    the Parquet export when the repository only holds a loading script. Every failure is a
    :class:`DataError` naming the task, dataset, revision, config and split, and what to do."""
    hub = spec.hub
    assert hub is not None
    load = loader or load_hub
    request = declared_request(hub)
    try:
        return load(request, hub.splits[split], streaming), request
    # Whatever the hub libraries raise (HTTP, Arrow, file system, config errors) becomes one message.
    except Exception as exc:  # noqa: BLE001
        if SCRIPT_ERROR not in str(exc) or hub.revision not in (None, "main") or hub.data_files:
            raise hub_error(spec, request, split, exc) from exc
        script = str(exc).rsplit(" ", 1)[-1]
    export = export_request(hub)
    if hub.path not in _announced:  # once per dataset, not once per split and pass
        _announced.add(hub.path)
        log.warning("task %r: %s holds a loading script (%s), which datasets >= 4 does not run; "
                    "reading its Parquet export instead: %s", spec.name, hub.path, script, export)
    try:
        return load(export, hub.splits[split], streaming), export
    except Exception as exc:  # noqa: BLE001
        raise hub_error(spec, export, split, exc, script=script) from exc


def hub_error(spec: TaskSpec, request: HubRequest, split: str, exc: BaseException, script: str | None = None) -> DataError:
    assert spec.hub is not None
    text = " ".join(str(exc).split())
    where = f"task {spec.name!r}: cannot load hub dataset {request}, split {spec.hub.splits[split]!r} ({split})"
    local = "or put the files under data_dir and use source=local"
    copy = "another hub id, or revision / data_dir / data_files, in a task file"
    if script is not None:
        why = (f"the repository only holds a loading script ({script}), which datasets >= 4 does not run, and its "
               f"Parquet export cannot be read either ({type(exc).__name__}: {text[:200]})")
        todo = f"Point the task at a Parquet copy of the dataset ({copy}), {local}"
    elif SCRIPT_ERROR in text:
        why = f"this revision holds a loading script ({text.rsplit(' ', 1)[-1]}), which datasets >= 4 does not run"
        todo = f"Declare a revision or data_files without the script ({copy}), {local}"
    elif "gated dataset" in text:
        why = "the dataset is gated"
        todo = (f"Accept its conditions on https://huggingface.co/datasets/{request.path} and log in "
                f"(`hf auth login` or HF_TOKEN), {local}")
    elif isinstance(exc, ConnectionError) or "Couldn't reach" in text or "offline" in text.lower():
        why = "the Hub cannot be reached (offline, or HF_HUB_OFFLINE=1)"
        todo = f"Run where the Hub is reachable, {local}"
    elif "doesn't exist on the Hub or cannot be accessed" in text or "Couldn't find" in text:
        why = "no such dataset, or it is private"
        todo = (f"Check the id (the Hub has moved many datasets to namespaced ids, e.g. {copy}), or log in with a "
                f"token that may read it, {local}")
    elif "BuilderConfig" in text or "Config name is missing" in text:
        why = f"config {request.name!r} does not exist ({text[:300]})"
        todo = "Set the hub source's name to one of the configs listed"
    elif "split" in text.lower() and ("Unknown split" in text or "Bad split" in text):
        why = f"no split {spec.hub.splits[split]!r} ({text[:300]})"
        todo = "Map the task's split to one of those listed (hub splits)"
    elif "Revision" in text and "doesn't exist" in text:
        why = f"no revision {request.revision!r}"
        todo = "Declare a revision that exists (a branch, tag, commit or refs/pr/N)"
    else:
        why = f"{type(exc).__name__}: {text[:300]}"
        todo = f"Check the hub source ({copy}), {local}"
    return DataError(f"{where}: {why}. {todo}.")


def declared_fields(hub: HubSource) -> list[str]:
    """Source columns the declaration reads directly (a row adapter's own fields are its business)."""
    fields = [column for column, _, _ in filter_conditions(hub.filter)]
    if hub.format is None:
        for source in hub.columns.values():
            fields.extend([source] if isinstance(source, str) else source)
    return list(dict.fromkeys(fields))


def _passes(conditions: list[tuple[str, str, Any]], row: Mapping[str, Any]) -> bool:
    for column, op, value in conditions:
        got = row.get(column)
        if op == "==" and got != value or op == "!=" and got == value:
            return False
        if op in ("in", "not in") and (got in value) != (op == "in"):
            return False
    return True


def _values_pass(*values: Any, conditions: list[tuple[str, str, Any]], columns: list[str]) -> bool:
    return _passes(conditions, dict(zip(columns, values)))


class HubRows:
    """A split's rows as ``(loc, source fields | BadRecord)``: the declared columns checked on the
    first row, the filter applied (``filtered`` counts the rows it left out), then the row adapter."""

    def __init__(self, spec: TaskSpec, rows: Iterable[Any], where: str, request: HubRequest, limit: int | None = None,
                 limit_kept: bool = False) -> None:
        assert spec.hub is not None
        self.spec, self.where, self.request, self.limit, self.limit_kept = spec, where, request, limit, limit_kept
        self.conditions = filter_conditions(spec.hub.filter)
        self.adapter = ROW_FORMATS[spec.hub.format] if spec.hub.format else None
        self.read = self.filtered = self._filtered_in_arrow = 0
        if self.conditions and all(hasattr(rows, a) for a in ("filter", "column_names", "__len__")):
            # A datasets.Dataset is filtered in Arrow first: MRQA's combined train split has 516k rows.
            self.check_columns(dict.fromkeys(rows.column_names))  # type: ignore[attr-defined]
            columns = [column for column, _, _ in self.conditions]
            kept = rows.filter(_values_pass, input_columns=columns,  # type: ignore[attr-defined]
                               fn_kwargs={"conditions": self.conditions, "columns": columns})
            self._filtered_in_arrow = len(rows) - len(kept)  # type: ignore[arg-type]
            rows = kept
        self.rows = rows

    def check_columns(self, row: Mapping[str, Any]) -> None:
        missing = [name for name in declared_fields(self.spec.hub) if name not in row]  # type: ignore[arg-type]
        if missing:
            raise DataError(
                f"task {self.spec.name!r}: {self.where} has no column(s) {missing} (it has {sorted(row)}). "
                "Fix the hub source's columns or filter, or point it at a copy with these columns."
            )

    def __iter__(self) -> Iterator[tuple[Loc, Mapping[str, Any] | BadRecord]]:
        self.read, self.filtered = 0, self._filtered_in_arrow
        hub = self.spec.hub
        assert hub is not None
        for i, row in enumerate(self.rows, start=1):
            if self.limit is not None and (i - self.filtered if self.limit_kept else i) > self.limit or i > SCAN_LIMIT:
                return
            self.read, row = i, dict(row)
            if i == 1:
                self.check_columns(row)
            if self.conditions and not _passes(self.conditions, row):
                self.filtered += 1
                continue
            if self.adapter is None:
                yield Loc(self.where, record=i), row
                continue
            try:
                fields = self.adapter(row, **hub.options)
            except RecordError as exc:
                yield Loc(self.where, record=i), BadRecord(exc.reason, exc.field)
                continue
            if fields is not None:  # None: the adapter leaves the row out on purpose (another subset, a known loss)
                yield Loc(self.where, record=i), fields
