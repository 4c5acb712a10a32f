"""muppet: pre-finetuning (Aghajanyan et al., 2021) for Hugging Face transformers."""

__version__ = "0.1.0"
