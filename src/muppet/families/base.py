"""The Family protocol: everything that differs between task families lives behind it.

A family turns canonical records into features (token rows plus targets), owns its head,
its per-example loss and the ``n`` of its loss scaling, turns outputs into predictions, and
scores them. The model and the training loop only ever call these methods.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import nn

from muppet.errors import ConfigError
from muppet.tasks.formats.base import RecordError

if TYPE_CHECKING:
    from muppet.backbone import Backbone
    from muppet.data.batching import MixedBatch
    from muppet.model import MultiTaskModel
    from muppet.tasks.spec import TaskSpec

Record = dict[str, Any]
# A feature is one training/evaluation unit: ``rows`` are the token sequences it feeds the
# backbone (one for most families, one per choice for multiple choice), ``types`` their
# token type ids (or None), ``example`` the index of the record it came from; the rest is
# family-specific targets and decoding aids. numpy arrays keep millions of them compact.
Feature = dict[str, Any]


@dataclass(frozen=True)
class FeatureSettings:
    max_length: int = 256
    doc_stride: int = 128  # overlap between windows of a long QA context, in tokens
    max_target_length: int = 64  # summaries
    max_answer_length: int = 30  # longest span, in tokens, that QA decoding considers
    num_beams: int = 1  # summarization at evaluation
    max_new_tokens: int = 64


@dataclass
class TransformersHead:
    """A head as plain ``transformers`` builds it, for per-task exports (``AutoModelFor*``).

    The layers are in one of two canonical forms: ``out(tanh(dense(pooled state)))`` when
    ``dense`` is set, else ``out(every token's state)``; ``config`` is what the transformers
    config needs (``num_labels``, ``id2label``, ``problem_type``, ...).
    """

    auto_class: str  # the transformers Auto class name, e.g. "AutoModelForSequenceClassification"
    config: dict[str, Any]
    out: nn.Linear
    dense: nn.Linear | None = None


@dataclass
class RowView:
    """The backbone's output for one segment (one task's rows) of a micro-batch."""

    states: torch.Tensor  # (rows, length, hidden): encoder states, or decoder states for seq2seq
    input_ids: torch.Tensor  # (rows, length)
    attention_mask: torch.Tensor  # (rows, length)
    backbone: Backbone


def text(fields: Mapping[str, Any], name: str, required: bool = True) -> str:
    """A canonical text field: a non-empty string (or '' where optional)."""
    value = fields.get(name)
    if value is None:
        if required:
            raise RecordError("missing", name)
        return ""
    if not isinstance(value, str):
        raise RecordError(f"expected text, got {type(value).__name__}", name)
    if required and not value.strip():
        raise RecordError("empty text", name)
    return value


def as_index(value: Any, size: int, name: str = "label") -> int:
    """An option index from an int, a digit string or a letter (A=0); must be < size."""
    if isinstance(value, bool):
        raise RecordError(f"expected an option index, got {value!r}", name)
    index: int | None = None
    if isinstance(value, int):
        index = value
    elif isinstance(value, float) and value.is_integer():
        index = int(value)
    elif isinstance(value, str) and value.strip().isascii():
        # ASCII only: "²".isdigit() holds but int("²") fails, and "ß".upper() is two letters.
        v = value.strip()
        if v.lstrip("-").isdigit():
            index = int(v)
        elif len(v) == 1 and v.isalpha():
            index = ord(v.upper()) - ord("A")
    if index is None:
        raise RecordError(f"cannot read {value!r} as an option index", name)
    if not 0 <= index < size:
        raise RecordError(f"index {index} is outside 0..{size - 1}", name)
    return index


def log_n(n: int | float) -> float:
    """ln(n), the loss-scaling divisor for an output space of size n (> 1).

    Binary tasks are divided by ln 2 < 1, i.e. scaled *up*: at chance every scaled loss is 1.
    """
    if n <= 1:
        raise ValueError(f"loss scaling needs an output space of more than one element, got {n}")
    return math.log(n)


def sym_kl(a: torch.Tensor, b: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """KL(p||q) + KL(q||p) = sum (p - q)(log p - log q) of softmaxes over ``dim``, summed over it
    (masked entries, -inf in both, contribute nothing)."""
    a, b = a.float().clamp(min=-1e4), b.float().clamp(min=-1e4)
    la, lb = a.log_softmax(dim), b.log_softmax(dim)
    return ((la.exp() - lb.exp()) * (la - lb)).sum(dim)


def pad_rows(rows: Sequence[np.ndarray], length: int, value: int) -> torch.Tensor:
    out = torch.full((len(rows), length), value, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.as_tensor(row, dtype=torch.long)
    return out


class SplitCheck:
    """Sees a split's records as they are read, then names what is wrong with the split as a
    whole: a convention no single record shows (1-based option indices). Keeps counts, not
    records, so reading stays streaming. This one finds nothing."""

    def record(self, record: Record) -> None:
        """A record make_record accepted."""

    def rejected(self, loc: Any, fields: Mapping[str, Any], error: RecordError) -> None:
        """A record make_record refused: where it is, the fields it was given and why."""

    def problem(self) -> str | None:
        """What is wrong with the split once every record was seen (None: nothing); the loader
        raises it whatever on_bad_record says, since skipping would train the rest wrongly."""
        return None


class Family(ABC):
    name: ClassVar[str]
    # Every metric ``metrics`` returns; a task's headline ``metric`` must be one of them.
    metric_names: ClassVar[tuple[str, ...]]
    default_metric: ClassVar[str]
    # True where the family can only run on an encoder-decoder backbone (summarization).
    needs_decoder: ClassVar[bool] = False
    # The unit of each metric ``metrics`` returns: "fraction" (0..1), "percent" (0..100),
    # "correlation" (-1..1) or "points" (0..100, no % sign); reports scale and label by it.
    metric_units: ClassVar[Mapping[str, str]] = {}
    # The Hub's task type for this family's results in a model card's ``model-index``.
    hub_task: ClassVar[str] = "other"
    # True where featurizing reads a fast tokenizer's offset mappings (extractive QA).
    needs_offsets: ClassVar[bool] = False
    # The record field a plain string fills when predicting (None: inputs must be records).
    text_field: ClassVar[str | None] = None

    # --- declaring -----------------------------------------------------------------------
    def family_for(self, spec: TaskSpec) -> str:
        """The family that serves this declaration: this one, unless an older spelling of a
        declaration belongs to another family (classification with a label_range: regression)."""
        return self.name

    def validate_spec(self, spec: TaskSpec) -> None:
        """Raise ConfigError for a declaration this family cannot serve (by default: any label space)."""
        if spec.labels or spec.label_range is not None:
            raise ConfigError(f"task {spec.name!r}: {self.name} tasks declare no labels or label_range")

    def label_space(self, spec: TaskSpec) -> str:
        """What the task predicts, in a few words (``muppet tasks list``)."""
        return self.name

    def stratify_column(self, spec: TaskSpec) -> str | None:
        """The record field whose values stratify training subsets (None: no strata)."""
        return None

    # --- reading -----------------------------------------------------------------------
    @abstractmethod
    def make_record(self, fields: Mapping[str, Any], spec: TaskSpec) -> Record:
        """Normalise and check one record's canonical fields; raise RecordError if malformed."""

    def make_input(self, fields: Mapping[str, Any], spec: TaskSpec) -> Record:
        """A record to predict on: :meth:`make_record`'s checks of the inputs, with any target
        ignored and a placeholder in its place (by default the target is required)."""
        return self.make_record(fields, spec)

    @abstractmethod
    def record_schema(self, spec: TaskSpec) -> dict[str, Any]:
        """``datasets`` feature types of the canonical fields (records are stored as Arrow)."""

    @abstractmethod
    def leak_text(self, record: Record) -> str:
        """The input text that identifies an example (duplicates, leakage, held-out carving)."""

    def passage(self, record: Record) -> str | None:
        """The passage the example reads that examples of other tasks may read too (a QA
        paragraph, a reading-comprehension article), for ``leakage_unit: passage``; None
        where nothing but the example's own text would identify it."""
        return None

    @abstractmethod
    def label_name(self, record: Record, spec: TaskSpec) -> str:
        """A short description of the record's target, for label distributions in reports."""

    def split_check(self, spec: TaskSpec) -> SplitCheck:
        """A fresh watcher of one split's records (the loader calls it for every split it reads)."""
        return SplitCheck()

    # --- featurizing -------------------------------------------------------------------
    @abstractmethod
    def feature_schema(self, spec: TaskSpec, train: bool) -> dict[str, Any]:
        """``datasets`` feature types of this family's feature fields besides rows/types/example."""

    @abstractmethod
    def featurize(
        self, records: Sequence[Record], spec: TaskSpec, tokenizer: Any, settings: FeatureSettings, train: bool
    ) -> list[Feature]:
        """Tokenize records into features (``train`` drops decoding aids; QA windows differ)."""

    def decoder_labels(self, feature: Feature) -> np.ndarray | None:
        """Target tokens the decoder is teacher-forced on (None: the decoder reads the input)."""
        return None

    @abstractmethod
    def collate(self, features: Sequence[Feature], spec: TaskSpec, length: int, target_length: int) -> dict[str, torch.Tensor]:
        """Targets for a segment; must include ``log_n`` (one ln n per feature) when labelled."""

    # --- modelling ---------------------------------------------------------------------
    @abstractmethod
    def head_key(self, spec: TaskSpec) -> str:
        """The head this task trains: its own (``cls/<task>``) or a shared one (``mc``, ``span``, ``lm``)."""

    @abstractmethod
    def build_head(self, spec: TaskSpec, hidden_size: int, dropout: float) -> nn.Module | None:
        """A fresh head (None where the backbone's own LM head serves)."""

    @abstractmethod
    def forward(self, head: nn.Module | None, view: RowView, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Logits for each feature of the segment."""

    @abstractmethod
    def loss(self, logits: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Unscaled loss per feature, shape (features,)."""

    def symmetric_kl(self, a: torch.Tensor, b: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """R3F's KL(p_a || p_b) + KL(p_b || p_a) per feature, over the last dimension."""
        return sym_kl(a, b)

    def transformers_head(self, spec: TaskSpec, head: nn.Module | None) -> TransformersHead | None:
        """This task's head for a plain ``transformers`` model class (None: no such class)."""
        return None

    # --- predicting and scoring ----------------------------------------------------------
    def predict_batch(
        self, model: MultiTaskModel, batch: MixedBatch, features: Sequence[Feature], spec: TaskSpec,
        settings: FeatureSettings, tokenizer: Any,
    ) -> list[Any]:
        """One raw prediction per feature of a one-task batch (the evaluator's only call);
        by default :meth:`predict` on the logits, a generating family overrides this instead."""
        return self.predict(model(batch)[0], features, spec, settings)

    def predict(self, logits: torch.Tensor, features: Sequence[Feature], spec: TaskSpec, settings: FeatureSettings) -> list[Any]:
        """One raw prediction per feature, from the logits of :meth:`forward`."""
        raise NotImplementedError(f"{type(self).__name__} overrides neither predict nor predict_batch")

    def decode(
        self, records: Sequence[Record], features: Sequence[Feature], raw: Sequence[Any], spec: TaskSpec
    ) -> list[Any]:
        """Per-record predictions from per-feature ones (most families: one feature per record)."""
        out: list[Any] = [None] * len(records)
        for feature, pred in zip(features, raw):
            out[feature["example"]] = pred
        return out

    def present(
        self, records: Sequence[Record], features: Sequence[Feature], raw: Sequence[Any], spec: TaskSpec
    ) -> list[dict[str, Any]]:
        """Per-record predictions as JSON-ready fields, for ``muppet.load(...).predict`` and
        ``muppet predict`` (by default: ``{"prediction": <what decode gives>}``)."""
        return [{"prediction": p} for p in self.decode(records, features, raw, spec)]

    @abstractmethod
    def metrics(self, predictions: Sequence[Any], records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        """Every metric of ``metric_names`` for the predictions against the records' references."""

    @abstractmethod
    def chance(self, records: Sequence[Record], spec: TaskSpec) -> dict[str, float]:
        """Reference points for the headline metric: a ``random`` guess, and a ``trivial`` baseline
        (majority class, most frequent option position, empty answer, lead sentence)."""

    def metric_name(self, spec: TaskSpec) -> str:
        return spec.metric or self.default_metric

    def in_points(self, metric: str, value: float) -> float:
        """A metric's value on a 0..100 scale: fractions and correlations times 100."""
        return 100 * value if self.metric_units.get(metric) in ("fraction", "correlation") else value


def choice_scores(logits: torch.Tensor, sizes: Sequence[int]) -> list[dict[str, Any]]:
    """Per row of logits: the best of its first ``sizes[i]`` entries and their softmax."""
    probs = logits.float().softmax(-1).cpu()
    return [{"index": int(p[:k].argmax()), "scores": p[:k].tolist()} for p, k in zip(probs, sizes)]


class ChoiceFamily(Family):
    """A family that chooses one of several outputs (classes, options), one feature per record:
    its raw predictions are :func:`choice_scores`, the metrics read the chosen index."""

    def scored(
        self, records: Sequence[Record], features: Sequence[Feature], raw: Sequence[Any], spec: TaskSpec
    ) -> list[dict[str, Any]]:
        """Each record's ``{"index", "scores"}``."""
        return super().decode(records, features, raw, spec)

    def decode(
        self, records: Sequence[Record], features: Sequence[Feature], raw: Sequence[Any], spec: TaskSpec
    ) -> list[Any]:
        return [p["index"] for p in self.scored(records, features, raw, spec)]
