"""extractive_qa tasks.

Every local reader yields canonical records (id, context, question, answers, group), so the
local sources declare no column mapping. Questions on one passage share a ``group``.
"""

from muppet.tasks.formats import extractive_qa as _formats  # noqa: F401  (registers the QA readers)
from muppet.tasks.spec import HubSource, LocalSource, TaskSpec, register

# The hub's SQuAD-style rows: answers = {"text": [...], "answer_start": [...]}; the context text
# groups the questions of one paragraph.
_SQUAD_HUB_COLUMNS = {
    "id": "id",
    "context": "context",
    "question": "question",
    "answers": "answers",
    "group": "context",
}

register(
    TaskSpec(
        name="squad_v1",
        family="extractive_qa",
        description=(
            "SQuAD v1.1 extractive QA on Wikipedia paragraphs. Locally only XQuAD-en is present "
            "(1,190 questions on 240 paragraphs drawn from the SQuAD v1.1 dev set), declared as the "
            "train pool; the held-out slice is carved by paragraph."
        ),
        local=LocalSource(format="squad_json", splits={"train": ("xquad.en.json",)}),
        hub=HubSource(
            "rajpurkar/squad",
            splits={"train": "train", "dev": "validation"},
            columns=_SQUAD_HUB_COLUMNS,
        ),
    )
)

register(
    TaskSpec(
        name="squad_v2",
        family="extractive_qa",
        options={"unanswerable": True},
        description=(
            "SQuAD 2.0: SQuAD-style QA where 3,168 of the 6,078 local questions are unanswerable "
            "(empty answers; plausible_answers are ignored). Locally the CS224N half of the official "
            "dev set, declared as the train pool (carved by paragraph); 78 of its paragraphs also occur "
            "in squad_v1's XQuAD file."
        ),
        local=LocalSource(format="squad_json", splits={"train": ("dev-v2.0.json",)}),
        hub=HubSource(
            "rajpurkar/squad_v2",
            splits={"train": "train", "dev": "validation"},
            columns=_SQUAD_HUB_COLUMNS,
        ),
    )
)

register(
    TaskSpec(
        name="newsqa",
        family="extractive_qa",
        description=(
            "NewsQA: questions on CNN news articles (MRQA 2019 version). Locally only the MRQA dev "
            "set (4,212 questions on 638 articles, SQuAD v1.1 JSON without file extension), declared "
            "as the train pool and carved by article."
        ),
        local=LocalSource(format="squad_json", splits={"train": ("newsqa",)}),
        # The hub copies (lucadiliello/newsqa, mrqa-workshop/mrqa) give answers as plain strings
        # with separate character spans, which a column mapping cannot turn into answer objects.
        hub=None,
    )
)

register(
    TaskSpec(
        name="duorc",
        family="extractive_qa",
        description=(
            "DuoRC ParaphraseRC (MRQA out-of-domain version): questions on movie plots. Tiny few-shot "
            "splits of the CS224N RobustQA project in SQuAD v1.1 JSON: oodomain_train/duorc = train "
            "(127 questions), oodomain_val/duorc = dev (126); some questions have several answers."
        ),
        local=LocalSource(
            format="squad_json",
            splits={"train": ("oodomain_train/duorc",), "dev": ("oodomain_val/duorc",)},
        ),
        # ibm/duorc has free-form answer strings without offsets (and unanswerable questions).
        hub=None,
    )
)

register(
    TaskSpec(
        name="natural_questions_qed",
        family="extractive_qa",
        description=(
            "Natural Questions short answers on their Wikipedia paragraph (Google QED). train = the 6 "
            "early-release shards (7,167 examples; the 20 marked [-1, -1] have no answer span and are "
            "left out -> 7,147), answers from the character spans; dev = qed-dev.jsonlines (1,355), "
            "answers of every annotator from original_nq_answers. A multi-span answer gives one "
            "reference per span."
        ),
        local=LocalSource(
            format="qed_jsonl",
            splits={
                "train": tuple(f"nq-train-0{i}-qed.jsonlines" for i in range(6)),
                "dev": ("qed-dev.jsonlines",),
            },
        ),
        # The hub's QED rows keep answers as nested span lists that need parsing.
        hub=None,
    )
)

register(
    TaskSpec(
        name="policyqa",
        family="extractive_qa",
        description=(
            "PolicyQA: reading comprehension on website privacy policies (SQuAD v1.1 JSON; several "
            "answers per question are common). dev.json (3,809 questions) is the train pool, carved "
            "by paragraph; test.json (4,152, labelled) is the test split. The official train.json is absent."
        ),
        local=LocalSource(format="squad_json", splits={"train": ("dev.json",), "test": ("test.json",)}),
        hub=None,  # not on the hub in a canonical form
    )
)
