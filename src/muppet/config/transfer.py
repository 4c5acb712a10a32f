"""The settings of ``muppet affinity``: which candidate tasks help which target tasks."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from muppet.config.base import choice
from muppet.config.sections import DataSection, Leakage, Lr, ModelSection, OutputDir, RunSection, TaskEntry, TaskList

MEASURES = ("lookahead", "cosine")
SELECTIONS = ("top_k", "positive", "weighted")


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
