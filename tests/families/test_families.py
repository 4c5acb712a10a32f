"""Each family end to end on tiny BERT-, BART- and T5-like models: featurize -> collate ->
backbone + head -> loss (with its ln n) -> backward -> predict -> decode -> metrics."""

from __future__ import annotations

import math

import pytest
import tiny
import torch

from muppet.backbone import Backbone
from muppet.data.batching import collate
from muppet.families import FeatureSettings, SplitCheck, get_family
from muppet.model import MultiTaskModel
from muppet.tasks.formats.base import RecordError
from muppet.tasks.spec import HubSource, TaskSpec
from muppet.train.objective import mixed_loss

HUB = HubSource("none/none")
SPECS = {
    "cls": TaskSpec("t_cls", "classification", hub=HUB, labels=("entailment", "not_entailment")),
    "reg": TaskSpec("t_reg", "classification", hub=HUB, label_range=(0.0, 5.0)),
    "mc": TaskSpec("t_mc", "multiple_choice", hub=HUB),
    "qa": TaskSpec("t_qa", "extractive_qa", hub=HUB),
    "qa2": TaskSpec("t_qa2", "extractive_qa", hub=HUB, options={"unanswerable": True}),
    "sum": TaskSpec("t_sum", "summarization", hub=HUB),
}
SETTINGS = FeatureSettings(max_length=48, doc_stride=16, max_target_length=12, max_new_tokens=6)


def records(kind: str) -> list[dict]:
    fam = get_family(SPECS[kind].family)
    raw = {
        "cls": [{"text_a": r["premise"], "text_b": r["hypothesis"], "label": r["label"]} for r in tiny.cls_rows(6)],
        "reg": [{"text_a": "the cat sat", "text_b": "the dog sat", "label": v} for v in (0.0, 2.5, 5.0, 1.0)],
        "mc": tiny.mc_rows(5),
        "qa": tiny.qa_rows(5),
        "qa2": tiny.qa_rows(3) + [{"id": "x", "context": "the sun was big .", "question": "who ran ?", "answers": {"text": [], "answer_start": []}}],
        "sum": tiny.sum_rows(4),
    }[kind]
    return [fam.make_record(r, SPECS[kind]) for r in raw]


def build(kind_model: str) -> tuple[MultiTaskModel, object]:
    torch.manual_seed(0)
    backbone = Backbone.from_config(tiny.CONFIGS[kind_model]())
    specs = [s for k, s in SPECS.items() if kind_model != "bert" or k != "sum"]
    return MultiTaskModel(backbone, specs), tiny.tokenizer()


CASES = [(m, k) for m in ("bert", "bart", "t5") for k in SPECS if not (m == "bert" and k == "sum")]


@pytest.mark.parametrize("model_kind,kind", CASES)
def test_family_path(model_kind: str, kind: str) -> None:
    model, tok = build(model_kind)
    spec = SPECS[kind]
    fam = get_family(spec.family)
    recs = records(kind)
    train_feats = fam.featurize(recs, spec, tok, SETTINGS, train=True)
    eval_feats = fam.featurize(recs, spec, tok, SETTINGS, train=False)
    assert len(train_feats) >= len(recs) and all(len(r) <= SETTINGS.max_length for f in train_feats for r in f["rows"])
    bb = model.backbone
    batch = collate([(spec, model.head_keys[spec.name], train_feats)], bb.pad_token_id, bb.is_encoder_decoder, bb.decoder_start_token_id)
    outputs = model(batch)
    loss, stats = mixed_loss(batch, outputs, "log")
    assert torch.isfinite(loss) and stats[spec.name][0] == len(train_feats)
    loss.backward()
    head = model.head(model.head_keys[spec.name])
    grads = [p.grad for p in (head.parameters() if head is not None else bb.model.get_output_embeddings().parameters())]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in bb.parameters())

    model.eval()
    batch = collate([(spec, model.head_keys[spec.name], eval_feats)], bb.pad_token_id, bb.is_encoder_decoder, bb.decoder_start_token_id)
    with torch.no_grad():
        raw = fam.predict_batch(model, batch, eval_feats, spec, SETTINGS, tok)
    assert len(raw) == len(eval_feats)
    preds = fam.decode(recs, eval_feats, raw, spec)
    assert len(preds) == len(recs) and None not in preds
    scores = fam.metrics(preds, recs, spec)
    # a family returns exactly the metrics it declares, the headline among them
    assert set(scores) == set(fam.metric_names) and fam.metric_name(spec) in scores
    assert all(isinstance(v, float) for v in scores.values())
    assert set(scores) <= set(fam.metric_units)  # every metric has a declared unit (reports scale by it)
    ref = fam.chance(recs, spec)
    assert set(ref) == {"random", "trivial"}


