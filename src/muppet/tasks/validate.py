"""Check tasks' data before a run: counts, label distributions, duplicates, overlong examples,
overlap between splits, and every malformed record with its file and line."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from muppet.errors import MuppetError
from muppet.families import FeatureSettings, get_family
from muppet.families.base import Record
from muppet.tasks.loading import Problem, available_splits, open_split, text_hash
from muppet.tasks.spec import TaskSpec

CHUNK = 2000
MAX_PROBLEMS_SHOWN = 20


@dataclass
class SplitReport:
    split: str
    source: str
    records: int = 0
    problems: list[str] = field(default_factory=list)
    labels: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0  # records whose input text occurred earlier in the split
    overlong: int | None = None  # records longer than max_length tokens (None: not measured)


@dataclass
class TaskReport:
    spec: TaskSpec
    splits: list[SplitReport] = field(default_factory=list)
    overlap: dict[str, int] = field(default_factory=dict)  # "train/dev" -> shared input texts
    error: str | None = None  # the task could not be read at all

    @property
    def malformed(self) -> int:
        return sum(len(s.problems) for s in self.splits)

    @property
    def empty(self) -> list[str]:
        """Splits without a single good record (an empty or header-only file): a run cannot use them."""
        return [s.split for s in self.splits if not s.records]

    @property
    def ok(self) -> bool:
        return self.error is None and self.malformed == 0 and not self.empty


def _chunks(items: Iterator[Record]) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _overlong(spec: TaskSpec, records: list[Record], tokenizer: Any, max_length: int) -> int:
    """Records whose longest token row exceeds ``max_length`` (measured without truncation)."""
    family = get_family(spec.family)
    settings = dataclasses.replace(FeatureSettings(), max_length=10**6, doc_stride=0, max_target_length=10**6)
    longest: dict[int, int] = {}
    for f in family.featurize(records, spec, tokenizer, settings, train=True):
        longest[f["example"]] = max(longest.get(f["example"], 0), max(len(r) for r in f["rows"]))
    return sum(1 for n in longest.values() if n > max_length)


def validate_task(
    spec: TaskSpec,
    data_dir: str | None,
    source: str = "auto",
    tokenizer: Any = None,
    max_length: int = 256,
) -> TaskReport:
    report = TaskReport(spec)
    family = get_family(spec.family)
    texts: dict[str, set[int]] = {}
    try:
        splits = available_splits(spec, data_dir, source)
        if not splits:
            raise MuppetError("no split is readable here (no local files and no hub source)")
        for split in splits:
            opened = open_split(spec, split, data_dir, source)
            rep = SplitReport(split, opened.description, overlong=0 if tokenizer is not None else None)
            seen: set[int] = set()

            def good(rep: SplitReport = rep, opened: Any = opened, seen: set[int] = seen) -> Iterator[Record]:
                for _, item in opened.records():
                    if isinstance(item, Problem):
                        rep.problems.append(str(item))
                        continue
                    rep.records += 1
                    rep.labels[family.label_name(item, spec)] += 1
                    h = text_hash(spec, item)
                    if h in seen:
                        rep.duplicates += 1
                    seen.add(h)
                    yield item

            for chunk in _chunks(good()):
                if tokenizer is not None and rep.overlong is not None:
                    rep.overlong += _overlong(spec, chunk, tokenizer, max_length)
            texts[split] = seen
            report.splits.append(rep)
    except MuppetError as exc:
        report.error = str(exc)
    names = list(texts)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = len(texts[a] & texts[b])
            if shared:
                report.overlap[f"{a}/{b}"] = shared
    return report


def _distribution(labels: Counter[str], total: int) -> str:
    top = labels.most_common(6)
    parts = [f"{name} {count:,} ({100 * count / max(total, 1):.0f}%)" for name, count in top]
    if len(labels) > len(top):
        parts.append(f"... {len(labels) - len(top)} more")
    return ", ".join(parts)


def format_report(report: TaskReport, max_length: int) -> str:
    spec = report.spec
    lines = [f"{spec.name} ({spec.family})"]
    if report.error:
        lines.append(f"  ERROR: {report.error}")
        return "\n".join(lines)
    for s in report.splits:
        extra = f", overlong (> {max_length} tokens) {s.overlong:,}" if s.overlong is not None else ""
        lines.append(f"  {s.split:<5} {s.records:>9,} records, duplicates {s.duplicates:,}{extra}   [{s.source}]")
        if s.records:
            lines.append(f"        {_distribution(s.labels, s.records)}")
        if s.problems:
            empty = sum("empty" in p for p in s.problems)
            lines.append(f"        {len(s.problems):,} malformed record(s) ({empty:,} empty):")
            lines += [f"          {p}" for p in s.problems[:MAX_PROBLEMS_SHOWN]]
            if len(s.problems) > MAX_PROBLEMS_SHOWN:
                lines.append(f"          ... and {len(s.problems) - MAX_PROBLEMS_SHOWN:,} more")
    for pair, shared in report.overlap.items():
        lines.append(f"  overlap {pair}: {shared:,} input text(s) occur in both splits")
    failures = [f"{report.malformed:,} malformed record(s)"] if report.malformed else []
    if report.empty:
        failures.append(f"no records in split(s) {', '.join(report.empty)} (empty or header-only file)")
    lines.append("  OK" if report.ok else f"  FAILED: {'; '.join(failures)}")
    return "\n".join(lines)


def validate_tasks(
    specs: Sequence[TaskSpec], data_dir: str | None, source: str = "auto", tokenizer: Any = None, max_length: int = 256
) -> Iterator[TaskReport]:
    for spec in specs:
        yield validate_task(spec, data_dir, source, tokenizer, max_length)
