"""Multiple-choice tasks (commonsense and reading comprehension with options): one shared ranking head.

Readers for the sources that need parsing live in ``muppet.tasks.formats.multiple_choice``;
they yield canonical fields, so those tasks declare no ``columns``.
"""

from functools import partial

from muppet.tasks.catalog.common import TRAIN_DEV_TEST, declare, local, super_glue
from muppet.tasks.formats import hub as _hub  # noqa: F401  (registers the hub row adapters)
from muppet.tasks.formats import multiple_choice as _formats  # noqa: F401  (registers the readers)
from muppet.tasks.spec import HubSource

multiple_choice = partial(declare, "multiple_choice")

_ARC_EVIDENCE = (
    "confirmed: Viewer on allenai/ai2_arc (https://huggingface.co/ari-in-media-res/activity/likes, updated "
    "2023-12-21), used by lm-eval HEAD, loads under datasets 5 (Xilinx/brevitas PR #1624); id, question, "
    "choices{text, label}, answerKey: datasets@2.5.0 ai2_arc.py"
)

multiple_choice(
    "copa",
    "Choice of Plausible Alternatives (SuperGLUE COPA): pick the cause or effect of a premise; "
    "the cause/effect flag is rendered as a question. Only dev-sized data exists here, so the "
    "official validation (val.jsonl, 100) and the FewGLUE train (32) and dev32 (32) subsets of "
    "the official train, which share no premise with it, form one 164-item training pool.",
    local=local("copa", ("fewglue/train.jsonl", "fewglue/dev32.jsonl", "val.jsonl")),
    # The hub rows carry "cause"/"effect" in `question`; the adapter renders it as the local reader.
    hub=super_glue("copa", format="copa"),
)

_PIQA_COLUMNS = {"question": "goal", "choices": ("sol1", "sol2"), "label": "label"}
multiple_choice(
    "piqa",
    "Physical Interaction QA: choose the better of two solutions for a goal. valid.jsonl "
    "(1,838) with its aligned valid-labels.lst is the training pool (train is absent); "
    "tests.jsonl is unlabelled and not used.",
    local=local("jsonl_label_file", "valid.jsonl", options={"labels": "valid-labels.lst"}, columns=_PIQA_COLUMNS),
    hub=HubSource(
        "ybisk/piqa",
        export_subset="default",  # the script's plain_text is called default in the Parquet export
        columns=_PIQA_COLUMNS,
        evidence=(
            "confirmed: ybisk/piqa still holds piqa.py (lm-eval commit 91264653c moved away from it); its Parquet"
            " export loads with subset 'default' (Xilinx/brevitas PR #1624); goal, sol1, sol2, label ['0', '1']: "
            "datasets@2.5.0 piqa.py"
        ),
    ),
)

_COSMOS_COLUMNS = {
    "context": "context",
    "question": "question",
    "choices": ("answer0", "answer1", "answer2", "answer3"),
    "label": "label",
    "group": "context",
}
multiple_choice(
    "cosmos_qa",
    "Cosmos QA: commonsense reading comprehension over everyday narratives, 4 options. "
    "Only the official validation CSV (2,985) is here; it is the training pool, grouped by "
    "context (up to 4 questions share one).",
    local=local("csv", "valid.csv", columns=_COSMOS_COLUMNS),
    hub=HubSource(
        "allenai/cosmos_qa",
        columns=_COSMOS_COLUMNS,
        evidence=(
            "unconfirmed: the newest stored tree (allenai/cosmos_qa@4a08319) holds only cosmos_qa.py, so its "
            "Parquet export (subset default, not seen) is read; context, question, answer0-3, label int: "
            "datasets@2.5.0 cosmos_qa.py"
        ),
    ),
)

multiple_choice(
    "commonsense_qa",
    "CommonsenseQA: 5-way commonsense questions. Train (9,741) and dev (1,221) from the GKP "
    "re-pack {query, cands, answer text}; the label is the first candidate equal to the answer, "
    "and verbatim repeated candidates (122 train / 24 dev items) are dropped. "
    "dev_rand_split.jsonl (first 100 dev items) and the unlabelled test are not used.",
    local=local("gkp_json", "train.csqa.json", "dev.csqa.json"),
    # tau/commonsense_qa nests the options ({label, text}) and keys the answer by letter; the
    # adapter drops repeated options and groups by question like the local reader.
    hub=HubSource(
        "tau/commonsense_qa",
        format="labeled_choices",
        options={"group": "question"},
        evidence=(
            "confirmed: Viewer on tau/commonsense_qa (https://huggingface.co/Vanmas/activity/likes), splits "
            "train/validation/test; question, choices{label, text}, answerKey: datasets@2.5.0 commonsense_qa.py"
        ),
    ),
)

