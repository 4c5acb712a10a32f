"""Multiple-choice catalogue: every reader on tiny invented fixtures in the exact source layout,
malformed input, the specs themselves, and (when present) the real data's record counts."""

from __future__ import annotations

import bz2
import json
from pathlib import Path

import pytest

from muppet.errors import DataError
from muppet.tasks.loading import carve_heldout, read_split
from muppet.tasks.spec import get_task

MC_TASKS = (
    "copa",
    "piqa",
    "cosmos_qa",
    "commonsense_qa",
    "arc_easy",
    "arc_challenge",
    "openbookqa",
    "winogrande",
    "wsc273",
    "race",
    "mctest",
    "qasc",
    "quail",
    "hellaswag",
)


def write(root: Path, task: str, name: str, content: str | bytes) -> Path:
    path = root / task / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def jsonl(*objs: object) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


def load(tmp_path: Path, task: str, split: str = "train") -> list[dict]:
    # source="local": a fixture may hold only the split under test (auto needs the train files).
    return read_split(get_task(task), split, tmp_path, source="local").records


def assert_error(tmp_path: Path, task: str, *fragments: str, split: str = "train") -> None:
    with pytest.raises(DataError) as info:
        read_split(get_task(task), split, tmp_path, source="local")
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message


# --- COPA -------------------------------------------------------------------------------------


def copa_item(premise: str, question: str, label: int) -> dict:
    return {
        "premise": premise,
        "choice1": "It rained.",
        "choice2": "It was sunny.",
        "question": question,
        "label": label,
        "idx": 0,
    }


def test_copa_renders_question_and_concatenates_files(tmp_path: Path) -> None:
    write(tmp_path, "copa", "fewglue/train.jsonl", jsonl(copa_item("The lawn was wet.", "cause", 0)))
    write(tmp_path, "copa", "fewglue/dev32.jsonl", jsonl(copa_item("The picnic went ahead.", "effect", 1)))
    write(tmp_path, "copa", "val.jsonl", jsonl(copa_item("The umbrella dripped.", "cause", 0)))
    records = load(tmp_path, "copa")
    assert [r["context"] for r in records] == ["The lawn was wet.", "The picnic went ahead.", "The umbrella dripped."]
    assert records[0] == {
        "context": "The lawn was wet.",
        "question": "What was the cause?",
        "choices": ["It rained.", "It was sunny."],
        "label": 0,
    }
    assert records[1]["question"] == "What happened as a result?"
    assert records[1]["label"] == 1


def test_copa_malformed(tmp_path: Path) -> None:
    write(tmp_path, "copa", "fewglue/train.jsonl", jsonl(copa_item("A.", "cause", 0)))
    write(tmp_path, "copa", "fewglue/dev32.jsonl", jsonl(copa_item("B.", "because", 0)) + "{not json\n")
    write(tmp_path, "copa", "val.jsonl", jsonl(copa_item("C.", "effect", 2)))
    assert_error(
        tmp_path,
        "copa",
        "dev32.jsonl:1",
        "'cause' or 'effect'",
        "dev32.jsonl:2",
        "invalid JSON",
        "val.jsonl:1",
        "outside 0..1",
    )


# --- PIQA -------------------------------------------------------------------------------------


def piqa_item(goal: str) -> dict:
    return {"goal": goal, "sol1": "Use a spoon.", "sol2": "Use a fork."}


def test_piqa_aligned_label_file(tmp_path: Path) -> None:
    items = jsonl(piqa_item("Eat soup."), piqa_item("Eat salad."), piqa_item("Stir tea."))
    write(tmp_path, "piqa", "valid.jsonl", items)
    write(tmp_path, "piqa", "valid-labels.lst", "0\n1\n0\n")
    records = load(tmp_path, "piqa")
    assert [r["label"] for r in records] == [0, 1, 0]
    choices = ["Use a spoon.", "Use a fork."]
    assert records[1] == {"context": "", "question": "Eat salad.", "choices": choices, "label": 1}


