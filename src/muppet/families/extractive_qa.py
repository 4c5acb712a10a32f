"""Extractive question answering (SQuAD format): one shared span head.

The question and the context go into one row; a context longer than ``max_length`` is cut
into windows that overlap by ``doc_stride`` tokens, each window a feature. A window without
the answer points at position 0 (no answer), as for SQuAD 2.0. Start and end logits range
over the candidate positions only (position 0 and the window's context tokens), and
loss scaling uses n = the number of those candidates. Predicted token spans map back to
character offsets, so the predicted answer is a substring of the original context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from muppet.errors import ConfigError
from muppet.evaluation import metrics as M
from muppet.families.base import (
    Family,
    Feature,
    FeatureSettings,
    Record,
    RowView,
    TransformersHead,
    log_n,
    sym_kl,
    text,
)
from muppet.tasks.formats.base import RecordError
from muppet.tasks.spec import TaskSpec

TOP_K = 20  # start/end candidates per window considered in decoding


def _answers(fields: Mapping[str, Any], context: str) -> dict[str, list[Any]]:
    raw = fields.get("answers")
    if raw is None:
        raise RecordError("missing", "answers")
    if isinstance(raw, Mapping):
        texts, starts = raw.get("text", []), raw.get("start", raw.get("answer_start", []))
        if not isinstance(texts, (list, tuple)) or not isinstance(starts, (list, tuple)):
            raise RecordError("answers need a list of texts and a list of offsets", "answers")
    elif isinstance(raw, (list, tuple)):
        texts, starts = [], []
        for item in raw:
            if not isinstance(item, Mapping):
                raise RecordError("each answer must be an object with text and answer_start", "answers")
            texts.append(item.get("text"))
            starts.append(item.get("answer_start", item.get("start")))
    else:
        raise RecordError(f"expected answers, got {type(raw).__name__}", "answers")
    if len(starts) != len(texts):
        raise RecordError(f"{len(texts)} answer texts but {len(starts)} offsets", "answers")
    out_t: list[str] = []
    out_s: list[int] = []
    for answer, start in zip(texts, starts):
        if not isinstance(answer, str) or not answer.strip():
            raise RecordError("empty answer text", "answers")
        if start is None:
            start = context.find(answer)
            if start < 0:
                raise RecordError(f"answer {answer[:60]!r} does not occur in the context", "answers")
        try:
            start = int(start)
        except (TypeError, ValueError, OverflowError):
            raise RecordError(f"answer offset {start!r} is not an integer", "answers") from None
        # A negative offset would slice from the end of the context and could still match.
        if start < 0 or context[start : start + len(answer)] != answer:
            where = "is outside the context" if not 0 <= start < len(context) else "does not match the context"
            raise RecordError(f"answer {answer[:60]!r} at offset {start} {where}", "answers")
        out_t.append(answer)
        out_s.append(start)
    return {"text": out_t, "start": out_s}


class SpanHead(nn.Module):
    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.qa_outputs = nn.Linear(hidden_size, 2)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.qa_outputs(states)


class ExtractiveQA(Family):
    name = "extractive_qa"
    metric_names = ("exact_match", "f1")
    default_metric = "f1"
    metric_units = {"exact_match": "percent", "f1": "percent"}
    hub_task = "question-answering"
    needs_offsets = True

    def label_space(self, spec: TaskSpec) -> str:
        return "span or none" if spec.options.get("unanswerable") else "span"

    def make_record(self, fields: Mapping[str, Any], spec: TaskSpec) -> Record:
        context = text(fields, "context")
        answers = _answers(fields, context)
        if not answers["text"] and not spec.options.get("unanswerable", False):
            raise RecordError("no answer (this task does not declare unanswerable questions)", "answers")
        return self._record(fields, context, answers)

    def make_input(self, fields: Mapping[str, Any], spec: TaskSpec) -> Record:
        return self._record(fields, text(fields, "context"), {"text": [], "start": []})

    def _record(self, fields: Mapping[str, Any], context: str, answers: dict[str, list[Any]]) -> Record:
        record: Record = {"id": str(fields.get("id", "")), "context": context, "question": text(fields, "question"),
                          "answers": answers}
        if fields.get("group") is not None:
            record["group"] = str(fields["group"])
        return record

    def record_schema(self, spec: TaskSpec) -> dict[str, Any]:
        from datasets import List, Value

        return {"id": Value("string"), "context": Value("string"), "question": Value("string"),
                "answers": {"text": List(Value("string")), "start": List(Value("int64"))}, "group": Value("string")}

    def label_name(self, record: Record, spec: TaskSpec) -> str:
        return "answerable" if record["answers"]["text"] else "unanswerable"

    def leak_text(self, record: Record) -> str:
        return f"{record['context']}\x1f{record['question']}"

    def passage(self, record: Record) -> str | None:
        return record["context"]

    def feature_schema(self, spec: TaskSpec, train: bool) -> dict[str, Any]:
        from datasets import List, Value

        schema = {"span": List(Value("int32")), "start": Value("int64"), "end": Value("int64")}
        if not train:
            schema["offsets"] = List(List(Value("int32")))
        return schema

    def _questions(self, records: Sequence[Record], tokenizer: Any, max_tokens: int) -> list[str]:
        """Questions cut to ``max_tokens`` tokens, so the context always keeps room in a window."""
        questions = [r["question"].lstrip() for r in records]
        enc = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
        out = []
        for q, ids, offsets in zip(questions, enc["input_ids"], enc["offset_mapping"]):
            out.append(q if len(ids) <= max_tokens else q[: offsets[max_tokens - 1][1]])
        return out

    def featurize(
        self, records: Sequence[Record], spec: TaskSpec, tokenizer: Any, settings: FeatureSettings, train: bool
    ) -> list[Feature]:
        if not records:
            return []
        cap = max(settings.max_length // 3, 8)
        room = settings.max_length - cap - tokenizer.num_special_tokens_to_add(pair=True)
        if room <= settings.doc_stride:  # the tokenizer would fail with "Sequence to truncate too short"
            raise ConfigError(
                f"task {spec.name!r}: max_length={settings.max_length} leaves {room} context tokens per window after "
                f"the question (up to {cap} tokens) and special tokens, not more than doc_stride={settings.doc_stride}; "
                "raise max_length or lower doc_stride"
            )
        questions = self._questions(records, tokenizer, cap)
        contexts = [r["context"] for r in records]
        enc = tokenizer(
            questions,
            contexts,
            truncation="only_second",
            max_length=settings.max_length,
            stride=settings.doc_stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        types_all = enc.get("token_type_ids")
        features: list[Feature] = []
        for j, ids in enumerate(enc["input_ids"]):
            example = int(enc["overflow_to_sample_mapping"][j])
            seq = enc.sequence_ids(j)
            ctx = [t for t, s in enumerate(seq) if s == 1]
            if not ctx:
                continue
            c0, c1 = ctx[0], ctx[-1]
            offsets = np.asarray(enc["offset_mapping"][j], dtype=np.int32)
            start = end = 0
            answers = records[example]["answers"]
            if answers["text"]:
                s = answers["start"][0]
                e = s + len(answers["text"][0])
                if offsets[c0][0] <= s and offsets[c1][1] >= e:
                    start = c0
                    while start <= c1 and offsets[start][0] <= s:
                        start += 1
                    start -= 1
                    end = c1
                    while end >= c0 and offsets[end][1] >= e:
                        end -= 1
                    end += 1
            feature: Feature = {
                "rows": [np.asarray(ids, dtype=np.int32)],
                "types": None if types_all is None else [np.asarray(types_all[j], dtype=np.int8)],
                "example": example,
                "span": (c0, c1),
                "start": start,
                "end": end,
            }
            if not train:
                off = np.full((len(ids), 2), -1, dtype=np.int32)
                off[c0 : c1 + 1] = offsets[c0 : c1 + 1]
                feature["offsets"] = off
            features.append(feature)
        return features

    def collate(self, features: Sequence[Feature], spec: TaskSpec, length: int, target_length: int) -> dict[str, torch.Tensor]:
        n = len(features)
        candidates = torch.zeros((n, length), dtype=torch.bool)
        candidates[:, 0] = True
        for i, f in enumerate(features):
            c0, c1 = f["span"]
            candidates[i, c0 : c1 + 1] = True
        return {
            "start": torch.tensor([f["start"] for f in features], dtype=torch.long),
            "end": torch.tensor([f["end"] for f in features], dtype=torch.long),
            "candidates": candidates,
            "log_n": torch.tensor([log_n(int(c.sum())) for c in candidates], dtype=torch.float32),
        }

    def head_key(self, spec: TaskSpec) -> str:
        return "span"

    def build_head(self, spec: TaskSpec, hidden_size: int, dropout: float) -> nn.Module:
        return SpanHead(hidden_size)

    def forward(self, head: nn.Module | None, view: RowView, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        assert head is not None
        logits = head(view.states).float()  # (n, length, 2)
        mask = targets["candidates"].to(logits.device)[:, : logits.shape[1]]
        return logits.masked_fill(~mask.unsqueeze(-1), float("-inf"))

    def transformers_head(self, spec: TaskSpec, head: nn.Module | None) -> TransformersHead:
        # The plain model scores every position; muppet's masking to the candidates (position 0
        # and the window's context tokens) is left to the caller's decoding.
        assert isinstance(head, SpanHead)
        return TransformersHead("AutoModelForQuestionAnswering", {"num_labels": 2}, head.qa_outputs)

    def loss(self, logits: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        start = F.cross_entropy(logits[..., 0], targets["start"].to(logits.device), reduction="none")
        end = F.cross_entropy(logits[..., 1], targets["end"].to(logits.device), reduction="none")
        return (start + end) / 2

    def symmetric_kl(self, a: torch.Tensor, b: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return (sym_kl(a[..., 0], b[..., 0]) + sym_kl(a[..., 1], b[..., 1])) / 2

    def predict(self, logits: torch.Tensor, features: Sequence[Feature], spec: TaskSpec, settings: FeatureSettings) -> list[Any]:
        """Per window: the best spans as (score, char start, char end), and the no-answer score.

        Vectorised over the batch: the top-k starts and ends of every window make a k x k grid
        of candidate spans; spans that end before they start, run longer than
        ``max_answer_length``, or touch a non-context token are masked out.
        """
        logits = logits.float().cpu()
        n, length = logits.shape[0], logits.shape[1]
        if n == 0:
            return []
        k = min(TOP_K, length)
        offsets = torch.full((n, length, 2), -1, dtype=torch.long)
        for i, f in enumerate(features):
            off = torch.as_tensor(np.asarray(f["offsets"], dtype=np.int64))[:length]
            offsets[i, : len(off)] = off
        starts = logits[..., 0].topk(k, dim=-1)  # values, indices: (n, k)
        ends = logits[..., 1].topk(k, dim=-1)
        s_idx, e_idx = starts.indices[:, :, None], ends.indices[:, None, :]  # (n, k, 1), (n, 1, k)
        scores = starts.values[:, :, None] + ends.values[:, None, :]
        rows = torch.arange(n)[:, None, None]
        in_context = (offsets[rows, s_idx, 0] >= 0) & (offsets[rows, e_idx, 0] >= 0)
        valid = (s_idx > 0) & (e_idx >= s_idx) & (e_idx - s_idx + 1 <= settings.max_answer_length) & in_context
        valid &= torch.isfinite(scores)
        scores = scores.masked_fill(~valid, float("-inf")).view(n, -1)
        best = scores.topk(min(TOP_K, k * k), dim=-1)
        null = (logits[:, 0, 0] + logits[:, 0, 1]).tolist()
        out = []
        for i in range(n):
            spans = []
            for score, flat in zip(best.values[i].tolist(), best.indices[i].tolist()):
                if score == float("-inf"):
                    break
                s, e = int(starts.indices[i, flat // k]), int(ends.indices[i, flat % k])
                spans.append((score, int(offsets[i, s, 0]), int(offsets[i, e, 1])))
            out.append({"spans": spans, "null": null[i]})
        return out

    def decode(
        self, records: Sequence[Record], features: Sequence[Feature], raw: Sequence[Any], spec: TaskSpec
    ) -> list[Any]:
        return [answer["answer"] for answer in self.present(records, features, raw, spec)]

    def present(
        self, records: Sequence[Record], features: Sequence[Feature], raw: Sequence[Any], spec: TaskSpec
    ) -> list[dict[str, Any]]:
        """Each record's best span over its windows (``start``/``end``: character offsets into the
        context; ``score``: its start + end logit), or no answer (empty, offsets null, the
        no-answer score) where the task allows one and it scores higher, or no span was found."""
        best: list[tuple[float, int, int] | None] = [None] * len(records)
        null: list[float] = [float("inf")] * len(records)
        for f, pred in zip(features, raw):
            i = f["example"]
            null[i] = min(null[i], pred["null"])
            if pred["spans"] and (best[i] is None or pred["spans"][0][0] > best[i][0]):  # type: ignore[index]
                best[i] = pred["spans"][0]
        allow_null = bool(spec.options.get("unanswerable", False))
        out = []
        for i, record in enumerate(records):
            span = best[i]
            if span is None or (allow_null and null[i] > span[0]):
                # A record none of whose windows holds a context token has no score at all.
                out.append({"answer": "", "start": None, "end": None, "score": null[i] if null[i] < float("inf") else None})
            else:
                score, start, end = span
                out.append({"answer": record["context"][start:end], "start": start, "end": end, "score": score})
        return out

    def metrics(self, predictions: Sequence[Any], records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        return M.squad_scores(predictions, [r["answers"]["text"] for r in records])

    def chance(self, records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        empty = M.squad_scores([""] * len(records), [r["answers"]["text"] for r in records])
        return {"random": 0.0, "trivial": empty[self.metric_name(spec)]}
