"""Regression of single sentences and pairs (e.g. STS-B): one output per dataset.

The head predicts the target standardised by its declared ``label_range`` (centre
(lo+hi)/2, scale (hi-lo)/sqrt(12), the standard deviation of a uniform target) under mean
squared error, with n = e (no division): a constant guess then costs about 1, the same as
every ln-scaled classification loss at chance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from muppet.errors import ConfigError
from muppet.evaluation import metrics as M
from muppet.families.base import Feature, FeatureSettings, Record, TransformersHead, log_n
from muppet.families.classification import ClassificationHead, PooledTextFamily
from muppet.tasks.formats.base import RecordError
from muppet.tasks.spec import TaskSpec


def regression_scale(spec: TaskSpec) -> tuple[float, float]:
    assert spec.label_range is not None
    lo, hi = spec.label_range
    return (lo + hi) / 2.0, (hi - lo) / math.sqrt(12.0)


class Regression(PooledTextFamily):
    name = "regression"
    metric_names = ("pearson", "spearman")
    default_metric = "pearson"
    metric_units = {"pearson": "correlation", "spearman": "correlation"}
    hub_task = "text-classification"  # the Hub files STS-B-like regression under it too
    label_type = "float64"

    def validate_spec(self, spec: TaskSpec) -> None:
        if spec.labels or spec.label_range is None:
            raise ConfigError(f"task {spec.name!r}: a regression task needs a label_range and no labels")
        lo, hi = spec.label_range
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ConfigError(f"task {spec.name!r}: label_range needs finite bounds lo < hi, got [{lo}, {hi}]")

    def label_space(self, spec: TaskSpec) -> str:
        assert spec.label_range is not None
        return f"{spec.label_range[0]:g}..{spec.label_range[1]:g}"

    def read_label(self, raw: Any, spec: TaskSpec) -> float:
        assert spec.label_range is not None
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise RecordError(f"expected a number, got {raw!r}", "label") from None
        lo, hi = spec.label_range
        if not (lo <= value <= hi) or math.isnan(value):
            raise RecordError(f"{value} is outside the label range [{lo}, {hi}]", "label")
        return value

    def placeholder_label(self, spec: TaskSpec) -> float:
        assert spec.label_range is not None
        return spec.label_range[0]

    def num_outputs(self, spec: TaskSpec) -> int:
        return 1

    def label_name(self, record: Record, spec: TaskSpec) -> str:
        lo = math.floor(record["label"])
        return f"[{lo}, {lo + 1})"

    def collate(self, features: Sequence[Feature], spec: TaskSpec, length: int, target_length: int) -> dict[str, torch.Tensor]:
        centre, scale = regression_scale(spec)
        labels = torch.tensor([(f["label"] - centre) / scale for f in features], dtype=torch.float32)
        return {"labels": labels, "log_n": torch.full((len(features),), log_n(math.e))}

    def loss(self, logits: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return F.mse_loss(logits.float(), targets["labels"], reduction="none")

    def transformers_head(self, spec: TaskSpec, head: nn.Module | None) -> TransformersHead:
        assert isinstance(head, ClassificationHead)
        # The head predicts the standardised target; folding the de-standardisation into the last
        # layer makes the plain model's logit the score itself, in the task's own units.
        centre, scale = regression_scale(spec)
        out = nn.Linear(head.out_proj.in_features, 1)
        with torch.no_grad():
            out.weight.copy_(head.out_proj.weight * scale)
            out.bias.copy_(head.out_proj.bias * scale + centre)
        config = {"num_labels": 1, "id2label": {0: spec.name}, "label2id": {spec.name: 0}, "problem_type": "regression"}
        return TransformersHead("AutoModelForSequenceClassification", config, out, head.dense)

    def symmetric_kl(self, a: torch.Tensor, b: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        # Two Gaussians of one variance: the symmetric KL is the squared gap of the means.
        return (a.float() - b.float()) ** 2

    def predict(self, logits: torch.Tensor, features: Sequence[Feature], spec: TaskSpec, settings: FeatureSettings) -> list[Any]:
        centre, scale = regression_scale(spec)
        return [float(v) * scale + centre for v in logits.float().cpu()]

    def present(
        self, records: Sequence[Record], features: Sequence[Feature], raw: Sequence[Any], spec: TaskSpec
    ) -> list[dict[str, Any]]:
        return [{"value": v} for v in self.decode(records, features, raw, spec)]  # in the task's units

    def metrics(self, predictions: Sequence[Any], records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        gold = [r["label"] for r in records]
        return {"pearson": M.pearson(predictions, gold), "spearman": M.spearman(predictions, gold)}

    def chance(self, records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        # A constant or random guess correlates with nothing.
        return {"random": 0.0, "trivial": 0.0}
