"""extractive_qa tasks.

Every local reader yields canonical records (id, context, question, answers, group), so the
local sources declare no column mapping. Questions on one passage share a ``group``.
"""

from functools import partial

from muppet.tasks.catalog.common import TRAIN_DEV, declare, local, super_glue
from muppet.tasks.formats import extractive_qa as _formats  # noqa: F401  (registers the QA readers)
from muppet.tasks.formats import hub as _hub  # noqa: F401  (registers the hub row adapters)
from muppet.tasks.spec import HubSource

extractive_qa = partial(declare, "extractive_qa")

# The hub's SQuAD-style rows: answers = {"text": [...], "answer_start": [...]}; the context text
# groups the questions of one paragraph.
_SQUAD_HUB_COLUMNS = {
    "id": "id",
    "context": "context",
    "question": "question",
    "answers": "answers",
    "group": "context",
}

MRQA_PATH = "mrqa-workshop/mrqa"
_MRQA_EVIDENCE = (
    "confirmed: https://huggingface.co/datasets/mrqa-workshop/mrqa/tree/main ('Convert dataset to Parquet (#6)', "
    "plain_text/); subset, context, qid, question, detected_answers{text, char_spans{start, end}}: datasets@2.5.0 "
    "mrqa.py; subset = each file's header (the strings of NewsQA, TriviaQA-web, NaturalQuestionsShort and "
    "DuoRC.ParaphraseRC not seen on rows)"
)


def _mrqa(subset: str, splits: dict[str, str] | None = None) -> HubSource:
    """One MRQA 2019 dataset: mrqa-workshop/mrqa holds them all in one config, told apart by the
    ``subset`` column (train/validation = the six in-domain sets, test = the out-of-domain dev sets)."""
    return HubSource(
        MRQA_PATH,
        splits=splits or TRAIN_DEV,
        format="mrqa",
        options={"subset": subset},
        filter={"subset": subset},  # filtered in Arrow first: the combined train split has 516k rows
        evidence=_MRQA_EVIDENCE,
    )


extractive_qa(
    "squad_v1",
    "SQuAD v1.1 extractive QA on Wikipedia paragraphs. Locally only XQuAD-en is present "
    "(1,190 questions on 240 paragraphs drawn from the SQuAD v1.1 dev set), declared as the "
    "train pool; the held-out slice is carved by paragraph.",
    local=local("squad_json", "xquad.en.json"),
    hub=HubSource(
        "rajpurkar/squad",
        columns=_SQUAD_HUB_COLUMNS,
        evidence=(
            "confirmed: the datasets 4.0.0 docs load 'rajpurkar/squad'; Viewer "
            "(https://huggingface.co/Victoriayu/activity/likes, updated 2024-03-04)"
        ),
    ),
)

extractive_qa(
    "squad_v2",
    "SQuAD 2.0: SQuAD-style QA where 3,168 of the 6,078 local questions are unanswerable "
    "(empty answers; plausible_answers are ignored). Locally the CS224N half of the official "
    "dev set, declared as the train pool (carved by paragraph); 78 of its paragraphs also occur "
    "in squad_v1's XQuAD file.",
    options={"unanswerable": True},
    local=local("squad_json", "dev-v2.0.json"),
    hub=HubSource(
        "rajpurkar/squad_v2",
        columns=_SQUAD_HUB_COLUMNS,
        evidence=(
            "confirmed: Viewer on rajpurkar/squad_v2 (https://huggingface.co/zelaouene/activity/likes, updated "
            "2024-03-04); unanswerable rows have empty answers"
        ),
    ),
)

extractive_qa(
    "newsqa",
    "NewsQA: questions on CNN news articles (MRQA 2019 version). Locally only the MRQA dev "
    "set (4,212 questions on 638 articles, SQuAD v1.1 JSON without file extension), declared "
    "as the train pool and carved by article.",
    local=local("squad_json", "newsqa"),
    # The same MRQA version on the hub: its NewsQA subset (train 74k; validation = the local file).
    hub=_mrqa("NewsQA"),
)

extractive_qa(
    "duorc",
    "DuoRC ParaphraseRC (MRQA out-of-domain version): questions on movie plots. Tiny few-shot "
    "splits of the CS224N RobustQA project in SQuAD v1.1 JSON: oodomain_train/duorc = train "
    "(127 questions), oodomain_val/duorc = dev (126); some questions have several answers.",
    local=local("squad_json", "oodomain_train/duorc", "oodomain_val/duorc"),
    # ibm/duorc has free-form answers without offsets; the MRQA out-of-domain copy (1,501 questions,
    # in mrqa-workshop/mrqa's test split) has spans and is the set these few-shot files come from.
    hub=_mrqa("DuoRC.ParaphraseRC", splits={"train": "test"}),
)