multiple_choice(
    "qasc",
    "QASC: 8-way grade-school science questions. Only dev (926, GKP re-pack) is labelled, so "
    "it is the training pool, grouped by question text (a few questions recur). The gold facts "
    "are not used: they are absent from the test set and the combined fact usually states the "
    "answer, so the task stays closed-book question answering.",
    local=local("gkp_json", "dev.qasc.json"),
    # allenai/qasc nests the options ({label, text}) and keys the answer by letter; closed book
    # like the local task (`question` is the bare question; the facts are not used).
    hub=HubSource(
        "allenai/qasc",
        format="labeled_choices",
        options={"group": "question"},
        evidence=(
            "confirmed: "
            "https://huggingface.co/datasets/allenai/qasc/commit/a34ba204eb9a33b919c10cc08f4f1c8dae5ec070 "
            "('Convert dataset to Parquet' deletes qasc.py); question, choices{text, label}, answerKey: "
            "datasets@2.5.0 qasc.py"
        ),
    ),
)

_ARC_NOTE = (
    "MMLU-style CSVs: arc_*_dev.csv is the ARC train split and arc_*_test.csv the ARC dev split; "
    "arc_*.jsonl (llm-foundry, 'Question: ' prefix removed) is the ARC test split. Answer keys "
    "A-D or 1-4; 3-option items drop their empty D. Filtered as upstream losses: rows whose four "
    "options are all empty (every digit-keyed item lost its options in the conversion) and rows "
    "answered 'E' (the fifth option was cut)."
)

def _arc(name: str, config: str, filtered: str) -> None:
    """One ARC set: the local MMLU-style CSVs and llm-foundry jsonl, or allenai/ai2_arc's config."""
    multiple_choice(
        name,
        f"AI2 Reasoning Challenge, {config.removeprefix('ARC-')} set: science questions with 3-5 options. "
        f"{_ARC_NOTE} Filtered: {filtered}",
        local=local("arc", f"{name}_dev.csv", f"{name}_test.csv", f"{name}.jsonl"),
        # allenai/ai2_arc nests the options ({text, label}) and mixes letter and digit keys; the
        # adapter matches the key against the option labels, so both kinds work.
        hub=HubSource("allenai/ai2_arc", config, splits=TRAIN_DEV_TEST, format="labeled_choices", evidence=_ARC_EVIDENCE),
    )


_arc("arc_easy", "ARC-Easy", "train 102 without options + 2 'E' (2,251 -> 2,147), dev 21 without options "
                             "(570 -> 549); test 2,376.")
_arc("arc_challenge", "ARC-Challenge", "train 23 without options (1,119 -> 1,096), dev 4 without options + 1 'E' "
                                       "(299 -> 294); test 1,172.")

multiple_choice(
    "openbookqa",
    "OpenBookQA: 4-way elementary science questions (closed book). Only the main test split "
    "(500, llm-foundry {query, choices, gold}) is here; it is the training pool.",
    local=local("icl_mc", "openbook_qa.jsonl"),
    # allenai/openbookqa nests the options ({text, label}) and keys the answer by letter.
    hub=HubSource(
        "allenai/openbookqa",
        "main",
        splits=TRAIN_DEV_TEST,
        format="labeled_choices",
        options={"question": "question_stem", "group": "question_stem"},
        evidence=(
            "unconfirmed: loadability not seen (lm-eval HEAD uses allenai/openbookqa main); schema: "
            "datasets@2.5.0 openbookqa.py (main: question_stem, choices{text, label}, answerKey)"
        ),
    ),
)

multiple_choice(
    "winogrande",
    "WinoGrande: two-way pronoun/blank resolution. Only dev (1,267, llm-foundry partial-scoring "
    "form) is here; it is the training pool. Each option is the complete sentence "
    "(context option + continuation), encoded alone; records sharing context options are grouped.",
    local=local("icl_partial", "winogrande.jsonl"),
    # The hub keeps the blank: the sentence with "_" is the context and each filler an option
    # (answer "1"/"2" -> option 0/1), the standard multiple-choice reading of WinoGrande.
    hub=HubSource(
        "allenai/winogrande",
        "winogrande_xl",
        columns={"context": "sentence", "choices": ("option1", "option2"), "label": "answer"},
        label_map={"1": "0", "2": "1"},
        evidence=(
            "unconfirmed: main (allenai/winogrande@85ac5b5) held only winogrande.py, later reported to load under"
            " datasets 5 (Xilinx/brevitas PR #1624); else its Parquet export (subset winogrande_xl) is read; "
            "sentence, option1, option2, answer '1'/'2': datasets@2.5.0 winogrande.py"
        ),
    ),
)