def test_loss_scale_n_per_family() -> None:
    tok = tiny.tokenizer()
    def log_n(kind: str) -> torch.Tensor:
        spec = SPECS[kind]
        fam = get_family(spec.family)
        feats = fam.featurize(records(kind), spec, tok, SETTINGS, train=True)
        return fam.collate(feats, spec, 64, 16)["log_n"], feats

    cls, _ = log_n("cls")
    assert torch.allclose(cls, torch.tensor(math.log(2)))
    reg, _ = log_n("reg")
    assert torch.allclose(reg, torch.tensor(1.0))  # regression: n = e, no division
    mc, feats = log_n("mc")
    assert mc.tolist() == pytest.approx([math.log(len(f["rows"])) for f in feats])  # 2, 3, 4 options mixed
    qa, feats = log_n("qa")
    assert qa.tolist() == pytest.approx([math.log(1 + f["span"][1] - f["span"][0] + 1) for f in feats])
    summ, _ = log_n("sum")
    assert torch.allclose(summ, torch.tensor(math.log(len(tok))))


def test_mixed_loss_scaling_on_and_off() -> None:
    model, tok = build("bert")
    groups = []
    for kind in ("cls", "mc", "qa"):
        spec = SPECS[kind]
        groups.append((spec, model.head_keys[spec.name], get_family(spec.family).featurize(records(kind), spec, tok, SETTINGS, True)))
    batch = collate(groups, 0)
    assert [s.task for s in batch.segments] == ["t_cls", "t_mc", "t_qa"]
    outputs = model(batch)
    scaled, stats = mixed_loss(batch, outputs, "log")
    plain, _ = mixed_loss(batch, outputs, "none")
    raw_sum = sum(v[1] for v in stats.values())
    scaled_sum = sum(v[2] for v in stats.values())
    n = sum(v[0] for v in stats.values())
    assert plain.item() == pytest.approx(raw_sum / n, rel=1e-5)
    assert scaled.item() == pytest.approx(scaled_sum / n, rel=1e-5)
    # at initialisation every ln-scaled loss sits near 1 (chance level)
    for task, (count, _, s) in stats.items():
        assert 0.5 < s / count < 1.6, task


def test_one_backbone_pass_per_mixed_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    model, tok = build("bert")
    calls = []
    original = model.backbone.model.forward
    monkeypatch.setattr(model.backbone.model, "forward", lambda *a, **k: calls.append(1) or original(*a, **k))
    groups = [(SPECS[k], model.head_keys[SPECS[k].name], get_family(SPECS[k].family).featurize(records(k), SPECS[k], tok, SETTINGS, True)) for k in ("cls", "reg", "mc", "qa")]
    model(collate(groups, 0))
    assert len(calls) == 1


@pytest.mark.parametrize("model_kind", ["bart", "t5"])
def test_lm_logits_match_the_models_own_forward(model_kind: str) -> None:
    torch.manual_seed(0)
    bb = Backbone.from_config(tiny.CONFIGS[model_kind]())
    bb.eval()
    ids = torch.tensor([[2, 10, 11, 12, 3], [2, 13, 14, 3, 0]])
    mask = (ids != 0).long()
    labels = torch.tensor([[20, 21, 3], [22, 3, 0]])
    dec = bb.shift_right(labels)
    ours = bb.lm_logits(bb(ids, mask, None, dec, None))
    ref = bb.model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits
    assert torch.allclose(ours, ref, atol=1e-5)


def test_bart_pooling_reads_the_last_eos() -> None:
    bb = Backbone.from_config(tiny.bart_config())
    states = torch.arange(2 * 6, dtype=torch.float).view(2, 6, 1)
    ids = torch.tensor([[2, 7, 3, 3, 8, 3], [2, 7, 8, 3, 0, 0]])
    pooled = bb.pool(states, ids, (ids != 0).long())
    assert pooled.squeeze(-1).tolist() == [5.0, 9.0]


def test_summarization_needs_an_encoder_decoder() -> None:
    from muppet.errors import ConfigError

    bb = Backbone.from_config(tiny.bert_config())
    with pytest.raises(ConfigError, match="encoder-decoder"):
        MultiTaskModel(bb, [SPECS["sum"]])