extractive_qa(
    "natural_questions_qed",
    "Natural Questions short answers on their Wikipedia paragraph (Google QED). train = the 6 "
    "early-release shards (7,167 examples; the 20 marked [-1, -1] have no answer span and are "
    "left out -> 7,147), answers from the character spans; dev = qed-dev.jsonlines (1,355), "
    "answers of every annotator from original_nq_answers. A multi-span answer gives one "
    "reference per span.",
    local=local("qed_jsonl", tuple(f"nq-train-0{i}-qed.jsonlines" for i in range(6)), "qed-dev.jsonlines"),
    # The hub's QED (the final release: train 7,638, validation 1,355) keeps only the first
    # annotator's answer spans; the adapter checks them like the local reader.
    hub=HubSource(
        "google-research-datasets/qed",
        export_subset="qed",  # refs/convert/parquet holds qed/train, qed/validation
        format="qed",
        evidence=(
            "unconfirmed: script-based (only the refs/convert/parquet branch of google-research-datasets/qed was "
            "seen), so its Parquet export (subset qed) is read; original_nq_answers = a list of {start, end, "
            "string}: datasets@2.5.0 qed.py"
        ),
    ),
)

extractive_qa(
    "policyqa",
    "PolicyQA: reading comprehension on website privacy policies (SQuAD v1.1 JSON; several "
    "answers per question are common). dev.json (3,809 questions) is the train pool, carved "
    "by paragraph; test.json (4,152, labelled) is the test split. The official train.json is absent.",
    local=local("squad_json", "dev.json", test="test.json"),
    hub=None,  # not on the hub in a canonical form (only the authors' GitHub release)
)

# --------------------------------------------------------------------------- hub-only tasks
#
# No local copy of these is in the shared data folder; they load from the Hugging Face hub. The
# MRQA versions put each question with one context of at most 800 tokens ([TLE], [DOC] and [PAR]
# mark titles, documents and paragraphs) and the answer spans found in it.

extractive_qa(
    "triviaqa",
    "TriviaQA (web evidence), MRQA 2019 version: trivia questions with answer spans detected in web "
    "search snippets. Hub only (mrqa-workshop/mrqa subset TriviaQA-web: train 61,688 / dev 7,785).",
    hub=_mrqa("TriviaQA-web"),
)

extractive_qa(
    "hotpotqa",
    "HotpotQA multi-hop questions over Wikipedia paragraphs, MRQA 2019 version (span answers only). "
    "Hub only (mrqa-workshop/mrqa subset HotpotQA: train 72,928 / dev 5,904).",
    hub=_mrqa("HotpotQA"),
)

extractive_qa(
    "searchqa",
    "SearchQA: Jeopardy! questions with Google search snippets as context, MRQA 2019 version. Hub only "
    "(mrqa-workshop/mrqa subset SearchQA: train 117,384 / dev 16,980).",
    hub=_mrqa("SearchQA"),
)

extractive_qa(
    "natural_questions",
    "Natural Questions short answers on the gold Wikipedia context, MRQA 2019 version (not the QED "
    "subset of natural_questions_qed). Hub only (mrqa-workshop/mrqa subset NaturalQuestionsShort: "
    "train 104,071 / dev 12,836).",
    hub=_mrqa("NaturalQuestionsShort"),
)

extractive_qa(
    "record",
    "ReCoRD (SuperGLUE): fill the @placeholder of a cloze query about a CNN/Daily Mail passage with an "
    "entity of the passage; read as extractive QA (context = passage, question = query, each gold "
    "entity's first occurrence is a reference). Hub only (aps/super_glue record: train 100,730 / "
    "dev 10,000; the test answers are hidden).",
    hub=super_glue("record", format="superglue_record"),
)

extractive_qa(
    "adversarial_qa",
    "AdversarialQA: SQuAD-style questions written to beat BiDAF, BERT and RoBERTa models in the loop "
    "(the three rounds together). Hub only (UCLNLP/adversarial_qa adversarialQA: train 30,000 / "
    "dev 3,000; the test answers are hidden).",
    hub=HubSource(
        "UCLNLP/adversarial_qa",
        "adversarialQA",
        columns=_SQUAD_HUB_COLUMNS,
        evidence=(
            "unconfirmed: loadability not seen; schema: datasets@2.5.0 adversarial_qa.py (config adversarialQA; "
            "id, title, context, question, answers{text, answer_start})"
        ),
    ),
)