def test_piqa_bad_label_and_misalignment(tmp_path: Path) -> None:
    write(tmp_path, "piqa", "valid.jsonl", jsonl(piqa_item("Eat soup."), piqa_item("Eat salad.")))
    write(tmp_path, "piqa", "valid-labels.lst", "2\n")
    assert_error(tmp_path, "piqa", "valid.jsonl:1", "outside 0..1", "valid.jsonl:2", "no label")
    write(tmp_path, "piqa", "valid-labels.lst", "0\n1\n1\n")
    assert_error(tmp_path, "piqa", "valid-labels.lst:3", "label(s) more than")


# --- Cosmos QA --------------------------------------------------------------------------------


COSMOS_HEADER = "id,context,question,answer0,answer1,answer2,answer3,label\r\n"


def test_cosmos_qa_csv_groups_by_context(tmp_path: Path) -> None:
    rows = (
        'q1,"We went out, and it snowed.",Why go out?,To shop.,To swim.,To sleep.,None of the above choices .,0\r\n'
        'q2,"We went out, and it snowed.",What was cold?,The air.,The oven.,The tea.,The soup.,0\r\n'
        "q3,The dog barked.,Why bark?,A cat.,A cloud.,A song.,A chair.,3\r\n"
    )
    write(tmp_path, "cosmos_qa", "valid.csv", COSMOS_HEADER + rows)
    records = load(tmp_path, "cosmos_qa")
    assert len(records) == 3
    assert records[0]["context"] == "We went out, and it snowed."
    assert records[0]["choices"][3] == "None of the above choices ."
    assert records[0]["group"] == records[1]["group"] != records[2]["group"]
    assert records[2]["label"] == 3


def test_cosmos_qa_malformed(tmp_path: Path) -> None:
    rows = "q1,Ctx.,Q?,a,b,c,d,4\r\nq2,Ctx.,Q?,a,b\r\n"
    write(tmp_path, "cosmos_qa", "valid.csv", COSMOS_HEADER + rows)
    assert_error(tmp_path, "cosmos_qa", "valid.csv:2", "outside 0..3", "valid.csv:3", "expected 8 columns")


# --- CommonsenseQA / QASC (GKP json) ----------------------------------------------------------


def test_commonsense_qa_answer_text_and_repeated_candidates(tmp_path: Path) -> None:
    train = [
        {"query": "Where do fish live?", "cands": ["tree", "water", "sky", "road", "desk"], "answer": "water"},
        # A repeated candidate (here the answer itself) is dropped; the label is the first match.
        {"query": "What is cold?", "cands": ["fire", "ice", "sun", "ice", "oven"], "answer": "ice"},
        {"query": "What flies?", "cands": ["rock", "rock", "bird", "cup", "shoe"], "answer": "bird"},
    ]
    write(tmp_path, "commonsense_qa", "train.csqa.json", json.dumps(train, indent=4))
    write(tmp_path, "commonsense_qa", "dev.csqa.json", json.dumps(train[:1]))
    records = load(tmp_path, "commonsense_qa")
    assert records[0] == {
        "context": "",
        "question": "Where do fish live?",
        "choices": ["tree", "water", "sky", "road", "desk"],
        "label": 1,
        "group": "Where do fish live?",
    }
    assert records[1]["choices"] == ["fire", "ice", "sun", "oven"] and records[1]["label"] == 1
    assert records[2]["choices"] == ["rock", "bird", "cup", "shoe"] and records[2]["label"] == 1
    assert len(load(tmp_path, "commonsense_qa", "dev")) == 1


def test_commonsense_qa_malformed(tmp_path: Path) -> None:
    train = [
        {"query": "Q1?", "cands": ["a", "b", "c", "d", "e"], "answer": "z"},
        {"query": "Q2?", "cands": ["a", "b", "c", "d", "e"]},
        {"query": "Q3?", "cands": ["a", "", "c", "d", "e"], "answer": "a"},
    ]
    write(tmp_path, "commonsense_qa", "train.csqa.json", json.dumps(train))
    assert_error(
        tmp_path,
        "commonsense_qa",
        "train.csqa.json record 1",
        "not one of the candidates",
        "record 2",
        "'answer'",
        "record 3",
        "option 1 is empty",
    )
    write(tmp_path, "commonsense_qa", "train.csqa.json", "[{\"query\": \n")
    assert_error(tmp_path, "commonsense_qa", "train.csqa.json:", "invalid JSON")


