"""Tiny tokenizers, models and tasks for tests: built from configs, seconds on a CPU."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = (
    "the a an is was are were of to in on at and or not no yes it he she they we you i this that what who "
    "where when why how which cat dog man woman boy girl car house tree sun rain city river book food water "
    "sat ran ate saw went came made took gave found liked played read wrote good bad big small happy sad "
    "red blue green old new one two three four five because so but then after before mat park school "
    "summary answer question story happened result cause"
).split()
CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789.,?!'-:;*()")


def vocab() -> dict[str, int]:
    tokens = SPECIALS + WORDS + CHARS + [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    return {t: i for i, t in enumerate(dict.fromkeys(tokens))}


def tokenizer() -> Any:
    from transformers import BertTokenizer

    return BertTokenizer(vocab=vocab())


def bert_config(**overrides: Any) -> Any:
    from transformers import BertConfig

    kw = dict(
        vocab_size=len(vocab()), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=48, max_position_embeddings=256, type_vocab_size=2,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    kw.update(overrides)
    return BertConfig(**kw)


def roberta_config(**overrides: Any) -> Any:
    from transformers import RobertaConfig

    # Padding id 0 and two token types: the tiny BERT tokenizer's ids and pairs.
    kw = dict(
        vocab_size=len(vocab()), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=48,
        max_position_embeddings=258, type_vocab_size=2, pad_token_id=0, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    kw.update(overrides)
    return RobertaConfig(**kw)


def bart_config(**overrides: Any) -> Any:
    from transformers import BartConfig

    kw = dict(
        vocab_size=len(vocab()), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=48, decoder_ffn_dim=48, max_position_embeddings=256,
        pad_token_id=0, bos_token_id=2, eos_token_id=3, decoder_start_token_id=3, forced_eos_token_id=None,
        dropout=0.0, attention_dropout=0.0,
    )
    kw.update(overrides)
    return BartConfig(**kw)


def t5_config(**overrides: Any) -> Any:
    from transformers import T5Config

    kw = dict(
        vocab_size=len(vocab()), d_model=32, d_kv=16, d_ff=48, num_layers=1, num_decoder_layers=1, num_heads=2,
        pad_token_id=0, eos_token_id=3, decoder_start_token_id=0, dropout_rate=0.0,
    )
    kw.update(overrides)
    return T5Config(**kw)


CONFIGS = {"bert": bert_config, "roberta": roberta_config, "bart": bart_config, "t5": t5_config}


def model_dir(root: Path, kind: str = "bert", seed: int = 0) -> Path:
    """A saved tiny model + tokenizer, usable as a config's ``model``."""
    from muppet.backbone import Backbone

    path = root / f"tiny-{kind}"
    if not (path / "config.json").exists():
        torch.manual_seed(seed)
        Backbone.from_config(CONFIGS[kind]()).model.save_pretrained(path)
        tokenizer().save_pretrained(path)
    return path


def export_weights(export: Path) -> dict[str, torch.Tensor]:
    """Every tensor of an export (or a fine-tuned model folder): backbone and heads."""
    from safetensors.torch import load_file

    state = load_file(str(export / "model.safetensors"))
    state.update({f"heads.{k}": v for k, v in load_file(str(export / "heads.safetensors")).items()})
    return state


def prepared_tasks(root: Path, names: list[str], cache_dir: Path) -> list[Any]:
    """The tiny tasks ``names`` read and featurized for the tiny BERT (max_length 48)."""
    from muppet.backbone import Backbone
    from muppet.data.pipeline import prepare_tasks
    from muppet.families import FeatureSettings
    from muppet.model import MultiTaskModel
    from muppet.tasks.spec import get_task

    specs = [get_task(n) for n in names]
    heads = MultiTaskModel(Backbone.from_pretrained(str(root / "tiny-bert")), specs).head_keys
    return prepare_tasks(specs, heads, tokenizer(), FeatureSettings(max_length=48, doc_stride=16), progress=False,
                         data_dir=str(root / "data"), cache_dir=str(cache_dir))