multiple_choice(
    "wsc273",
    "Winograd Schema Challenge WSC273 (not SuperGLUE WSC): two-way pronoun resolution. The 273 "
    "problems (llm-foundry partial-scoring form) are the training pool; each option is the "
    "complete sentence, encoded alone; the two sentences of a schema share a group.",
    local=local("icl_partial", "winograd_wsc.jsonl"),
    hub=HubSource(
        "lighteval/winograd_wsc",  # a Parquet copy; ErnestSDavis/winograd_wsc is script-only
        "wsc273",
        splits={"train": "test"},
        columns={"context": "text", "question": "pronoun", "choices": "options", "label": "label"},
        evidence=(
            "confirmed: lighteval/winograd_wsc (config wsc273, split test), the Parquet copy lm-eval moved to "
            "from the script-only ErnestSDavis/winograd_wsc (lm-eval PR #3946, commit 68bab35e1); text, pronoun, "
            "pronoun_loc, quote, quote_loc, options, label, source"
        ),
    ),
)

multiple_choice(
    "race",
    "RACE (middle + high school English exams): 4-way reading comprehension. Packed jsonl "
    "{file, text} with one original passage file per line; one record per question, grouped "
    "by passage file. train/dev/test = the high + middle files (87,866 / 4,887 / 4,934 questions).",
    local=local("race_packed", ("train_high.jsonl", "train_middle.jsonl"), ("dev_high.jsonl", "dev_middle.jsonl"),
                ("test_high.jsonl", "test_middle.jsonl")),
    hub=HubSource(
        "ehovy/race",
        "all",
        splits=TRAIN_DEV_TEST,
        columns={
            "context": "article",
            "question": "question",
            "choices": "options",
            "label": "answer",
            "group": "example_id",
        },
        evidence=(
            "confirmed: "
            "https://huggingface.co/datasets/ehovy/race/commit/2d9f932f15fa7696ffa4326695cf13b22a0c9a0e (configs "
            "all/high/middle as Parquet); example_id, article, answer (a letter), question, options: "
            "datasets@2.5.0 race.py"
        ),
    ),
)

multiple_choice(
    "mctest",
    "MCTest (MC160 + MC500 together): 4-way questions on children's stories. X.tsv stories with "
    "aligned X.ans answers; '\\newline' escapes become line breaks and the 'one:'/'multiple:' "
    "question prefixes are stripped; grouped by story id. train/dev/test = 1,480 / 320 / 840 questions.",
    local=local("mctest_tsv", ("mc160.train.tsv", "mc500.train.tsv"), ("mc160.dev.tsv", "mc500.dev.tsv"),
                ("mc160.test.tsv", "mc500.test.tsv")),
    # No canonical hub copy: the community upload sagnikrayc/mctest has MC160 and MC500 as separate
    # configs (one hub source cannot join them) and its row layout could not be confirmed.
    hub=None,
)

multiple_choice(
    "quail",
    "QuAIL v1.3: 4-way reading comprehension with unanswerable-question options, 4 domains. "
    "Train is absent; the dev (120 texts / 2,164 q) and challenge (30 fiction texts / 556 q) "
    "xml files, which share no text, form one training pool (2,720 q) grouped by text id, so "
    "the held-out slice keeps whole texts.",
    local=local("quail_xml", ("quail_1.3_dev_randomized.xml", "quail_1.3_challenge_randomized.xml")),
    hub=HubSource(
        "textmachinelab/quail",
        columns={
            "context": "context",
            "question": "question",
            "choices": "answers",
            "label": "correct_answer_id",
            "group": "context_id",
        },
        evidence=(
            "confirmed: "
            "https://huggingface.co/datasets/textmachinelab/quail/commit/ca5c18f9a27731c7bcca75336ca8076bd2c3c569"
            " ('Convert dataset to Parquet'); context, question, answers, correct_answer_id: datasets@2.5.0 "
            "quail.py"
        ),
    ),
)

multiple_choice(
    "hellaswag",
    "HellaSwag: pick the plausible continuation of an activity description (4 endings). The "
    "full validation set (10,042, llama.cpp 6-line layout, bzip2) is the training pool; the "
    "context is 'activity label: ctx', grouped by context.",
    local=local("hellaswag_txt", "hellaswag_val_full.txt.bz2"),
    hub=HubSource(
        "Rowan/hellaswag",
        columns={"context": "ctx", "choices": "endings", "label": "label", "group": "ctx"},
        evidence=(
            "unconfirmed: main (Rowan/hellaswag) held hellaswag.py (optimum-habana PR #2128: fails on datasets "
            "4.0.0), later reported to load under datasets 5 (Xilinx/brevitas PR #1624); else its Parquet export "
            "(subset default) is read; ctx, endings, label (a string): datasets@2.5.0 hellaswag.py"
        ),
    ),
)

# --------------------------------------------------------------------------- hub-only tasks
#
# No local copy of these is in the shared data folder; they load from the Hugging Face hub.