def test_qasc_ignores_facts_and_groups_by_question(tmp_path: Path) -> None:
    cands = ["rain", "sand", "heat", "snow", "wind", "fog", "ice", "dust"]
    items = [
        {
            "query": "What melts ice?",
            "cands": cands,
            "answer": "heat",
            "facts": ["Heat melts ice."],
            "combinedfacts": ["Heat melts ice."],
        },
        {"query": "What melts ice?", "cands": cands[::-1], "answer": "heat", "facts": [], "combinedfacts": []},
    ]
    write(tmp_path, "qasc", "dev.qasc.json", json.dumps(items))
    records = load(tmp_path, "qasc")
    assert [r["label"] for r in records] == [2, 5]
    assert all(r["context"] == "" and len(r["choices"]) == 8 for r in records)
    assert records[0]["group"] == records[1]["group"]


# --- ARC ------------------------------------------------------------------------------------


def arc_fixture(root: Path, task: str, train: str, dev: str, test: str) -> None:
    write(root, task, f"{task}_dev.csv", train)
    write(root, task, f"{task}_test.csv", dev)
    write(root, task, f"{task}.jsonl", test)


ARC_TRAIN = (
    '"Which is a liquid, usually?",ice,water,steam,salt,B\n'
    "Which is a planet?,Moon,Sun,Mars,,C\n"  # 3 options: the empty D is dropped
    "Which is warm?,,,,,2\n"  # options lost upstream (digit key): filtered
    "Which is green?,grass,snow,coal,milk,E\n"  # gold option E lost upstream: filtered
    "Which is round?,box,ball,book,brick,2\n"  # a digit key with its options kept
)


def test_arc_csv_quirks_and_jsonl_test(tmp_path: Path) -> None:
    test = jsonl({"query": "Question: Which melts?", "choices": ["ice", "rock", "iron", "wood"], "gold": 0})
    arc_fixture(tmp_path, "arc_easy", ARC_TRAIN, "Which is loud?,a drum,a feather,a cloud,a leaf,1\n", test)
    train = load(tmp_path, "arc_easy")
    assert [r["question"] for r in train] == ["Which is a liquid, usually?", "Which is a planet?", "Which is round?"]
    assert train[0]["choices"] == ["ice", "water", "steam", "salt"] and train[0]["label"] == 1
    assert train[1]["choices"] == ["Moon", "Sun", "Mars"] and train[1]["label"] == 2
    assert train[2]["label"] == 1
    assert load(tmp_path, "arc_easy", "dev")[0]["label"] == 0
    (record,) = load(tmp_path, "arc_easy", "test")
    assert record["question"] == "Which melts?" and record["label"] == 0 and record["choices"][0] == "ice"


def test_arc_malformed(tmp_path: Path) -> None:
    bad = (
        "Which is a planet?,Moon,Sun,Mars,,D\n"  # gold D is the empty (dropped) option
        "Which is red?,blood,sky,grass,snow,F\n"
        "Which is blue?,sky,,grass,snow,A\n"
        "Too,few,columns\n"
    )
    arc_fixture(tmp_path, "arc_challenge", bad, "", "")
    assert_error(
        tmp_path,
        "arc_challenge",
        "arc_challenge_dev.csv:1",
        "outside 0..2",
        "arc_challenge_dev.csv:2",
        "answer key 'F'",
        "arc_challenge_dev.csv:3",
        "option 1 is empty",
        "arc_challenge_dev.csv:4",
        "expected 6 columns",
    )
    arc_fixture(tmp_path, "arc_challenge", "", "", jsonl({"query": "Question: Q?", "choices": ["a", "b"], "gold": 5}))
    assert_error(tmp_path, "arc_challenge", "arc_challenge.jsonl:1", "outside 0..1", split="test")