# --- tiny task data, in the formats of real tasks ---------------------------------------------
def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def cls_rows(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """A learnable pair task: 'yes' in the hypothesis means entailment."""
    import random

    rng = random.Random(seed)
    nouns = ["cat", "dog", "man", "woman", "boy", "girl", "car", "house"]
    verbs = ["sat", "ran", "ate", "saw", "went", "played"]
    rows = []
    for i in range(n):
        a, v = rng.choice(nouns), rng.choice(verbs)
        label = i % 2
        rows.append({"premise": f"the {a} {v} in the park {seed} {i}", "hypothesis": f"{'yes' if label == 0 else 'no'} the {a} {v}",
                     "label": ["entailment", "not_entailment"][label], "idx": i})
    return rows


def mc_rows(n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        k = 2 + i % 3  # 2..4 options
        label = i % k
        choices = [f"the {w} was red" if j == label else f"the {w} was blue" for j, w in zip(range(k), ["cat", "dog", "car", "book"])]
        rows.append({"context": f"story {i} : the one that was red", "question": "which was red ?", "choices": choices, "label": label})
    return rows


def qa_rows(n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        filler = " ".join(["the sun was big and the river was old ."] * (1 + i % 4))
        answer = ["the red car", "a small dog", "three books"][i % 3]
        context = f"{filler} then she found {answer} in the city . {filler}"
        rows.append({"id": f"q{i}", "context": context, "question": "what did she find ?",
                     "answers": {"text": [answer], "answer_start": [context.index(answer)]}})
    return rows


def sum_rows(n: int) -> list[dict[str, Any]]:
    return [{"document": f"the {w} sat on the mat . it was happy . then it ran to the park .", "summary": f"the {w} sat"}
            for w in ["cat", "dog", "man", "boy", "girl", "woman"] * (n // 6 + 1)][:n]


def register_tiny_tasks() -> None:
    """Test-only tasks over jsonl files under ``<data_dir>/tiny_*`` (registered once)."""
    from muppet.tasks.spec import TASKS, LocalSource, TaskSpec, register

    if "tiny_cls" in TASKS:
        return
    register(TaskSpec("tiny_cls", "classification", labels=("entailment", "not_entailment"),
                      local=LocalSource("jsonl", {"train": ("train.jsonl",), "dev": ("dev.jsonl",)},
                                        columns={"text_a": "premise", "text_b": "hypothesis", "label": "label"})))
    register(TaskSpec("tiny_reg", "classification", label_range=(0.0, 5.0),
                      local=LocalSource("jsonl", {"train": ("train.jsonl",)},
                                        columns={"text_a": "a", "text_b": "b", "label": "score"})))
    register(TaskSpec("tiny_mc", "multiple_choice", local=LocalSource("jsonl", {"train": ("train.jsonl",)})))
    register(TaskSpec("tiny_qa", "extractive_qa", local=LocalSource("jsonl", {"train": ("train.jsonl",)})))
    register(TaskSpec("tiny_sum", "summarization", local=LocalSource("jsonl", {"train": ("train.jsonl",)})))


def write_tiny_data(root: Path, n: int = 40) -> Path:
    register_tiny_tasks()
    write_jsonl(root / "tiny_cls" / "train.jsonl", cls_rows(n))
    write_jsonl(root / "tiny_cls" / "dev.jsonl", cls_rows(12, seed=1))
    write_jsonl(root / "tiny_reg" / "train.jsonl",
                [{"a": f"the {w} sat", "b": f"the {w} ran", "score": (i % 6) * 0.9} for i, w in enumerate(["cat", "dog", "boy"] * (n // 3))])
    write_jsonl(root / "tiny_mc" / "train.jsonl", mc_rows(n))
    write_jsonl(root / "tiny_qa" / "train.jsonl", qa_rows(n))
    write_jsonl(root / "tiny_sum" / "train.jsonl", sum_rows(n))
    return root


def write_task_files(root: Path, data: Path) -> list[str]:
    """Task files (YAML) over the tiny data, for runs in a subprocess (no test registry there)."""
    import yaml

    specs = {
        "file_cls": {"family": "classification", "labels": ["entailment", "not_entailment"],
                     "local": {"format": "jsonl", "directory": str(data / "tiny_cls"),
                               "splits": {"train": "train.jsonl", "dev": "dev.jsonl"},
                               "columns": {"text_a": "premise", "text_b": "hypothesis", "label": "label"}}},
        "file_reg": {"family": "classification", "label_range": [0.0, 5.0],
                     "local": {"format": "jsonl", "directory": str(data / "tiny_reg"), "splits": {"train": "train.jsonl"},
                               "columns": {"text_a": "a", "text_b": "b", "label": "score"}}},
        "file_mc": {"family": "multiple_choice",
                    "local": {"format": "jsonl", "directory": str(data / "tiny_mc"), "splits": {"train": "train.jsonl"}}},
    }
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, spec in specs.items():
        path = root / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"name": name, **spec}))
        paths.append(str(path))
    return paths