multiple_choice(
    "swag",
    "SWAG: pick the plausible continuation of a video-caption sentence (4 endings). Hub only "
    "(allenai/swag regular: context = sent1, question = sent2, the start of the next sentence).",
    hub=HubSource(
        "allenai/swag",
        "regular",
        columns={
            "context": "sent1",
            "question": "sent2",
            "choices": ("ending0", "ending1", "ending2", "ending3"),
            "label": "label",
        },
        evidence=(
            "confirmed: https://huggingface.co/datasets/allenai/swag/commits/main/regular ('Convert dataset to "
            "Parquet (#4)'); sent1, sent2, ending0-3, label: datasets@2.5.0 swag.py"
        ),
    ),
)

multiple_choice(
    "social_i_qa",
    "Social IQa: 3-way commonsense questions about people's motivations and reactions. Hub only "
    "(lighteval/siqa, a Parquet copy of allenai/social_i_qa; the label is '1'-'3', mapped to options 0-2), "
    "grouped by context.",
    hub=HubSource(
        "lighteval/siqa",  # allenai/social_i_qa is script-only (lm-eval issue #3171)
        columns={
            "context": "context",
            "question": "question",
            "choices": ("answerA", "answerB", "answerC"),
            "label": "label",
            "group": "context",
        },
        label_map={"1": "0", "2": "1", "3": "2"},
        evidence=(
            "confirmed: lighteval/siqa's card "
            "https://huggingface.co/datasets/lighteval/siqa/blob/54c6a1f8cb6daf4f5abf24a601852612fb35eb25/README.md"
            " (Parquet data/train-*, data/validation-*; context, question, answerA-C, label a string; "
            "33,410/1,954 rows as in allenai/social_i_qa, which is script-only: lm-eval issue #3171); label "
            "values '1'-'3': datasets@2.5.0 social_i_qa.py"
        ),
    ),
)

multiple_choice(
    "sciq",
    "SciQ: 4-way crowd-sourced science exam questions with their support paragraph as context (may be "
    "empty). Hub only (allenai/sciq); the hub stores the answer after its three distractors, so the "
    "options are rotated by a hash of the question.",
    hub=HubSource(
        "allenai/sciq",
        splits=TRAIN_DEV_TEST,
        format="answer_text_choices",
        options={
            "choices": ("distractor1", "distractor2", "distractor3", "correct_answer"),
            "answer": "correct_answer",
            "question": "question",
            "context": "support",
            "rotate": True,
        },
        evidence=(
            "unconfirmed: loadability not seen (lm-eval HEAD uses allenai/sciq); schema: datasets@2.5.0 sciq.py "
            "(question, distractor1-3, correct_answer, support)"
        ),
    ),
)

multiple_choice(
    "alpha_nli",
    "alpha-NLI (ART, abductive commonsense): which of two hypotheses best explains two observations? "
    "Each option is the whole story (observation 1, hypothesis, observation 2), encoded alone; grouped "
    "by the observation pair. Hub only (allenai/art, config anli; label 1/2).",
    hub=HubSource(
        "allenai/art", "anli", format="alpha_nli",
        evidence=(
            "unconfirmed: script-based (only the refs/convert/parquet branch was seen: allenai/art commit "
            "e557c42), so its Parquet export (subset anli) is read; observation_1/2, hypothesis_1/2, label 1/2: "
            "datasets@2.5.0 art.py"
        ),
    ),
)

multiple_choice(
    "dream",
    "DREAM: 3-way reading comprehension on multi-turn dialogues (turns joined by line breaks; the gold "
    "option is given as text). Hub only (dataset-org/dream), grouped by dialogue.",
    hub=HubSource(
        "dataset-org/dream",
        splits=TRAIN_DEV_TEST,
        format="answer_text_choices",
        options={
            "choices": "choice",
            "answer": "answer",
            "question": "question",
            "context": "dialogue",
            "group": "dialogue_id",
        },
        evidence=(
            "unconfirmed: main holds dream.py (https://huggingface.co/datasets/dream/blame/main/dream.py), only a"
            " parquet-converter branch otherwise, so its export (subset default, not seen) is read; id, "
            "dialogue_id, dialogue, question, choice, answer (TFDS community catalog of the script)"
        ),
    ),
)

multiple_choice(
    "quartz",
    "QuaRTz: 2-way qualitative relationship questions, each with the background sentence it needs as "
    "context. Hub only (allenai/quartz), grouped by background paragraph.",
    hub=HubSource(
        "allenai/quartz",
        splits=TRAIN_DEV_TEST,
        format="labeled_choices",
        options={"context": "para", "group": "para_id"},
        evidence=(
            "unconfirmed: the newest stored tree (allenai/quartz@d09d2e1) holds only quartz.py, so its Parquet "
            "export (subset default, not seen) is read; question, choices{text, label}, answerKey, para, para_id:"
            " datasets@2.5.0 quartz.py"
        ),
    ),
)