# --- OpenBookQA -------------------------------------------------------------------------------


def test_openbookqa(tmp_path: Path) -> None:
    items = [
        {"query": "Plants need", "choices": ["light", "noise", "plastic", "glass"], "gold": 0},
        {"query": "A magnet attracts", "choices": ["wood", "iron", "paper", "cloth"], "gold": 1},
        {"query": "Question: kept as is", "choices": ["a", "b", "c", "d"], "gold": 3},
    ]
    write(tmp_path, "openbookqa", "openbook_qa.jsonl", jsonl(*items))
    records = load(tmp_path, "openbookqa")
    assert [r["label"] for r in records] == [0, 1, 3]
    assert records[0]["question"] == "Plants need" and records[0]["context"] == ""
    assert records[2]["question"] == "Question: kept as is"  # no prefix is stripped for OpenBookQA
    bad = jsonl({"query": "Q", "choices": ["a", "b"], "gold": 4}, {"query": "Q"})
    write(tmp_path, "openbookqa", "openbook_qa.jsonl", bad)
    assert_error(tmp_path, "openbookqa", "openbook_qa.jsonl:1", "outside 0..1", "openbook_qa.jsonl:2", "'choices'")


# --- WinoGrande / WSC273 (partial scoring) ----------------------------------------------------


@pytest.mark.parametrize(("task", "name"), [("winogrande", "winogrande.jsonl"), ("wsc273", "winograd_wsc.jsonl")])
def test_partial_scoring_sentences(tmp_path: Path, task: str, name: str) -> None:
    options = ["The cup fell off the shelf because the cup", "The cup fell off the shelf because the shelf"]
    items = [
        {"context_options": options, "continuation": "was tilted.", "gold": 1},
        {"context_options": options, "continuation": "was too heavy.", "gold": 0},
        {
            "context_options": ["Ann thanked Bea because Ann", "Ann thanked Bea because Bea"],
            "continuation": ".",
            "gold": 1,
        },
    ]
    write(tmp_path, task, name, jsonl(*items))
    records = load(tmp_path, task)
    assert records[0] == {
        "context": "",
        "question": "",
        "choices": [
            "The cup fell off the shelf because the cup was tilted.",
            "The cup fell off the shelf because the shelf was tilted.",
        ],
        "label": 1,
        "group": " | ".join(options),
    }
    assert records[0]["group"] == records[1]["group"] != records[2]["group"]
    assert records[2]["choices"] == ["Ann thanked Bea because Ann.", "Ann thanked Bea because Bea."]


def test_partial_scoring_malformed(tmp_path: Path) -> None:
    items = [
        {"context_options": ["A", "B"], "gold": 0},
        {"context_options": ["A", ""], "continuation": "x", "gold": 0},
        {"context_options": ["A", "B"], "continuation": "x", "gold": 2},
    ]
    write(tmp_path, "winogrande", "winogrande.jsonl", jsonl(*items))
    assert_error(
        tmp_path,
        "winogrande",
        "winogrande.jsonl:1",
        "'continuation'",
        "winogrande.jsonl:2",
        "'context_options'",
        "winogrande.jsonl:3",
        "outside 0..1",
    )


# --- RACE ---------------------------------------------------------------------------------------


def race_line(file: str, questions: list[str], answers: list[str], article: str = "Tom has a red kite.") -> dict:
    doc = {
        "answers": answers,
        "options": [["red", "blue", "green", "black"] for _ in questions],
        "questions": questions,
        "article": article,
        "id": file.rsplit("/", 1)[-1],
    }
    return {"file": file, "text": json.dumps(doc)}


def race_fixture(root: Path, split: str, high: list[dict], middle: list[dict]) -> None:
    write(root, "race", f"{split}_high.jsonl", jsonl(*high))
    write(root, "race", f"{split}_middle.jsonl", jsonl(*middle))


