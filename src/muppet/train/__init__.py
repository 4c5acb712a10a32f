"""The pre-finetuning loop, its checkpoints and the export."""