def test_qa_windows_and_offsets_map_back_to_the_answer() -> None:
    spec, fam, tok = SPECS["qa"], get_family("extractive_qa"), tiny.tokenizer()
    recs = records("qa")
    feats = fam.featurize(recs, spec, tok, SETTINGS, train=False)
    assert len(feats) > len(recs)  # long contexts become several windows
    for f in feats:
        rec = recs[f["example"]]
        if f["start"]:
            s, e = f["offsets"][f["start"]][0], f["offsets"][f["end"]][1]
            assert rec["context"][s:e] == rec["answers"]["text"][0]
    # perfect logits decode to the gold text
    logits = torch.full((len(feats), 64, 2), -1e4)
    for i, f in enumerate(feats):
        logits[i, f["start"], 0] = logits[i, f["end"], 1] = 10.0 if f["start"] else -5.0
        logits[i, 0] = 0.0
    raw = fam.predict(logits, feats, spec, SETTINGS)
    preds = fam.decode(recs, feats, raw, spec)
    assert preds == [r["answers"]["text"][0] for r in recs]
    assert fam.metrics(preds, recs, spec) == {"exact_match": 100.0, "f1": 100.0}


@pytest.mark.parametrize(
    "kind,fields,message",
    [
        ("cls", {"text_a": "x", "text_b": None, "label": "maybe"}, "not one of"),
        ("cls", {"text_a": "  ", "label": 0}, "empty"),
        ("reg", {"text_a": "x", "label": 7.5}, "outside the label range"),
        ("mc", {"choices": ["a"], "label": 0}, "at least 2"),
        ("mc", {"choices": ["a", "b"], "label": 2}, "outside"),
        ("qa", {"context": "abc def", "question": "q", "answers": {"text": ["xyz"], "answer_start": [0]}}, "does not match"),
        ("qa", {"context": "abc def", "question": "q", "answers": {"text": [], "answer_start": []}}, "no answer"),
        ("sum", {"document": "x", "summary": ""}, "empty"),
    ],
)
def test_make_record_rejects_malformed_records(kind: str, fields: dict, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        get_family(SPECS[kind].family).make_record(fields, SPECS[kind])


def test_qa_span_search_matches_a_direct_search() -> None:
    """The vectorised top-k span search returns what a plain double loop over the top-k finds."""
    spec, fam, tok = SPECS["qa"], get_family("extractive_qa"), tiny.tokenizer()
    feats = fam.featurize(records("qa"), spec, tok, SETTINGS, train=False)
    torch.manual_seed(0)
    length = max(len(f["rows"][0]) for f in feats)
    logits = torch.randn(len(feats), length, 2)
    for i, f in enumerate(feats):  # what forward() does: -inf outside position 0 and the context
        c0, c1 = f["span"]
        mask = torch.zeros(length, dtype=torch.bool)
        mask[0] = True
        mask[c0 : c1 + 1] = True
        logits[i][~mask] = float("-inf")
    settings = FeatureSettings(max_answer_length=5)
    fast = fam.predict(logits, feats, spec, settings)
    k = 20
    for f, lg, pred in zip(feats, logits, fast):
        s_log, e_log, off = lg[:, 0], lg[:, 1], f["offsets"]
        spans = []
        for s in s_log.topk(k).indices.tolist():
            for e in e_log.topk(k).indices.tolist():
                if s == 0 or e < s or e - s + 1 > 5 or s >= len(off) or e >= len(off) or off[s][0] < 0 or off[e][0] < 0:
                    continue
                score = float(s_log[s] + e_log[e])
                if score != float("-inf"):
                    spans.append((score, int(off[s][0]), int(off[e][1])))
        spans.sort(reverse=True)
        assert [(round(a, 4), b, c) for a, b, c in pred["spans"]] == [(round(a, 4), b, c) for a, b, c in spans[:20]]
        assert pred["null"] == pytest.approx(float(s_log[0] + e_log[0]))


def test_multiple_choice_split_check_names_1_based_labels_only_as_a_split_convention() -> None:
    family, spec = get_family("multiple_choice"), TaskSpec("mc_check", "multiple_choice", hub=HubSource("x/y"))

    def problem(labels: list[object]) -> str | None:
        check = family.split_check(spec)
        for i, label in enumerate(labels):
            fields = {"choices": ["a", "b", "c"], "label": label}
            try:
                check.record(family.make_record(fields, spec))
            except RecordError as exc:
                check.rejected(f"line {i + 1}", fields, exc)
        return check.problem()

    assert "1-based: 2 record(s)" in (problem([1, 3, 2, "3"]) or "") and "first: line 2" in (problem([1, 3, 2, "3"]) or "")
    assert problem([1, 3, 2, 0, 3]) is None  # a record naming option 0: the labels are 0-based, the 3s are errors
    assert problem([1, 3, 2]) is None  # one is a typo
    assert problem([1, 4, 5, 2]) is None  # beyond one past the last: not the 1-based pattern
    assert type(get_family("classification").split_check(spec)) is SplitCheck  # the default watches nothing