def test_race_one_record_per_question(tmp_path: Path) -> None:
    race_fixture(
        tmp_path,
        "dev",
        [race_line("dev/high/1.txt", ["What colour is the kite?", "The kite is   _  ."], ["A", "A"])],
        [race_line("dev/middle/7.txt", ["Which colour is not named?"], ["D"], article="A blue sky.")],
    )
    records = load(tmp_path, "race", "dev")
    assert len(records) == 3
    assert records[0] == {
        "context": "Tom has a red kite.",
        "question": "What colour is the kite?",
        "choices": ["red", "blue", "green", "black"],
        "label": 0,
        "group": "dev/high/1.txt",
    }
    assert records[1]["group"] == "dev/high/1.txt"
    assert records[2]["group"] == "dev/middle/7.txt" and records[2]["label"] == 3


def test_race_malformed(tmp_path: Path) -> None:
    race_fixture(
        tmp_path,
        "test",
        [{"file": "test/high/1.txt", "text": "{broken"}, race_line("test/high/2.txt", ["Q?"], ["A", "B"])],
        [race_line("test/middle/3.txt", ["Q?"], ["E"]), {"text": "{}"}],
    )
    assert_error(
        tmp_path,
        "race",
        "test_high.jsonl:1",
        "test/high/1.txt: invalid JSON",
        "test_high.jsonl:2",
        "1 questions, 1 option lists, 2 answers",
        "test_middle.jsonl:1",
        "outside 0..3",
        "test_middle.jsonl:2",
        "'file'",
        split="test",
    )


# --- MCTest -------------------------------------------------------------------------------------


def mctest_line(story_id: str, story: str, prefix: str = "one") -> str:
    cells = [story_id, "Author: 1;Work Time(s): 10", story]
    for q in range(4):
        cells += [f"{prefix}: Question {q}?", "cat", "dog", "bird", "fish"]
    return "\t".join(cells)


def mctest_fixture(root: Path, split: str, mc160: tuple[str, str], mc500: tuple[str, str]) -> None:
    for name, (tsv, ans) in (("mc160", mc160), ("mc500", mc500)):
        write(root, "mctest", f"{name}.{split}.tsv", tsv)
        write(root, "mctest", f"{name}.{split}.ans", ans)


def test_mctest_stories_answers_and_escapes(tmp_path: Path) -> None:
    mc160 = (mctest_line("mc160.dev.0", "Sam had a cat.\\newline\\newlineThe cat slept.") + "\r\n", "A\tB\tC\tD\r\n")
    mc500 = (mctest_line("mc500.dev.0", "Kim saw a bird.", prefix="multiple") + "\r\n", "D\tD\tA\tB\r\n")
    mctest_fixture(tmp_path, "dev", mc160, mc500)
    records = load(tmp_path, "mctest", "dev")
    assert len(records) == 8
    assert records[0] == {
        "context": "Sam had a cat.\n\nThe cat slept.",
        "question": "Question 0?",
        "choices": ["cat", "dog", "bird", "fish"],
        "label": 0,
        "group": "mc160.dev.0",
    }
    assert [r["label"] for r in records] == [0, 1, 2, 3, 3, 3, 0, 1]
    assert records[4]["question"] == "Question 0?" and records[4]["group"] == "mc500.dev.0"


def test_mctest_malformed(tmp_path: Path) -> None:
    short = "mc160.train.1\tprops\tA story.\tone: Q?\ta\tb"
    mc160 = (mctest_line("mc160.train.0", "A story.") + "\r\n" + short + "\r\n", "A\tB\tC\tX\r\n")
    mc500 = (mctest_line("mc500.train.0", "B story.") + "\r\n", "")
    mctest_fixture(tmp_path, "train", mc160, mc500)
    assert_error(
        tmp_path,
        "mctest",
        "mc160.train.tsv:1",
        "question 4: answer 'X' is not one of A-D",
        "mc160.train.tsv:2",
        "expected 23 tab-separated columns",
        "mc500.train.tsv:1",
        "no line of 4 answers",
    )


# --- QuAIL --------------------------------------------------------------------------------------


