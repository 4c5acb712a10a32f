"""Summarization: encoder-decoder backbones only, through the backbone's own LM head.

No new parameters. The decoder is teacher-forced on the reference summary; the loss is the
token-mean cross-entropy of each example, scaled by ln n with n the vocabulary size.
Evaluation generates with the configured beam size and scores ROUGE-1/2/L.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from muppet.evaluation import metrics as M
from muppet.families.base import Family, Feature, FeatureSettings, Record, RowView, log_n, pad_rows, sym_kl, text
from muppet.tasks.spec import TaskSpec

if TYPE_CHECKING:
    from muppet.data.batching import MixedBatch
    from muppet.model import MultiTaskModel

IGNORE = -100


def lead(document: str) -> str:
    """The document's first sentence (or line): the classic trivial summary."""
    first = document.strip().split("\n", 1)[0]
    match = re.match(r"(.+?[.!?])(\s|$)", first)
    return match.group(1) if match else first


class Summarization(Family):
    name = "summarization"
    metric_names = ("rouge1", "rouge2", "rougeL")
    default_metric = "rougeL"
    metric_units = {"rouge1": "points", "rouge2": "points", "rougeL": "points"}
    hub_task = "summarization"
    needs_decoder = True
    text_field = "document"

    def label_space(self, spec: TaskSpec) -> str:
        return "text"

    def make_record(self, fields: Mapping[str, Any], spec: TaskSpec) -> Record:
        record: Record = {"document": text(fields, "document"), "summary": text(fields, "summary")}
        if fields.get("group") is not None:
            record["group"] = str(fields["group"])
        return record

    def make_input(self, fields: Mapping[str, Any], spec: TaskSpec) -> Record:
        return {"document": text(fields, "document"), "summary": ""}  # the summary is what is generated

    def record_schema(self, spec: TaskSpec) -> dict[str, Any]:
        from datasets import Value

        return {"document": Value("string"), "summary": Value("string"), "group": Value("string")}

    def label_name(self, record: Record, spec: TaskSpec) -> str:
        words = len(record["summary"].split())
        return "summary <= 10 words" if words <= 10 else "summary <= 30 words" if words <= 30 else "summary > 30 words"

    def leak_text(self, record: Record) -> str:
        return record["document"]

    def feature_schema(self, spec: TaskSpec, train: bool) -> dict[str, Any]:
        from datasets import List, Value

        return {"labels": List(Value("int32")), "vocab": Value("int64")}

    def featurize(
        self, records: Sequence[Record], spec: TaskSpec, tokenizer: Any, settings: FeatureSettings, train: bool
    ) -> list[Feature]:
        if not records:
            return []
        docs = tokenizer([r["document"] for r in records], truncation=True, max_length=settings.max_length)
        sums = tokenizer(
            text_target=[r["summary"] for r in records], truncation=True, max_length=settings.max_target_length
        )
        vocab = len(tokenizer)
        return [
            {
                "rows": [np.asarray(docs["input_ids"][i], dtype=np.int32)],
                "types": None,
                "example": i,
                "labels": np.asarray(sums["input_ids"][i], dtype=np.int32),
                "vocab": vocab,
            }
            for i in range(len(records))
        ]

    def decoder_labels(self, feature: Feature) -> np.ndarray:
        return feature["labels"]

    def collate(self, features: Sequence[Feature], spec: TaskSpec, length: int, target_length: int) -> dict[str, torch.Tensor]:
        return {
            "labels": pad_rows([f["labels"] for f in features], target_length, IGNORE),
            "log_n": torch.tensor([log_n(f["vocab"]) for f in features], dtype=torch.float32),
        }

    def head_key(self, spec: TaskSpec) -> str:
        return "lm"

    def build_head(self, spec: TaskSpec, hidden_size: int, dropout: float) -> None:
        return None

    def forward(self, head: nn.Module | None, view: RowView, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        width = targets["labels"].shape[1]
        return view.backbone.lm_logits(view.states[:, :width])

    def loss(self, logits: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        labels = targets["labels"].to(logits.device)
        tokens = F.cross_entropy(logits.float().transpose(1, 2), labels, ignore_index=IGNORE, reduction="none")
        counts = (labels != IGNORE).sum(-1).clamp(min=1)
        return tokens.sum(-1) / counts

    def symmetric_kl(self, a: torch.Tensor, b: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        mask = (targets["labels"] != IGNORE).to(a.device)
        per_token = sym_kl(a, b) * mask
        return per_token.sum(-1) / mask.sum(-1).clamp(min=1)

    def predict_batch(
        self, model: MultiTaskModel, batch: MixedBatch, features: Sequence[Feature], spec: TaskSpec,
        settings: FeatureSettings, tokenizer: Any,
    ) -> list[Any]:
        generated = model.backbone.generate(
            batch.input_ids, batch.attention_mask, num_beams=settings.num_beams, max_new_tokens=settings.max_new_tokens
        )
        return [t.strip() for t in tokenizer.batch_decode(generated, skip_special_tokens=True)]

    def present(
        self, records: Sequence[Record], features: Sequence[Feature], raw: Sequence[Any], spec: TaskSpec
    ) -> list[dict[str, Any]]:
        return [{"summary": s} for s in self.decode(records, features, raw, spec)]

    def metrics(self, predictions: Sequence[Any], records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        return M.rouge(predictions, [r["summary"] for r in records])

    def chance(self, records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        leads = M.rouge([lead(r["document"]) for r in records], [r["summary"] for r in records])
        return {"random": 0.0, "trivial": leads[self.metric_name(spec)]}
