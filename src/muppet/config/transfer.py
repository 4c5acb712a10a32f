"""The settings of ``muppet affinity``: which candidate tasks help which target tasks."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from muppet.config.base import Config, choice
from muppet.config.sections import DataSection, Leakage, Lr, ModelSection, OutputDir, RunSection, TaskEntry, TaskList

MEASURES = ("lookahead", "cosine")
SELECTIONS = ("top_k", "positive", "weighted")
LOOKAHEADS = ("exact", "linear")
PROBE_METHODS = ("head", "finetune")
PROBE_LR = {"head": 1e-3, "finetune": 2e-5}  # the probe's lr when none is given, per method
CHECKPOINT_SELECTION = ("last", "probe")


class ProbeConfig(Config):
    """Transfer probes: every ``every`` updates, how well the current backbone serves each
    target task after a short, fixed training on a few of its examples, scored on its dev split."""

    tasks: list[str] = Field([], description="target tasks to probe: task names or task files (typically the run's "
                                             "downstream tasks); empty: no probes")
    every: int = Field(100, gt=0, description="updates between probes (also one on the base model before the first "
                                              "update, and one after the last)")
    examples: int = Field(64, gt=0, description="training examples per probe task: one fixed stratified subset, the "
                                                "same for every probe (the one muppet finetune train_examples=N "
                                                "seed=SEED trains on)")
    method: choice(*PROBE_METHODS) = Field("head", description="head: a fresh head trained on the frozen backbone's "
                                                               "features; finetune: a short full fine-tune of a copy")
    steps: int = Field(100, gt=0, description="updates of each probe's training")
    lr: float | None = Field(None, gt=0, description="AdamW learning rate of the probe's training; default 1e-3 for "
                                                     "head, 2e-5 for finetune")
    batch_size: int = Field(16, gt=0, description="examples per probe update")

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else PROBE_LR[self.method]


class TransferSection(Config):
    title: ClassVar[str] = "Transfer probes and gradient monitor"

    probe: ProbeConfig = Field(default_factory=ProbeConfig, description="transfer probes of target tasks during "
                                                                        "pre-finetuning (see probe.*)")
    select_checkpoint: choice(*CHECKPOINT_SELECTION) = Field(
        "last", description="the checkpoint exported: last, or probe (the best mean probe gain over the base model, "
                            "ties to the earliest; every probe then also saves a checkpoint)")
    monitor_gradients: int = Field(0, ge=0, description="updates between gradient-conflict rows (per-task backbone "
                                                        "gradient norm and cosine with the update); 0: off")

    @model_validator(mode="after")
    def _selection_needs_probes(self) -> Any:
        if self.select_checkpoint == "probe" and not self.probe.tasks:
            raise ValueError("select_checkpoint: probe needs probe.tasks (the target tasks to probe)")
        return self


class AffinityConfig(ModelSection, DataSection, RunSection):
    """``muppet affinity``: a short co-training run measuring every candidate's gradient
    affinity to every target task, and the mixture it selects."""

    title: ClassVar[str] = "Affinity"
    tasks: TaskList = Field(["local"], description="candidate tasks: task names, mixture names and task files; an "
                                                   "entry {name, max_examples} also caps a candidate's data")
    exclude: list[str] = Field([], description="task and mixture names removed from the candidates")
    targets: list[str] = Field([], description="the tasks to help: task names or task files (removed from the "
                                               "candidates)")
    steps: int = Field(60, gt=0, description="co-training updates (every task, every update)")
    every: int = Field(10, gt=0, description="updates between measurements (and one before the first update)")
    examples: int = Field(8, gt=0, description="examples per task in each update and measurement")
    lr: Lr = 5e-5
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay of the co-training")
    lookahead_lr: float = Field(1e-3, gt=0, description="step size of the one-step lookahead (plain SGD on the "
                                                        "candidate's gradient alone, as in TAG)")
    # exact stays the default: it is TAG's measure at any step size, while linear agrees with it
    # only where the step is small enough for the loss to be locally linear (the default's is)
    lookahead_method: choice(*LOOKAHEADS) = Field(
        "exact", description="exact: the target's loss after the step (a forward pass per candidate and target); "
                             "linear: its first-order estimate lookahead_lr * g_c.g_t / L_t, free given the gradients")
    measure: choice(*MEASURES) = Field("lookahead", description="what ranks candidates: lookahead (relative change "
                                                                "of a target's loss) or cosine (of gradients)")
    select: choice(*SELECTIONS) = Field("top_k", description="top_k candidates, all with positive affinity, or "
                                                             "weighted (weights proportional to clipped affinity)")
    top_k: int = Field(10, gt=0, description="candidates kept by select: top_k")
    output_dir: OutputDir = "runs/affinity"
    # An affinity run evaluates nothing, so overlaps between tasks cannot inflate a score here;
    # the pre-finetuning run on the selected mixture checks leakage against its downstream tasks.
    leakage: Leakage = "allow"

    @model_validator(mode="after")
    def _targets_given(self) -> Any:
        if not self.targets:
            raise ValueError("targets: name the task(s) to help (task names or task files)")
        if not self.tasks:
            raise ValueError("tasks: name at least one candidate task or mixture")
        weighted = [e.name for e in self.tasks if isinstance(e, TaskEntry) and e.weight != 1.0]
        if weighted:  # every candidate trains in every co-training update: a rate has nothing to change
            raise ValueError(f"tasks: {weighted}: weight has no effect in affinity (every candidate trains in every "
                             "update); weights apply to prefinetune")
        return self
