"""The settings of ``muppet prefinetune`` and ``muppet finetune``: shared sections plus each
command's own keys."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from muppet.config.base import Config, choice
from muppet.config.sections import (
    LOSS_SCALING,
    BatchSize,
    CheckpointSection,
    DataSection,
    EvalSection,
    Lr,
    MaxEvalExamples,
    ModelSection,
    NumBeams,
    OptimSection,
    OutputDir,
    RunSection,
    TaskList,
)
from muppet.config.transfer import TransferSection
from muppet.data.sampler import BATCHING, SAMPLING  # the sampler owns its modes


class RecipeSection(Config):
    title: ClassVar[str] = "Multi-task recipe"

    tasks: TaskList = Field(["local"], description="task names, mixture names and task files (*.yaml); an entry "
                                                   "{name, weight, max_examples} also sets a sampling weight and a cap")
    exclude: list[str] = Field([], description="task and mixture names removed from tasks (e.g. local_summarization "
                                               "for an encoder)")
    downstream: list[str] = Field([], description="tasks kept for fine-tuning later: removed from tasks, and their "
                                                  "dev (or held-out) and test texts count as evaluated for leakage")
    max_steps: int = Field(1000, gt=0, description="optimizer updates")
    batching: choice(*BATCHING) = Field("heterogeneous", description="heterogeneous (tasks mixed in every update), "
                                                                     "homogeneous (one task per update), sequential "
                                                                     "(task after task)")
    loss_scaling: choice(*LOSS_SCALING) = Field("log", description="log: every example's loss divided by ln n; none")
    sampling: choice(*SAMPLING) = Field("proportional", description="task rates: proportional to size, uniform, or "
                                                                    "size^(1/temperature)")
    temperature: float = Field(2.0, gt=0, description="T of sampling: temperature")
    max_train_examples: int | None = Field(None, gt=0, description="cap on each task's training examples (a fixed "
                                                                      "random subset)")

    @model_validator(mode="after")
    def _some_tasks(self) -> Any:
        if not self.tasks:
            raise ValueError("tasks: name at least one task or mixture")
        return self


class OutputSection(Config):
    title: ClassVar[str] = "Evaluation schedule and export"

    eval_every: int = Field(0, ge=0, description="updates between dev evaluations (0: only at the end)")
    export: bool = Field(True, description="write output_dir/export/ at the end")
    push_to_hub: str | None = Field(None, description="a Hub repo id: push the export there at the end of the run "
                                                      "(see muppet push)")

    @model_validator(mode="after")
    def _push_needs_export(self) -> Any:
        if self.push_to_hub is not None and not self.export:
            raise ValueError("push_to_hub: needs export=true (the export is what is pushed)")
        return self


class PrefinetuneConfig(RecipeSection, ModelSection, DataSection, OptimSection, EvalSection, OutputSection,
                        CheckpointSection, TransferSection, RunSection):
    """``muppet prefinetune``: one shared backbone trained on a mixture of tasks."""


class FinetuneConfig(ModelSection, DataSection, OptimSection, EvalSection, CheckpointSection, RunSection):
    """``muppet finetune``: one model fine-tuned on one task, optionally on a nested subset of its
    training data, scored on dev (and test)."""

    title: ClassVar[str] = "Fine-tuning"

    task: str = Field("rte", description="a task name or a task file")
    train_fraction: float | None = Field(1.0, gt=0, le=1, description="share of the training split (nested, "
                                                                      "stratified subsets)")
    train_examples: int | None = Field(None, gt=0, description="an absolute number of training examples (overrides "
                                                               "train_fraction)")
    max_train_examples: int | None = Field(None, gt=0, description="the training data before any fraction: at most "
                                                                   "this many examples, one fixed sample for every seed")
    epochs: float = Field(3.0, gt=0, description="passes over the training subset")
    max_steps: int | None = Field(None, gt=0, description="optimizer updates (overrides epochs)")
    reuse_head: bool = Field(False, description="start from the export's head for this task or family, when it has "
                                                "one")
    eval_every: int | None = Field(None, gt=0, description="updates between dev evaluations; default once per epoch")
    early_stopping_patience: int = Field(0, ge=0, description="evaluations without improvement before stopping "
                                                              "(0: never)")
    evaluate_test: bool = Field(True, description="also score the labelled test split, where the task has one")
    save_model: bool = Field(False, description="export the fine-tuned model to output_dir/model")
    extra: dict[str, Any] = Field({}, description="free-form labels copied into results.json")
    # defaults of shared settings that differ for fine-tuning
    output_dir: OutputDir = "runs/finetune"
    batch_size: BatchSize = 16
    lr: Lr = 2e-5
    max_eval_examples: MaxEvalExamples = None
    num_beams: NumBeams = 4
    save_every: int = Field(0, ge=0, description="updates between checkpoints (0: only when stopped by a signal or "
                                                 "stop_after); a finished fine-tune deletes its checkpoints")

    @model_validator(mode="after")
    def _one_amount(self) -> Any:
        if self.train_examples is not None:
            self.train_fraction = None
        if self.train_fraction is None and self.train_examples is None:
            raise ValueError("give train_fraction or train_examples")
        return self
