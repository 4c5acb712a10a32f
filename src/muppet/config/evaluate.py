"""The settings of ``muppet evaluate``: an export's own heads scored on its tasks' dev or test splits."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from muppet.config.base import choice
from muppet.config.sections import DataSection, EvalSection, MaxEvalExamples, RunSection


class EvaluateConfig(DataSection, EvalSection, RunSection):
    """``muppet evaluate``: score an export's own heads, without fine-tuning. The featurizing,
    decoding and held-out keys left unset (max_length, doc_stride, max_target_length,
    max_answer_length, num_beams, max_new_tokens, heldout_fraction, heldout_max) are the
    export's, so the features and the held-out slices are the ones its run had."""

    title: ClassVar[str] = "Evaluate"

    export: str = Field("runs/prefinetune/export", description="the muppet export to score (a run's output_dir/export)")
    tasks: list[str] = Field([], description="tasks of the export to score; empty: all of them")
    split: choice("dev", "test") = Field("dev", description="dev (a task without one: the held-out slice of train, "
                                                           "carved as its run carved it) or test")
    cpu: bool = Field(False, description="run on the CPU even where an accelerator is present")
    output_dir: str | None = Field(None, description="write results.json and results.md here; null: only print the "
                                                     "table")
    max_eval_examples: MaxEvalExamples = None
