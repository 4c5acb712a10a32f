"""Classification and regression tasks (one head per dataset)."""

from muppet.tasks.spec import HubSource, LocalSource, TaskSpec, register

register(
    TaskSpec(
        name="rte",
        family="classification",
        labels=("entailment", "not_entailment"),
        description="Recognizing Textual Entailment (GLUE/SuperGLUE RTE): premise -> hypothesis.",
        local=LocalSource(
            format="jsonl",
            splits={"train": ("train.jsonl",), "dev": ("val.jsonl",)},
            columns={"text_a": "premise", "text_b": "hypothesis", "label": "label"},
        ),
        hub=HubSource(
            "nyu-mll/glue",
            "rte",
            splits={"train": "train", "dev": "validation"},
            columns={"text_a": "sentence1", "text_b": "sentence2", "label": "label"},
        ),
    )
)