def quail_xml(text_id: str, questions: str) -> str:
    return (
        f' <text domain="news" id="{text_id}">\n  <metadata><title>\n    T\n   </title></metadata>\n'
        f"  <text_body>\n   A farmer planted corn.\nIt rained for a week.\n  </text_body>\n"
        f"  <questions>\n{questions}  </questions>\n </text>\n"
    )


def quail_q(qid: int, correct: int | None, n: int = 4) -> str:
    # Option 3 carries no `correct` attribute, as some wrong options in the real files.
    marks = [f' correct="{i == correct}"' if i != 3 else "" for i in range(n)]
    answers = "".join(f'    <a id="{i}"{mark}>\n     option {i}\n    </a>\n' for i, mark in enumerate(marks))
    return f'   <q id="{qid}" type="Factual">\n    What did the farmer plant?\n{answers}   </q>\n'


def test_quail_xml_both_files_grouped_by_text(tmp_path: Path) -> None:
    dev = "<data>\n" + quail_xml("n1", quail_q(0, 2) + quail_q(1, 0)) + "</data>\n"
    challenge = "<data>\n" + quail_xml("f9", quail_q(0, 1)) + "</data>\n"
    write(tmp_path, "quail", "quail_1.3_dev_randomized.xml", dev)
    write(tmp_path, "quail", "quail_1.3_challenge_randomized.xml", challenge)
    records = load(tmp_path, "quail")
    assert records[0] == {
        "context": "A farmer planted corn.\nIt rained for a week.",
        "question": "What did the farmer plant?",
        "choices": ["option 0", "option 1", "option 2", "option 3"],  # option 3 has no `correct` attribute
        "label": 2,
        "group": "n1",
    }
    assert [(r["group"], r["label"]) for r in records] == [("n1", 2), ("n1", 0), ("f9", 1)]


def test_quail_malformed(tmp_path: Path) -> None:
    two_correct = quail_q(0, 0).replace('correct="False"', 'correct="True"')
    dev = "<data>\n" + quail_xml("n1", quail_q(0, None) + two_correct) + "</data>\n"
    write(tmp_path, "quail", "quail_1.3_dev_randomized.xml", dev)
    write(tmp_path, "quail", "quail_1.3_challenge_randomized.xml", "<data>\n <text id='x'>\n</data>\n")
    assert_error(tmp_path, "quail", "quail_1.3_challenge_randomized.xml:", "invalid XML")
    write(tmp_path, "quail", "quail_1.3_challenge_randomized.xml", "<data></data>")
    assert_error(
        tmp_path,
        "quail",
        "quail_1.3_dev_randomized.xml record 1",
        "text n1 question 0: expected exactly one correct option, found 0",
        "record 2",
        "found 3",
    )


