"""Metrics and evaluation shared by pre-finetuning and fine-tuning."""
