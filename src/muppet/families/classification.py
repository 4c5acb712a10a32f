"""Classification (single sentence or pair) and regression: one head per dataset.

Loss scaling: cross-entropy over C classes is divided by ln C. Regression (e.g. STS-B)
predicts the target standardised by its declared range (centre (lo+hi)/2, scale
(hi-lo)/sqrt(12), the standard deviation of a uniform target) under mean squared error,
with n = e (no division): a constant guess then costs about 1, the same as every
ln-scaled classification loss at chance.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from muppet.evaluation import metrics as M
from muppet.families._tokenize import encode
from muppet.families.base import Family, Feature, FeatureSettings, Record, RowView, TransformersHead, log_n, text
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


def regression_scale(spec: TaskSpec) -> tuple[float, float]:
    assert spec.label_range is not None
    lo, hi = spec.label_range
    return (lo + hi) / 2.0, (hi - lo) / math.sqrt(12.0)


class Classification(Family):
    name = "classification"
    default_metric = "accuracy"
    hub_task = "text-classification"

    def metric_name(self, spec: TaskSpec) -> str:
        return spec.metric or ("pearson" if spec.is_regression else "accuracy")

    def make_record(self, fields: Mapping[str, Any], spec: TaskSpec) -> Record:
        record: Record = {"text_a": text(fields, "text_a"), "text_b": None, "label": self._label(fields, spec)}
        if fields.get("text_b") is not None:
            record["text_b"] = text(fields, "text_b")
        if fields.get("group") is not None:
            record["group"] = str(fields["group"])
        return record

    def _label(self, fields: Mapping[str, Any], spec: TaskSpec) -> int | float:
        if "label" not in fields or fields["label"] is None:
            raise RecordError("missing", "label")
        raw = fields["label"]
        if spec.is_regression:
            assert spec.label_range is not None
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise RecordError(f"expected a number, got {raw!r}", "label") from None
            lo, hi = spec.label_range
            if not (lo <= value <= hi) or math.isnan(value):
                raise RecordError(f"{value} is outside the label range [{lo}, {hi}]", "label")
            return value
        if isinstance(raw, bool):
            raw = str(raw)
        if isinstance(raw, str):
            if raw in spec.labels:
                return spec.labels.index(raw)
            raise RecordError(f"label {raw!r} is not one of {list(spec.labels)}", "label")
        if isinstance(raw, int) and 0 <= raw < len(spec.labels):
            return raw
        raise RecordError(f"label {raw!r} is outside the label space {list(spec.labels)}", "label")

    def record_schema(self, spec: TaskSpec) -> dict[str, Any]:
        from datasets import Value

        label = Value("float64") if spec.is_regression else Value("int64")
        return {"text_a": Value("string"), "text_b": Value("string"), "label": label, "group": Value("string")}

    def label_name(self, record: Record, spec: TaskSpec) -> str:
        if spec.is_regression:
            lo = math.floor(record["label"])
            return f"[{lo}, {lo + 1})"
        return spec.labels[record["label"]]

    def leak_text(self, record: Record) -> str:
        return f"{record['text_a']}\x1f{record['text_b'] or ''}"

    def feature_schema(self, spec: TaskSpec, train: bool) -> dict[str, Any]:
        from datasets import Value

        return {"label": Value("float64") if spec.is_regression else Value("int64")}

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

    def collate(self, features: Sequence[Feature], spec: TaskSpec, length: int, target_length: int) -> dict[str, torch.Tensor]:
        n = len(features)
        if spec.is_regression:
            centre, scale = regression_scale(spec)
            labels = torch.tensor([(f["label"] - centre) / scale for f in features], dtype=torch.float32)
            return {"labels": labels, "log_n": torch.full((n,), log_n(math.e))}
        labels = torch.tensor([f["label"] for f in features], dtype=torch.long)
        return {"labels": labels, "log_n": torch.full((n,), log_n(len(spec.labels)))}

    def head_key(self, spec: TaskSpec) -> str:
        return f"cls/{spec.name}"

    def build_head(self, spec: TaskSpec, hidden_size: int, dropout: float) -> nn.Module:
        return ClassificationHead(hidden_size, 1 if spec.is_regression else len(spec.labels), dropout)

    def forward(self, head: nn.Module | None, view: RowView, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        assert head is not None
        logits = head(view.backbone.pool(view.states, view.input_ids, view.attention_mask))
        return logits.squeeze(-1) if logits.shape[-1] == 1 else logits

    def transformers_head(self, spec: TaskSpec, head: nn.Module | None) -> TransformersHead:
        assert isinstance(head, ClassificationHead)
        if not spec.is_regression:
            labels = dict(enumerate(spec.labels))
            config = {"num_labels": len(labels), "id2label": labels, "label2id": {v: k for k, v in labels.items()},
                      "problem_type": "single_label_classification"}
            return TransformersHead("AutoModelForSequenceClassification", config, head.out_proj, head.dense)
        # The head predicts the standardised target; folding the de-standardisation into the last
        # layer makes the plain model's logit the score itself, in the task's own units.
        centre, scale = regression_scale(spec)
        out = nn.Linear(head.out_proj.in_features, 1)
        with torch.no_grad():
            out.weight.copy_(head.out_proj.weight * scale)
            out.bias.copy_(head.out_proj.bias * scale + centre)
        config = {"num_labels": 1, "id2label": {0: spec.name}, "label2id": {spec.name: 0}, "problem_type": "regression"}
        return TransformersHead("AutoModelForSequenceClassification", config, out, head.dense)

    def loss(self, logits: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        labels = targets["labels"]
        if labels.is_floating_point():
            return F.mse_loss(logits.float(), labels, reduction="none")
        return F.cross_entropy(logits.float(), labels, reduction="none")

    def symmetric_kl(self, a: torch.Tensor, b: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        if targets["labels"].is_floating_point():  # regression: a Gaussian's symmetric KL is the squared gap
            return (a.float() - b.float()) ** 2
        return super().symmetric_kl(a, b, targets)

    def predict(self, logits: torch.Tensor, features: Sequence[Feature], spec: TaskSpec, settings: FeatureSettings) -> list[Any]:
        if spec.is_regression:
            centre, scale = regression_scale(spec)
            return [float(v) * scale + centre for v in logits.float().cpu()]
        return logits.argmax(-1).cpu().tolist()

    def metrics(self, predictions: Sequence[Any], records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        gold = [r["label"] for r in records]
        if spec.is_regression:
            return {"pearson": M.pearson(predictions, gold), "spearman": M.spearman(predictions, gold)}
        c = len(spec.labels)
        return {
            "accuracy": M.accuracy(predictions, gold),
            "f1_macro": M.f1_macro(predictions, gold, c),
            "mcc": M.matthews_corrcoef(predictions, gold, c),
        }

    def chance(self, records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        metric = self.metric_name(spec)
        if spec.is_regression or metric == "mcc":
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
