"""Per-task exports that plain ``transformers`` loads: one task's head on an ``AutoModelFor*`` class.

A family describes its head in a canonical form (:class:`~muppet.families.base.TransformersHead`):
``out(tanh(dense(pooled first token)))`` or ``out(every token)``. The transformers classes lay
the same layers out in two ways:

- a head of its own holding both layers (``dense`` + ``out_proj``: RoBERTa, XLM-R, BART, ...);
- the backbone's pooler (dense + tanh on the first token) then one linear layer (BERT and
  ALBERT sequence classification, every ``*ForMultipleChoice``). The pooler's weights are
  replaced by the head's ``dense``: muppet never reads the pooler, and at inference the two
  computations are the same (in training, BERT applies no dropout before the pooler).

Whatever the layout, the written model is checked against the canonical form on probe
inputs before it is saved, so an architecture whose head differs (a GELU head as ELECTRA's,
DistilBERT's ReLU) is an error instead of a silently different model.
"""

from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn

from muppet.errors import ConfigError
from muppet.families import get_family
from muppet.families.base import TransformersHead
from muppet.train.export import export_spec, load_export

PROBES = (("the cat sat on the mat", "a dog ran"), ("where is the river ?", "the river is in the city and it is old"))
TOLERANCE = 1e-4


def export_task(export_dir: str | os.PathLike[str], task: str, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``out_dir``: the export's backbone with ``task``'s head as a plain transformers model."""
    from transformers import AutoTokenizer

    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out} already exists and is not empty; choose a new folder")
    spec = export_spec(export_dir, task)
    model, _ = load_export(export_dir)
    model.eval()
    head = get_family(spec.family).transformers_head(spec, model.head(model.head_keys[task]))
    if head is None:
        raise ConfigError(
            f"task {task!r} ({spec.family}) has no AutoModelFor* head in transformers; the export itself "
            "loads with AutoModel (or AutoModelForSeq2SeqLM for an encoder-decoder)"
        )
    hf = _build(export_dir, head)
    tokenizer = AutoTokenizer.from_pretrained(str(export_dir))
    _check(hf, head, model.backbone, tokenizer)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    hf.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return out


def _build(export_dir: str | os.PathLike[str], head: TransformersHead) -> nn.Module:
    """The transformers model of ``head.auto_class`` over the export's backbone, head weights placed."""
    import transformers

    config = transformers.AutoConfig.from_pretrained(str(export_dir))
    for key, value in head.config.items():
        setattr(config, key, value)
    if hasattr(config, "pooler_hidden_act"):  # DeBERTa's pooler: the canonical head is tanh
        config.pooler_hidden_act = "tanh"
    auto = getattr(transformers, head.auto_class)
    try:
        hf = auto.from_pretrained(str(export_dir), config=config)
    except ValueError as exc:
        raise ConfigError(
            f"{type(config).__name__} has no {head.auto_class} in transformers ({str(exc).splitlines()[0][:200]})"
        ) from None
    hf.eval()
    _place(hf, head)
    return hf


def _place(hf: nn.Module, head: TransformersHead) -> None:
    base = hf.base_model
    base_ids = {id(m) for m in base.modules()}
    own = [m for m in hf.modules() if isinstance(m, nn.Linear) and id(m) not in base_ids]
    pairs: list[tuple[nn.Linear, nn.Linear]]
    if head.dense is None and len(own) == 1:
        pairs = [(own[0], head.out)]
    elif head.dense is not None and len(own) == 2:  # a head of its own: dense, then the output layer
        pairs = [(own[0], head.dense), (own[1], head.out)]
    elif head.dense is not None and len(own) == 1 and _pooler_dense(base) is not None:
        pairs = [(_pooler_dense(base), head.dense), (own[0], head.out)]  # type: ignore[list-item]
    else:
        raise ConfigError(f"{type(hf).__name__}'s head does not have the layout of muppet's head; cannot export it")
    with torch.no_grad():
        for target, source in pairs:
            if target.weight.shape != source.weight.shape:
                raise ConfigError(f"{type(hf).__name__}: a head layer of shape {tuple(target.weight.shape)} "
                                  f"cannot take muppet's {tuple(source.weight.shape)}")
            target.weight.copy_(source.weight)
            target.bias.copy_(source.bias)


def _pooler_dense(base: nn.Module) -> nn.Linear | None:
    pooler = getattr(base, "pooler", None)
    if isinstance(pooler, nn.Linear):  # ALBERT
        return pooler
    dense = getattr(pooler, "dense", None)
    return dense if isinstance(dense, nn.Linear) else None


@torch.no_grad()
def _check(hf: nn.Module, head: TransformersHead, backbone: Any, tokenizer: Any) -> None:
    """The plain model's logits equal the canonical head's on probe inputs, or it is an error."""
    enc = tokenizer([a for a, _ in PROBES], [b for _, b in PROBES], padding=True, return_tensors="pt")
    states = backbone(enc["input_ids"], enc["attention_mask"], enc.get("token_type_ids"))
    if head.dense is None:
        expected = head.out(states)
    else:
        expected = head.out(torch.tanh(head.dense(backbone.pool(states, enc["input_ids"], enc["attention_mask"]))))
    accepted = inspect.signature(hf.forward).parameters
    inputs = {k: v for k, v in enc.items() if k in accepted}
    if head.auto_class == "AutoModelForMultipleChoice":  # (examples, options, length): the probes are one example
        inputs = {k: v.unsqueeze(0) for k, v in inputs.items()}
    output = hf(**inputs)
    got = torch.stack([output.start_logits, output.end_logits], -1) if head.dense is None else output.logits
    got = got.reshape(expected.shape)
    if not torch.allclose(got, expected, atol=TOLERANCE, rtol=TOLERANCE):
        gap = float((got - expected).abs().max())
        raise ConfigError(
            f"{type(hf).__name__} computes its head differently from muppet's (largest logit gap {gap:.3g} on "
            "probe inputs); this architecture cannot carry the head faithfully"
        )
