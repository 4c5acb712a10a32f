"""summarization tasks (encoder-decoder backbones only).

The local readers yield canonical ``document`` / ``summary`` fields, so the local sources
declare no column mapping.
"""

from muppet.tasks.formats import summarization as _formats  # noqa: F401  (registers the readers)
from muppet.tasks.spec import HubSource, LocalSource, TaskSpec, register

register(
    TaskSpec(
        name="samsum",
        family="summarization",
        description=(
            "SAMSum: abstractive summaries of messenger-style dialogues. validation.json (818) is the "
            "train pool, test.json (819) the test split; the 4 validation dialogues that also occur in "
            "test.json are left out of the pool (814)."
        ),
        local=LocalSource(
            format="samsum_json",
            splits={"train": ("validation.json",), "test": ("test.json",)},
            options={"exclude_dialogues_in": "test.json"},
        ),
        hub=HubSource(
            "Samsung/samsum",
            splits={"train": "train", "dev": "validation", "test": "test"},
            columns={"document": "dialogue", "summary": "summary"},
        ),
    )
)

register(
    TaskSpec(
        name="dialogsum",
        family="summarization",
        description=(
            "DialogSum: summaries of spoken everyday dialogues. train (12,460) / dev (500) / test (500) "
            "jsonl; each test dialogue has three references (summary1..3) and summary1 is used."
        ),
        local=LocalSource(
            format="dialogsum_jsonl",
            splits={
                "train": ("dialogsum.train.jsonl",),
                "dev": ("dialogsum.dev.jsonl",),
                "test": ("dialogsum.test.jsonl",),
            },
        ),
        hub=HubSource(
            "knkarthick/dialogsum",
            splits={"train": "train", "dev": "validation", "test": "test"},
            columns={"document": "dialogue", "summary": "summary"},
        ),
    )
)

register(
    TaskSpec(
        name="aeslc",
        family="summarization",
        description=(
            "AESLC: Enron email body -> its subject line. Packed jsonl {file, text} (one original .subject "
            "file per line: body, then '@subject' and the subject); train 14,436 / dev 1,960 / test 1,906. "
            "The extra human subjects of dev/test (@ann0..@ann2) are not used; the original subject is the summary."
        ),
        local=LocalSource(
            format="aeslc_jsonl",
            splits={"train": ("train.jsonl",), "dev": ("dev.jsonl",), "test": ("test.jsonl",)},
        ),
        hub=HubSource(
            "Yale-LILY/aeslc",
            splits={"train": "train", "dev": "validation", "test": "test"},
            columns={"document": "email_body", "summary": "subject_line"},
        ),
    )
)

register(
    TaskSpec(
        name="xsum",
        family="summarization",
        description=(
            "XSum: one-sentence summaries of BBC articles. Locally only samples of the XSum test split, "
            "together the train pool: xsum-1000.jsonl (1,000 {document, summary, id}) and the raw "
            "extraction files (INTRODUCTION = summary, RESTBODY = document, share widget removed) minus "
            "the 29 articles already in xsum-1000 (292) -> 1,292."
        ),
        local=LocalSource(
            format="xsum_jsonl",
            splits={"train": ("xsum-1000.jsonl", "xsum-extracts-from-downloads.jsonl")},
            options={"prefer": "xsum-1000.jsonl"},
        ),
        hub=HubSource(
            "EdinburghNLP/xsum",
            splits={"train": "train", "dev": "validation", "test": "test"},
            columns={"document": "document", "summary": "summary"},
        ),
    )
)
