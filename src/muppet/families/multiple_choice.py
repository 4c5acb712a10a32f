"""Multiple choice (commonsense, reading comprehension with options): one shared ranking head.

Each option becomes one backbone row, ``context + question`` paired with the option; the
shared head scores every row and a softmax runs over each example's options. Examples with
different numbers of options mix in one batch (missing options are masked). Loss scaling:
n is the example's number of options.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from muppet.evaluation import metrics as M
from muppet.families._tokenize import encode
from muppet.families.base import (
    ChoiceFamily,
    Feature,
    FeatureSettings,
    Record,
    RowView,
    SplitCheck,
    TransformersHead,
    as_index,
    choice_scores,
    log_n,
    text,
)
from muppet.tasks.formats.base import RecordError
from muppet.tasks.spec import TaskSpec


class RankingHead(nn.Module):
    """dense -> tanh -> one score per option row."""

    def __init__(self, hidden_size: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.score = nn.Linear(hidden_size, 1)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        x = torch.tanh(self.dense(self.dropout(pooled)))
        return self.score(self.dropout(x)).squeeze(-1)


class OneBasedLabels(SplitCheck):
    """1-based option indices are valid 0-based ones except the last option's, which make_record
    refuses: several of those and no record naming option 0 are a convention, not typos."""

    def __init__(self) -> None:
        self.zero = 0  # records naming option 0
        self.one_past: list[Any] = []  # where a refused label names the option one past the last

    def record(self, record: Record) -> None:
        self.zero += record["label"] == 0

    def rejected(self, loc: Any, fields: Mapping[str, Any], error: RecordError) -> None:
        choices = fields.get("choices")
        if error.field != "label" or not isinstance(choices, (list, tuple)) or fields.get("label") is None:
            return
        try:
            past = as_index(fields["label"], len(choices) + 1) == len(choices)
        except RecordError:
            return
        if past:
            self.one_past.append(loc)

    def problem(self) -> str | None:
        if len(self.one_past) < 2 or self.zero:  # one such record is a typo
            return None
        return (f"the labels look 1-based: {len(self.one_past):,} record(s) name the option one past the last (first: "
                f"{self.one_past[0]}) and none names option 0. Option indices are 0-based: subtract 1 (or use letters "
                "A, B, ...) in the source, or map them with label_map")


class MultipleChoice(ChoiceFamily):
    name = "multiple_choice"
    metric_names = ("accuracy",)
    default_metric = "accuracy"
    metric_units = {"accuracy": "fraction"}
    hub_task = "multiple-choice"

    def label_space(self, spec: TaskSpec) -> str:
        return "choices"

    def make_input(self, fields: Mapping[str, Any], spec: TaskSpec) -> Record:
        return self.make_record({**fields, "label": 0}, spec)  # a placeholder, never read

    def make_record(self, fields: Mapping[str, Any], spec: TaskSpec) -> Record:
        choices = fields.get("choices")
        if not isinstance(choices, (list, tuple)):
            raise RecordError("expected a list of options", "choices")
        if len(choices) < 2:
            raise RecordError(f"needs at least 2 options, found {len(choices)}", "choices")
        for i, choice in enumerate(choices):
            if not isinstance(choice, str) or not choice.strip():
                raise RecordError(f"option {i} is empty or not text", "choices")
        if fields.get("label") is None:
            raise RecordError("missing", "label")
        record: Record = {
            "context": text(fields, "context", required=False),
            "question": text(fields, "question", required=False),
            "choices": list(choices),
            "label": as_index(fields["label"], len(choices)),
        }
        if fields.get("group") is not None:
            record["group"] = str(fields["group"])
        return record

    def split_check(self, spec: TaskSpec) -> SplitCheck:
        return OneBasedLabels()

    def record_schema(self, spec: TaskSpec) -> dict[str, Any]:
        from datasets import List, Value

        return {"context": Value("string"), "question": Value("string"), "choices": List(Value("string")),
                "label": Value("int64"), "group": Value("string")}

    def label_name(self, record: Record, spec: TaskSpec) -> str:
        return f"option {record['label'] + 1} of {len(record['choices'])}"

    def leak_text(self, record: Record) -> str:
        return "\x1f".join([record["context"], record["question"], *record["choices"]])

    def passage(self, record: Record) -> str | None:
        return record["context"] or None  # most tasks (ARC, COPA, PIQA...) have no passage: the question is all

    def feature_schema(self, spec: TaskSpec, train: bool) -> dict[str, Any]:
        from datasets import Value

        return {"label": Value("int64")}

    def featurize(
        self, records: Sequence[Record], spec: TaskSpec, tokenizer: Any, settings: FeatureSettings, train: bool
    ) -> list[Feature]:
        first: list[str] = []
        second: list[str] = []
        for r in records:
            stem = " ".join(part for part in (r["context"].strip(), r["question"].strip()) if part)
            for choice in r["choices"]:
                # The option goes first when there is no stem: then it is encoded alone.
                first.append(stem or choice)
                second.append(choice if stem else "")
        ids, types = encode(tokenizer, first, second, settings.max_length)
        features: list[Feature] = []
        start = 0
        for i, r in enumerate(records):
            k = len(r["choices"])
            features.append(
                {
                    "rows": ids[start : start + k],
                    "types": None if types is None else types[start : start + k],
                    "example": i,
                    "label": r["label"],
                }
            )
            start += k
        return features

    def collate(self, features: Sequence[Feature], spec: TaskSpec, length: int, target_length: int) -> dict[str, torch.Tensor]:
        counts = [len(f["rows"]) for f in features]
        return {
            "labels": torch.tensor([f["label"] for f in features], dtype=torch.long),
            "num_choices": torch.tensor(counts, dtype=torch.long),
            "log_n": torch.tensor([log_n(k) for k in counts], dtype=torch.float32),
        }

    def head_key(self, spec: TaskSpec) -> str:
        return "mc"

    def build_head(self, spec: TaskSpec, hidden_size: int, dropout: float) -> nn.Module:
        return RankingHead(hidden_size, dropout)

    def forward(self, head: nn.Module | None, view: RowView, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        assert head is not None
        scores = head(view.backbone.pool(view.states, view.input_ids, view.attention_mask))
        counts = targets["num_choices"]
        width = int(counts.max())
        # Row r of the segment is option (r - first row of its example) of its example.
        example = torch.repeat_interleave(torch.arange(len(counts), device=scores.device), counts.to(scores.device))
        offsets = torch.cumsum(counts, 0) - counts
        option = torch.arange(len(scores), device=scores.device) - offsets.to(scores.device)[example]
        logits = scores.new_full((len(counts), width), float("-inf"))
        logits[example, option] = scores
        return logits

    def transformers_head(self, spec: TaskSpec, head: nn.Module | None) -> TransformersHead:
        assert isinstance(head, RankingHead)
        return TransformersHead("AutoModelForMultipleChoice", {}, head.score, head.dense)

    def loss(self, logits: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(logits.float(), targets["labels"], reduction="none")

    def predict(self, logits: torch.Tensor, features: Sequence[Feature], spec: TaskSpec, settings: FeatureSettings) -> list[Any]:
        return choice_scores(logits, [len(f["rows"]) for f in features])

    def present(
        self, records: Sequence[Record], features: Sequence[Feature], raw: Sequence[Any], spec: TaskSpec
    ) -> list[dict[str, Any]]:
        return [{"choice": p["index"], "text": r["choices"][p["index"]], "score": p["scores"][p["index"]],
                 "scores": p["scores"]} for r, p in zip(records, self.scored(records, features, raw, spec))]

    def metrics(self, predictions: Sequence[Any], records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        return {"accuracy": M.accuracy(predictions, [r["label"] for r in records])}

    def chance(self, records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        if not records:
            return {"random": float("nan"), "trivial": float("nan")}
        gold = [r["label"] for r in records]
        position = Counter(gold).most_common(1)[0][0]
        return {
            "random": float(np.mean([1.0 / len(r["choices"]) for r in records])),
            "trivial": M.accuracy([position] * len(gold), gold),  # always the most frequent position
        }
