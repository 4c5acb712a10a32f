"""The classification catalogue: every task's reader on tiny invented fixtures, bad records,
and (when the data is present) every declared split of the real data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from muppet.errors import DataError
from muppet.tasks.formats.classification import mark_wsc, unquote_csv_field
from muppet.tasks.loading import read_split
from muppet.tasks.spec import get_task

TASKS = (
    "rte cola sst2 mrpc stsb qnli mnli boolq cb multirc wic wsc mc_taco ag_news imdb yelp_polarity "
    "snli rotten_tomatoes sst5 cr subj mpqa dbpedia anli"
).split()
# Hub rows of these tasks need more than a column mapping (joined or marked texts, nested records).
NO_HUB = {"mpqa"}  # the others load from the hub too (row adapters: tests/tasks/test_catalog_hub.py)


def write(root: Path, task: str, name: str, text: str, *, bom: bool = False, crlf: bool = False) -> Path:
    path = root / task / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if crlf:
        text = text.replace("\n", "\r\n")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def jsonl(*records: object) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def load(task: str, split: str, root: Path) -> list[dict]:
    return read_split(get_task(task), split, root, source="local").records


def triples(records: list[dict]) -> list[tuple]:
    return [(r["text_a"], r["text_b"], r["label"]) for r in records]


def expect_error(task: str, split: str, root: Path, *fragments: str) -> str:
    with pytest.raises(DataError) as info:
        load(task, split, root)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


# --------------------------------------------------------------------------- specs


@pytest.mark.parametrize("name", TASKS)
def test_spec_is_well_formed(name: str) -> None:
    spec = get_task(name)
    assert spec.name == name and spec.family in ("classification", "regression")  # the file declares both
    assert spec.description
    assert spec.local is not None and "train" in spec.local.splits
    assert bool(spec.labels) != (spec.family == "regression")
    assert (spec.hub is None) == (name in NO_HUB)
    if spec.local.label_map:
        assert set(spec.local.label_map.values()) <= set(spec.labels)
    if spec.metric:
        assert spec.metric in {"mcc", "pearson", "f1_macro"}


# --------------------------------------------------------------------------- GLUE


def test_cola_headerless_and_dev_from_two_files(tmp_path: Path) -> None:
    write(tmp_path, "cola", "in_domain_train.tsv", "src1\t1\t\tThe cat slept.\nsrc1\t0\t*\tCat the slept.\n")
    write(tmp_path, "cola", "in_domain_dev.tsv", "src2\t1\t\tBirds sing.\n")
    write(tmp_path, "cola", "out_of_domain_dev.tsv", "src3\t0\t*\tSing birds the.")  # no final newline
    assert triples(load("cola", "train", tmp_path)) == [("The cat slept.", None, 1), ("Cat the slept.", None, 0)]
    assert triples(load("cola", "dev", tmp_path)) == [("Birds sing.", None, 1), ("Sing birds the.", None, 0)]
    assert get_task("cola").metric == "mcc"


def test_cola_bad_label_and_column_count(tmp_path: Path) -> None:
    write(tmp_path, "cola", "in_domain_train.tsv", "src1\t2\t\tFine.\nsrc1\t1\tOnly three\n")
    expect_error(
        "cola", "train", tmp_path, "in_domain_train.tsv:1", "'2'", "in_domain_train.tsv:2", "expected 4 columns"
    )


def test_sst2_splits_and_crlf_test(tmp_path: Path) -> None:
    write(tmp_path, "sst2", "train.tsv", "sentence\tlabel\na warm film \t1\ndull \"and\" slow \t0\n")
    write(tmp_path, "sst2", "dev.tsv", "sentence\tlabel\nlovely .\t1\n")
    write(tmp_path, "sst2", "test-labeled.tsv", "sentence\tlabel\nflat .\t0\nbright .\t1\n", crlf=True)
    assert triples(load("sst2", "train", tmp_path)) == [("a warm film ", None, 1), ('dull "and" slow ', None, 0)]
    assert triples(load("sst2", "test", tmp_path)) == [("flat .", None, 0), ("bright .", None, 1)]
    assert len(load("sst2", "dev", tmp_path)) == 1


def test_mrpc_bom_header_and_quotes(tmp_path: Path) -> None:
    head = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
    write(
        tmp_path,
        "mrpc",
        "msr_paraphrase_train.txt",
        head + '1\t11\t12\tHe said "yes" today.\tToday he said "yes".\n0\t13\t14\t"Odd start\tplain end\n',
        bom=True,
    )
    write(tmp_path, "mrpc", "msr_paraphrase_test.txt", head + "1\t15\t16\tA b.\tB a.\n", bom=True)
    assert triples(load("mrpc", "train", tmp_path)) == [
        ('He said "yes" today.', 'Today he said "yes".', 1),
        ('"Odd start', "plain end", 0),
    ]
    assert triples(load("mrpc", "test", tmp_path)) == [("A b.", "B a.", 1)]
    assert "dev" not in get_task("mrpc").local.splits


def test_stsb_regression(tmp_path: Path) -> None:
    head = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
    write(tmp_path, "stsb", "train.tsv", head + "0\tg\tf\t2012\t1\tnone\tnone\tA dog runs.\tA dog is running.\t4.750\n")
    row = "{}\tg\tf\t2012\t1\tnone\tnone\tA.\tB.\t{}\n"
    write(tmp_path, "stsb", "dev.tsv", head + row.format(0, "5.5") + row.format(1, "x"))
    [record] = load("stsb", "train", tmp_path)
    assert record["text_a"] == "A dog runs." and math.isclose(record["label"], 4.75)
    expect_error("stsb", "dev", tmp_path, "dev.tsv:2", "outside the label range", "dev.tsv:3", "expected a number")


def test_qnli_mnli_snli_pairs(tmp_path: Path) -> None:
    write(tmp_path, "qnli", "dev.tsv", "index\tquestion\tsentence\tlabel\n0\tWho won?\tThe red team won.\tentailment\n")
    write(tmp_path, "mnli", "mnli_matched", "neutral\tA man walks .\tA man walks home .\n")
    write(tmp_path, "mnli", "mnli_mismatched", "contradiction\tIt rains .\tIt is dry .\n")
    write(tmp_path, "snli", "snli", "entailment\tTwo kids play .\tKids play .\n")
    assert triples(load("qnli", "train", tmp_path)) == [("Who won?", "The red team won.", 0)]
    assert triples(load("mnli", "train", tmp_path)) == [
        ("A man walks .", "A man walks home .", 1),
        ("It rains .", "It is dry .", 2),
    ]
    assert triples(load("snli", "train", tmp_path)) == [("Two kids play .", "Kids play .", 0)]


def test_mnli_bad_label(tmp_path: Path) -> None:
    write(tmp_path, "mnli", "mnli_matched", "neutral\tA .\tB .\n-\tC .\tD .\n")
    write(tmp_path, "mnli", "mnli_mismatched", "neutral\tE .\n")
    expect_error("mnli", "train", tmp_path, "mnli_matched:2", "not one of", "mnli_mismatched:1", "expected 3 columns")


# --------------------------------------------------------------------------- SuperGLUE


def _fewglue(root: Path, task: str, val: list, train: list, dev32: list) -> None:
    write(root, task, "val.jsonl", jsonl(*val))
    write(root, task, "fewglue/train.jsonl", jsonl(*train))
    write(root, task, "fewglue/dev32.jsonl", jsonl(*dev32))


def test_boolq_pool_and_passage_group(tmp_path: Path) -> None:
    p1, p2 = "Lakes -- Some lakes are salty.", "Rivers -- Rivers flow."
    _fewglue(
        tmp_path,
        "boolq",
        [{"question": "are lakes salty", "passage": p1, "label": True, "idx": 0}],
        [{"question": "are all lakes fresh", "passage": p1, "label": False, "idx": 5}],
        [{"question": "do rivers flow", "passage": p2, "label": True, "idx": 9}],
    )
    records = load("boolq", "train", tmp_path)
    assert triples(records) == [(p1, "are lakes salty", 1), (p1, "are all lakes fresh", 0), (p2, "do rivers flow", 1)]
    assert [r["group"] for r in records] == [p1, p1, p2]


def test_boolq_bad_json_and_missing_field(tmp_path: Path) -> None:
    write(tmp_path, "boolq", "val.jsonl", '{"question": "q", "passage": "p", "label": true}\n{"question": \n')
    write(tmp_path, "boolq", "fewglue/train.jsonl", jsonl({"question": "q2", "label": False}))
    write(tmp_path, "boolq", "fewglue/dev32.jsonl", "")
    expect_error("boolq", "train", tmp_path, "val.jsonl:2", "invalid JSON", "fewglue/train.jsonl:1", "'passage'")


def test_cb_train_and_dev(tmp_path: Path) -> None:
    write(tmp_path, "cb", "train.jsonl", jsonl({"premise": "P.", "hypothesis": "h", "label": "neutral", "idx": 0}))
    write(tmp_path, "cb", "val.jsonl", jsonl({"premise": "Q.", "hypothesis": "g", "label": "contradiction", "idx": 0}))
    assert triples(load("cb", "train", tmp_path)) == [("P.", "h", 2)]
    assert triples(load("cb", "dev", tmp_path)) == [("Q.", "g", 1)]
    assert get_task("cb").local.splits["train"] == ("train.jsonl",)  # fewglue/ are subsets of it


def _multirc_line(idx: int, text: str, questions: list) -> dict:
    return {"idx": idx, "version": 1.1, "passage": {"text": text, "questions": questions}}


def test_multirc_expands_each_answer(tmp_path: Path) -> None:
    answers = [{"text": "Ann", "idx": 0, "label": 1}, {"text": "Bo", "idx": 1, "label": 0}]
    q1 = {"question": "Who sang?", "idx": 0, "answers": answers}
    q2 = {"question": "Where?", "idx": 1, "answers": [{"text": "At home", "idx": 2, "label": 1}]}
    q3 = {"question": "When?", "idx": 0, "answers": [{"text": "Noon", "idx": 0, "label": 0}]}
    val, train = [_multirc_line(0, "Ann sang at home.", [q1, q2])], [_multirc_line(0, "Bo ate at noon.", [q3])]
    _fewglue(tmp_path, "multirc", val, train, [])
    records = load("multirc", "train", tmp_path)
    assert triples(records) == [
        ("Ann sang at home.", "Who sang? Ann", 1),
        ("Ann sang at home.", "Who sang? Bo", 0),
        ("Ann sang at home.", "Where? At home", 1),
        ("Bo ate at noon.", "When? Noon", 0),
    ]
    # Same idx in two files, different passages: the group must still tell them apart.
    assert [r["group"] for r in records] == ["Ann sang at home."] * 3 + ["Bo ate at noon."]


def test_multirc_bad_records(tmp_path: Path) -> None:
    no_label = {"question": "Q?", "idx": 0, "answers": [{"text": "A", "idx": 0}]}
    bad_label = {"question": "Q?", "idx": 0, "answers": [{"text": "A", "idx": 0, "label": 7}]}
    _fewglue(
        tmp_path,
        "multirc",
        [_multirc_line(0, "Text one.", [no_label]), {"idx": 1, "passage": {"text": "Text two."}}],
        [_multirc_line(2, "Text three.", [bad_label])],
        [],
    )
    expect_error(
        "multirc",
        "train",
        tmp_path,
        "val.jsonl:1",
        "question 1: answer 1: missing field 'label'",
        "val.jsonl:2",
        "missing field 'questions'",
        "fewglue/train.jsonl:1",
        "outside the label space",
    )


def test_wic_prepends_the_word(tmp_path: Path) -> None:
    rec = {"word": "bank", "sentence1": "He sat on the bank.", "sentence2": "The bank was closed.", "label": False}
    _fewglue(tmp_path, "wic", [rec], [{**rec, "word": "seat", "label": True}], [])
    assert triples(load("wic", "train", tmp_path)) == [
        ("bank: He sat on the bank.", "The bank was closed.", 0),
        ("seat: He sat on the bank.", "The bank was closed.", 1),
    ]


def test_wic_bad_records(tmp_path: Path) -> None:
    _fewglue(
        tmp_path,
        "wic",
        [
            {"word": "x", "sentence1": "A x.", "label": True},
            {"word": 3, "sentence1": "a", "sentence2": "b", "label": True},
        ],
        [],
        [{"word": "y", "sentence1": "A y.", "sentence2": "B y.", "label": "maybe"}],
    )
    expect_error(
        "wic",
        "train",
        tmp_path,
        "val.jsonl:1",
        "'sentence2'",
        "val.jsonl:2",
        "expected text",
        "dev32.jsonl:1",
        "'maybe'",
    )


def _wsc(text: str, c_text: str, c_index: int, p_text: str, p_index: int, label: bool) -> dict:
    target = {"span1_index": c_index, "span1_text": c_text, "span2_index": p_index, "span2_text": p_text}
    return {"text": text, "target": target, "idx": 0, "label": label}


def test_wsc_marks_candidate_and_pronoun(tmp_path: Path) -> None:
    text = "The owl watched the mouse , because it was hungry."
    _fewglue(
        tmp_path,
        "wsc",
        [_wsc(text, "The owl", 0, "it", 7, True), _wsc(text, "the mouse", 3, "it", 7, False)],
        [_wsc("Jo met Al, and he smiled.", "Al", 2, "he", 4, True)],
        [_wsc("Kim hugged Lee because she was sad.", "Kim", 0, "she", 5, False)],  # pronoun index off by one
    )
    records = load("wsc", "train", tmp_path)
    assert triples(records) == [
        ("*The owl* watched the mouse , because *it* was hungry.", None, 1),
        ("The owl watched *the mouse* , because *it* was hungry.", None, 0),
        ("Jo met *Al*, and *he* smiled.", None, 1),
        ("*Kim* hugged Lee because *she* was sad.", None, 0),
    ]
    assert records[0]["group"] == records[1]["group"] == text


def test_wsc_nested_pronoun() -> None:
    target = {"span1_index": 2, "span1_text": "their dogs", "span2_index": 2, "span2_text": "their"}
    assert mark_wsc("Ann and their dogs ran.", target) == "Ann and **their* dogs* ran."


def test_wsc_bad_records(tmp_path: Path) -> None:
    _fewglue(
        tmp_path,
        "wsc",
        [_wsc("Al saw Bo.", "Cy", 0, "he", 1, True), {"text": "No target here.", "label": True}],
        [],
        [_wsc("Al told Bo he won.", "Al", 0, "he", "three", True)],
    )
    expect_error(
        "wsc",
        "train",
        tmp_path,
        "val.jsonl:1",
        "does not occur in the text",
        "val.jsonl:2",
        "missing field 'target'",
        "dev32.jsonl:1",
        "integer word index",
    )


# --------------------------------------------------------------------------- other tasks


def test_mc_taco_rows_and_groups(tmp_path: Path) -> None:
    rows = (
        "Sam baked bread.\tHow long did it take?\ttwo hours\tyes\tEvent Duration\n"
        "Sam baked bread.\tHow long did it take?\tten years\tno\tEvent Duration\n"
        "Sam baked bread.\tWhen did Sam eat?\tat dinner\tyes\tTypical Time\n"
    )
    write(tmp_path, "mc_taco", "dev_3783.tsv", rows)
    write(tmp_path, "mc_taco", "test_9442.tsv", rows.splitlines()[0] + "\n")
    records = load("mc_taco", "train", tmp_path)
    assert triples(records) == [
        ("Sam baked bread.", "How long did it take? two hours", 1),
        ("Sam baked bread.", "How long did it take? ten years", 0),
        ("Sam baked bread.", "When did Sam eat? at dinner", 1),
    ]
    assert records[0]["group"] == records[1]["group"] != records[2]["group"]
    assert len(load("mc_taco", "test", tmp_path)) == 1


def test_mc_taco_bad_rows(tmp_path: Path) -> None:
    write(tmp_path, "mc_taco", "dev_3783.tsv", "S.\tQ?\tA\tmaybe\tCat\nS.\tQ?\tA\n")
    expect_error("mc_taco", "train", tmp_path, "dev_3783.tsv:1", "'maybe'", "dev_3783.tsv:2", "expected 5 columns")


def test_ag_news_joins_title_and_description(tmp_path: Path) -> None:
    write(
        tmp_path,
        "ag_news",
        "test.csv",
        'Class Index,Title,Description\n3,Shares rise,"Markets, banks gain"\n2,Cup final,"Team ""A"" wins\\again"\n',
    )
    assert triples(load("ag_news", "train", tmp_path)) == [
        ("Shares rise Markets, banks gain", None, 2),
        ('Cup final Team "A" wins\\again', None, 1),
    ]


def test_ag_news_bad_rows(tmp_path: Path) -> None:
    write(tmp_path, "ag_news", "test.csv", "Class Index,Title,Description\n5,T,D\n1,only title\n")
    expect_error("ag_news", "train", tmp_path, "test.csv:2", "'5'", "test.csv:3", "expected 3 columns")


@pytest.mark.parametrize(("task", "name"), [("imdb", "imdb"), ("yelp_polarity", "yelp")])
def test_label_text_samples(tmp_path: Path, task: str, name: str) -> None:
    write(tmp_path, task, name, '1 a fine , fun visit .\n0 "cold food \\n\\nslow service"\n\n')
    assert triples(load(task, "train", tmp_path)) == [
        ("a fine , fun visit .", None, 1),
        ('"cold food \\n\\nslow service"', None, 0),
    ]
    write(tmp_path, task, name, "1 ok\n2 odd label\nlonely\n")
    expect_error(task, "train", tmp_path, f"{name}:2", "'2'", f"{name}:3", "expected a label")


def test_unquote_csv_field() -> None:
    assert unquote_csv_field('"plain ."') == "plain ."
    assert unquote_csv_field('" "" quoted "" title ."') == ' " quoted " title .'
    assert unquote_csv_field('"a" said "b"') == '"a" said "b"'  # a real quotation stays
    assert unquote_csv_field('no quotes') == "no quotes"


def test_lmbff_jsonl_unquotes(tmp_path: Path) -> None:
    train = jsonl({"sentence": '"sharp , "" witty "" ."', "label": "1"}, {"sentence": "flat .", "label": "0"})
    write(tmp_path, "rotten_tomatoes", "train_full.jsonl", train)
    write(tmp_path, "rotten_tomatoes", "test.jsonl", jsonl({"sentence": '"dull ."', "label": "0"}))
    expected = [('sharp , " witty " .', None, 1), ("flat .", None, 0)]
    assert triples(load("rotten_tomatoes", "train", tmp_path)) == expected
    assert triples(load("rotten_tomatoes", "test", tmp_path)) == [("dull .", None, 0)]


def test_sst5_subj_mpqa_labels(tmp_path: Path) -> None:
    for split, name in (("train", "train_full.jsonl"), ("dev", "dev.jsonl"), ("test", "test.jsonl")):
        lines = jsonl({"sentence": f"{split} one .", "label": "4"}, {"sentence": "meh .", "label": "2"})
        write(tmp_path, "sst5", name, lines)
    assert [r["label"] for r in load("sst5", "dev", tmp_path)] == [4, 2]
    assert get_task("sst5").labels[4] == "very positive"
    for task in ("subj", "mpqa"):
        write(tmp_path, task, "train_full.jsonl", jsonl({"sentence": "it rains .", "label": "1"}))
        write(tmp_path, task, "test.jsonl", jsonl({"sentence": "i adore it .", "label": "0"}))
        assert triples(load(task, "train", tmp_path)) == [("it rains .", None, 1)]
    assert get_task("subj").labels == ("subjective", "objective")


def test_cr_skips_empty_reviews_only(tmp_path: Path) -> None:
    train = jsonl({"sentence": '" "', "label": "0"}, {"sentence": "works well .", "label": "1"})
    write(tmp_path, "cr", "train_full.jsonl", train)
    write(tmp_path, "cr", "test.jsonl", jsonl({"sentence": "broke .", "label": "neg"}))
    assert triples(load("cr", "train", tmp_path)) == [("works well .", None, 1)]
    expect_error("cr", "test", tmp_path, "test.jsonl:1", "'neg'")
    # Elsewhere an empty text is an error, not skipped.
    write(tmp_path, "mpqa", "train_full.jsonl", jsonl({"sentence": '" "', "label": "0"}))
    expect_error("mpqa", "train", tmp_path, "train_full.jsonl:1", "empty text")


def test_dbpedia_label_names(tmp_path: Path) -> None:
    write(tmp_path, "dbpedia", "train.jsonl", jsonl({"sentence": " Acme Corp makes anvils.", "label": "1"}))
    dev = jsonl({"sentence": "A novel.", "label": "14"}, {"sentence": "X.", "label": "15"})
    write(tmp_path, "dbpedia", "dev_subsample.jsonl", dev)
    assert triples(load("dbpedia", "train", tmp_path)) == [(" Acme Corp makes anvils.", None, 0)]
    expect_error("dbpedia", "dev", tmp_path, "dev_subsample.jsonl:2", "'15'")
    assert get_task("dbpedia").labels[13] == "WrittenWork"


def test_anli_csv_rounds(tmp_path: Path) -> None:
    r1 = 'context,statement,reason,gold_label,uid\n"Ann, a cook, ""wins"".",Ann cooks,r,e,u1\n'
    write(tmp_path, "anli", "ANLI_analysis_r1_dev.csv", r1)
    # Another round orders the columns differently and has a field spanning lines.
    r2 = (
        'uid,gold_label,statement,context\nu2,c,Bo is tall,"Bo is short.\nVery short."\n'
        'u3,n,Bo sings,"Bo is short.\nVery short."\n'
    )
    write(tmp_path, "anli", "ANLI_analysis_r2_dev.csv", r2)
    write(tmp_path, "anli", "ANLI_analysis_r3_dev.csv", "context,statement,gold_label\n")
    records = load("anli", "train", tmp_path)
    assert triples(records) == [
        ('Ann, a cook, "wins".', "Ann cooks", 0),
        ("Bo is short.\nVery short.", "Bo is tall", 2),
        ("Bo is short.\nVery short.", "Bo sings", 1),
    ]
    assert records[1]["group"] == records[2]["group"]


def test_anli_bad_rows(tmp_path: Path) -> None:
    write(tmp_path, "anli", "ANLI_analysis_r1_dev.csv", "context,statement,gold_label\nP.,H,x\nP.,,e\n")
    write(tmp_path, "anli", "ANLI_analysis_r2_dev.csv", "context,statement,gold_label\n")
    write(tmp_path, "anli", "ANLI_analysis_r3_dev.csv", "context,gold_label\nP.,e\n")
    expect_error(
        "anli",
        "train",
        tmp_path,
        "ANLI_analysis_r1_dev.csv:2",
        "'x'",
        "r1_dev.csv:3",
        "empty text",
        "r3_dev.csv:2",
        "'statement'",
    )


# --------------------------------------------------------------------------- real data

REAL_COUNTS = {
    "rte": {"train": 2490, "dev": 277},
    "cola": {"train": 8551, "dev": 1043},
    "sst2": {"train": 67349, "dev": 872, "test": 1821},
    "mrpc": {"train": 4076, "test": 1725},
    "stsb": {"train": 5749, "dev": 1500},
    "qnli": {"train": 5463},
    "mnli": {"train": 2000},
    "boolq": {"train": 3270 + 32 + 32},
    "cb": {"train": 250, "dev": 56},
    "multirc": {"train": 5169},  # answer options: 4,848 in val + 321 in the 64 FewGLUE passages
    "wic": {"train": 638 + 32 + 32},
    "wsc": {"train": 104 + 32 + 32},
    "mc_taco": {"train": 3783, "test": 9442},
    "ag_news": {"train": 7600},
    "imdb": {"train": 1000},
    "yelp_polarity": {"train": 1000},
    "snli": {"train": 1000},
    "rotten_tomatoes": {"train": 8662, "test": 2000},
    "sst5": {"train": 8544, "dev": 1101, "test": 2210},
    "cr": {"train": 1775 - 3, "test": 2000 - 1},  # empty reviews dropped
    "subj": {"train": 8000, "test": 2000},
    "mpqa": {"train": 8603, "test": 2000},
    "dbpedia": {"train": 64, "dev": 256},
    "anli": {"train": 1000 + 1000 + 1198},
}


def test_real_counts_cover_every_task() -> None:
    assert sorted(REAL_COUNTS) == sorted(TASKS)
    for name, counts in REAL_COUNTS.items():
        assert sorted(counts) == sorted(get_task(name).local.splits), name


@pytest.mark.parametrize("name", TASKS)
def test_real_data_loads_strictly(real_data_dir: Path, name: str) -> None:
    spec = get_task(name)
    assert spec.local_splits(real_data_dir) == [s for s in ("train", "dev", "test") if s in spec.local.splits]
    for split, expected in REAL_COUNTS[name].items():
        result = read_split(spec, split, real_data_dir, source="local", on_bad_record="error")
        records = result.records
        assert len(records) == expected, (name, split)
        assert not result.skipped
        for r in records:
            assert r["text_a"].strip()
            assert r["text_b"] is None or r["text_b"].strip()
            if spec.family == "regression":
                assert 0.0 <= r["label"] <= 5.0
            else:
                assert 0 <= r["label"] < len(spec.labels)
        if spec.family != "regression" and len(records) >= 100:
            assert len({r["label"] for r in records}) == len(spec.labels), (name, split)


def test_real_wsc_marks_every_record(real_data_dir: Path) -> None:
    records = read_split(get_task("wsc"), "train", real_data_dir, source="local").records
    assert all(r["text_a"].count("*") == 4 for r in records)


def test_real_lmbff_quotes_are_undone(real_data_dir: Path) -> None:
    for name in ("rotten_tomatoes", "sst5", "cr", "subj", "mpqa"):
        for split in get_task(name).local.splits:
            records = read_split(get_task(name), split, real_data_dir, source="local").records
            assert not any(r["text_a"].startswith('"') and r["text_a"].endswith('"') for r in records), (name, split)