def test_quail_xml_with_entity_declarations_is_refused(tmp_path: Path) -> None:
    # A "billion laughs" file: a parser that expands entities would build gigabytes.
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE data [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<data>&b;</data>\n')
    write(tmp_path, "quail", "quail_1.3_dev_randomized.xml", bomb)
    write(tmp_path, "quail", "quail_1.3_challenge_randomized.xml", "<data></data>")
    assert_error(tmp_path, "quail", "quail_1.3_dev_randomized.xml", "refused XML with entity or DTD declarations")


# --- HellaSwag ----------------------------------------------------------------------------------


def hellaswag_item(ctx: str, label: str) -> list[str]:
    return [f"Baking cookies: {ctx}", label, "mixes the dough.", "eats the oven.", "flies away.", "paints a wall."]


def write_hellaswag(root: Path, lines: list[str]) -> None:
    write(root, "hellaswag", "hellaswag_val_full.txt.bz2", bz2.compress(("\n".join(lines) + "\n").encode("utf-8")))


def test_hellaswag_bz2_six_line_layout(tmp_path: Path) -> None:
    lines = hellaswag_item("A man takes a bowl. he", "0") + hellaswag_item("The girl smiles. she", "3")
    write_hellaswag(tmp_path, lines)
    records = load(tmp_path, "hellaswag")
    assert records[0] == {
        "context": "Baking cookies: A man takes a bowl. he",
        "question": "",
        "choices": ["mixes the dough.", "eats the oven.", "flies away.", "paints a wall."],
        "label": 0,
        "group": "Baking cookies: A man takes a bowl. he",
    }
    assert records[1]["label"] == 3


def test_hellaswag_malformed(tmp_path: Path) -> None:
    write_hellaswag(tmp_path, hellaswag_item("A man. he", "7") + hellaswag_item("A dog. it", "1")[:4])
    assert_error(
        tmp_path,
        "hellaswag",
        "hellaswag_val_full.txt.bz2:1",
        "outside 0..3",
        "hellaswag_val_full.txt.bz2:7",
        "incomplete item: 4 of 6 lines",
    )
    write(tmp_path, "hellaswag", "hellaswag_val_full.txt.bz2", b"not bzip2 at all")
    assert_error(tmp_path, "hellaswag", "hellaswag_val_full.txt.bz2", "cannot read")


# --- Specs and real data ------------------------------------------------------------------------


# Hub sources left out on purpose: MCTest has no canonical hub copy (see its spec).
NO_HUB = {"mctest"}


@pytest.mark.parametrize("name", MC_TASKS)
def test_spec_is_well_formed(name: str) -> None:
    spec = get_task(name)
    assert spec.name == name and spec.family == "multiple_choice"
    assert spec.labels == () and spec.metric == "" and spec.description
    assert spec.local is not None and "train" in spec.local.splits
    assert (spec.hub is None) == (name in NO_HUB)
    if spec.hub is not None:
        # A row adapter may yield the canonical fields itself (then no column mapping is needed).
        assert "train" in spec.hub.splits and (spec.hub.columns or spec.hub.format)


def test_specs_match_real_files(real_data_dir: Path) -> None:
    for name in MC_TASKS:
        spec = get_task(name)
        assert spec.local is not None
        assert spec.local_splits(real_data_dir) == [s for s in ("train", "dev", "test") if s in spec.local.splits], name


REAL_COUNTS = {
    "copa": {"train": 164},
    "piqa": {"train": 1838},
    "cosmos_qa": {"train": 2985},
    "commonsense_qa": {"train": 9741, "dev": 1221},
    "arc_easy": {"train": 2147, "dev": 549, "test": 2376},
    "arc_challenge": {"train": 1096, "dev": 294, "test": 1172},
    "openbookqa": {"train": 500},
    "winogrande": {"train": 1267},
    "wsc273": {"train": 273},
    "race": {"train": 87866, "dev": 4887, "test": 4934},
    "mctest": {"train": 1480, "dev": 320, "test": 840},
    "qasc": {"train": 926},
    "quail": {"train": 2720},
    "hellaswag": {"train": 10042},
}
CHOICES = {"copa": 2, "piqa": 2, "winogrande": 2, "wsc273": 2, "qasc": 8, "commonsense_qa": 5}
GROUPED = {"cosmos_qa", "race", "mctest", "quail", "hellaswag", "winogrande", "wsc273", "qasc"}


@pytest.mark.parametrize("name", MC_TASKS)
def test_real_data_loads_strictly(real_data_dir: Path, name: str) -> None:
    spec = get_task(name)
    for split, expected in REAL_COUNTS[name].items():
        records = read_split(spec, split, real_data_dir, source="local").records
        assert len(records) == expected, (name, split)
        for r in records:
            assert 0 <= r["label"] < len(r["choices"])
            assert all(c.strip() for c in r["choices"])
            assert (r["context"] + r["question"]).strip() or name in ("winogrande", "wsc273")
            if name in CHOICES:
                assert len(r["choices"]) <= CHOICES[name]
            else:
                assert 3 <= len(r["choices"]) <= 4
        if name in GROUPED:
            assert all("group" in r for r in records)


def test_real_heldout_keeps_passages_whole(real_data_dir: Path) -> None:
    records = read_split(get_task("quail"), "train", real_data_dir).records
    train, held = carve_heldout(get_task("quail"), records, 0.1, 1000)
    assert held and not {r["group"] for r in train} & {r["group"] for r in held}
