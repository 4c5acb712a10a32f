"""Classification of single sentences and pairs: one head per dataset.

Loss scaling: cross-entropy over C classes is divided by ln C. ``PooledTextFamily`` is what
classification shares with regression (families/regression.py): the records, the
featurizing and a head per dataset on the pooled state.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from muppet.errors import ConfigError
from muppet.evaluation import metrics as M
from muppet.families._tokenize import encode
from muppet.families.base import (
    ChoiceFamily,
    Family,
    Feature,
    FeatureSettings,
    Record,
    RowView,
    TransformersHead,
    choice_scores,
    log_n,
    text,
)
from muppet.tasks.formats.base import RecordError
from muppet.tasks.spec import TaskSpec


class ClassificationHead(nn.Module):
    """dense -> tanh -> linear on the pooled state (the RoBERTa/BART classification head)."""

    def __init__(self, hidden_size: int, num_outputs: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.out_proj = nn.Linear(hidden_size, num_outputs)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        x = torch.tanh(self.dense(self.dropout(pooled)))
        return self.out_proj(self.dropout(x))


class PooledTextFamily(Family):
    """Single sentences and pairs (``text_a``, ``text_b``), one head per dataset on the pooled
    state; a subclass reads and scores the label."""

    label_type: ClassVar[str]  # the Arrow type of a stored label
    text_field = "text_a"

    @abstractmethod
    def read_label(self, raw: Any, spec: TaskSpec) -> int | float:
        """The stored label of a raw one (never None); raise RecordError if malformed."""

    @abstractmethod
    def placeholder_label(self, spec: TaskSpec) -> int | float:
        """A valid label for a record predicted on (its target is unknown and never read)."""

    @abstractmethod
    def num_outputs(self, spec: TaskSpec) -> int:
        """The head's outputs."""

    def make_record(self, fields: Mapping[str, Any], spec: TaskSpec) -> Record:
        text_a = text(fields, "text_a")
        if fields.get("label") is None:
            raise RecordError("missing", "label")
        record: Record = {"text_a": text_a, "text_b": None, "label": self.read_label(fields["label"], spec)}
        if fields.get("text_b") is not None:
            record["text_b"] = text(fields, "text_b")
        if fields.get("group") is not None:
            record["group"] = str(fields["group"])
        return record

    def make_input(self, fields: Mapping[str, Any], spec: TaskSpec) -> Record:
        return self.make_record({**fields, "label": self.placeholder_label(spec)}, spec)

    def record_schema(self, spec: TaskSpec) -> dict[str, Any]:
        from datasets import Value

        return {"text_a": Value("string"), "text_b": Value("string"), "label": Value(self.label_type),
                "group": Value("string")}

    def leak_text(self, record: Record) -> str:
        return f"{record['text_a']}\x1f{record['text_b'] or ''}"

    def feature_schema(self, spec: TaskSpec, train: bool) -> dict[str, Any]:
        from datasets import Value

        return {"label": Value(self.label_type)}

    def featurize(
        self, records: Sequence[Record], spec: TaskSpec, tokenizer: Any, settings: FeatureSettings, train: bool
    ) -> list[Feature]:
        ids, types = encode(
            tokenizer, [r["text_a"] for r in records], [r["text_b"] for r in records], settings.max_length
        )
        return [
            {"rows": [ids[i]], "types": None if types is None else [types[i]], "example": i, "label": r["label"]}
            for i, r in enumerate(records)
        ]

    def head_key(self, spec: TaskSpec) -> str:
        return f"cls/{spec.name}"

    def build_head(self, spec: TaskSpec, hidden_size: int, dropout: float) -> nn.Module:
        return ClassificationHead(hidden_size, self.num_outputs(spec), dropout)

    def forward(self, head: nn.Module | None, view: RowView, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        assert head is not None
        logits = head(view.backbone.pool(view.states, view.input_ids, view.attention_mask))
        return logits.squeeze(-1) if logits.shape[-1] == 1 else logits


class Classification(ChoiceFamily, PooledTextFamily):
    name = "classification"
    metric_names = ("accuracy", "f1_macro", "mcc")
    default_metric = "accuracy"
    metric_units = {"accuracy": "fraction", "f1_macro": "fraction", "mcc": "correlation"}
    hub_task = "text-classification"
    label_type = "int64"

    def family_for(self, spec: TaskSpec) -> str:
        # Tasks declared before regression had a family of its own keep working.
        return "regression" if spec.label_range is not None and not spec.labels else self.name

    def validate_spec(self, spec: TaskSpec) -> None:
        if not spec.labels or spec.label_range is not None:
            raise ConfigError(f"task {spec.name!r}: a classification task needs either labels or label_range")
        if len(set(spec.labels)) != len(spec.labels):
            raise ConfigError(f"task {spec.name!r}: duplicate label names {spec.labels}")
        if len(spec.labels) < 2:
            raise ConfigError(f"task {spec.name!r}: needs at least two labels")

    def label_space(self, spec: TaskSpec) -> str:
        return "/".join(spec.labels)

    def stratify_column(self, spec: TaskSpec) -> str:
        return "label"

    def read_label(self, raw: Any, spec: TaskSpec) -> int:
        if isinstance(raw, bool):
            raw = str(raw)
        if isinstance(raw, str):
            if raw in spec.labels:
                return spec.labels.index(raw)
            raise RecordError(f"label {raw!r} is not one of {list(spec.labels)}", "label")
        if isinstance(raw, int) and 0 <= raw < len(spec.labels):
            return raw
        raise RecordError(f"label {raw!r} is outside the label space {list(spec.labels)}", "label")

    def placeholder_label(self, spec: TaskSpec) -> int:
        return 0

    def num_outputs(self, spec: TaskSpec) -> int:
        return len(spec.labels)

    def label_name(self, record: Record, spec: TaskSpec) -> str:
        return spec.labels[record["label"]]

    def collate(self, features: Sequence[Feature], spec: TaskSpec, length: int, target_length: int) -> dict[str, torch.Tensor]:
        labels = torch.tensor([f["label"] for f in features], dtype=torch.long)
        return {"labels": labels, "log_n": torch.full((len(features),), log_n(len(spec.labels)))}

    def loss(self, logits: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(logits.float(), targets["labels"], reduction="none")

    def transformers_head(self, spec: TaskSpec, head: nn.Module | None) -> TransformersHead:
        assert isinstance(head, ClassificationHead)
        labels = dict(enumerate(spec.labels))
        config = {"num_labels": len(labels), "id2label": labels, "label2id": {v: k for k, v in labels.items()},
                  "problem_type": "single_label_classification"}
        return TransformersHead("AutoModelForSequenceClassification", config, head.out_proj, head.dense)

    def predict(self, logits: torch.Tensor, features: Sequence[Feature], spec: TaskSpec, settings: FeatureSettings) -> list[Any]:
        return choice_scores(logits, [len(spec.labels)] * len(logits))

    def present(
        self, records: Sequence[Record], features: Sequence[Feature], raw: Sequence[Any], spec: TaskSpec
    ) -> list[dict[str, Any]]:
        out = []
        for p in self.scored(records, features, raw, spec):
            label = spec.labels[p["index"]]
            out.append({"label": label, "score": p["scores"][p["index"]], "scores": dict(zip(spec.labels, p["scores"]))})
        return out

    def metrics(self, predictions: Sequence[Any], records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        gold = [r["label"] for r in records]
        c = len(spec.labels)
        return {
            "accuracy": M.accuracy(predictions, gold),
            "f1_macro": M.f1_macro(predictions, gold, c),
            "mcc": M.matthews_corrcoef(predictions, gold, c),
        }

    def chance(self, records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        metric = self.metric_name(spec)
        if metric == "mcc":
            return {"random": 0.0, "trivial": 0.0}
        gold = [r["label"] for r in records]
        c = len(spec.labels)
        majority = Counter(gold).most_common(1)[0][0] if gold else 0
        constant = [majority] * len(gold)
        if metric == "f1_macro":
            p = np.bincount(np.asarray(gold, dtype=int), minlength=c) / max(len(gold), 1)
            random = float(np.mean([2 * pc / c / (pc + 1 / c) for pc in p]))
            return {"random": random, "trivial": M.f1_macro(constant, gold, c)}
        return {"random": 1.0 / c, "trivial": M.accuracy(constant, gold)}
