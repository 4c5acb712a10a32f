"""summarization tasks (encoder-decoder backbones only).

The local readers yield canonical ``document`` / ``summary`` fields, so the local sources
declare no column mapping.
"""

from functools import partial

from muppet.tasks.catalog.common import TRAIN_DEV_TEST, TRAIN_TEST, declare, local
from muppet.tasks.formats import summarization as _formats  # noqa: F401  (registers the readers)
from muppet.tasks.spec import HubSource

summarization = partial(declare, "summarization")


def _hub(path: str, document: str, summary: str, evidence: str, name: str | None = None,
         splits: dict[str, str] = TRAIN_DEV_TEST) -> HubSource:
    """A hub copy whose rows hold the document and its summary in two columns."""
    return HubSource(path, name, splits=splits, columns={"document": document, "summary": summary}, evidence=evidence)


summarization(
    "samsum",
    "SAMSum: abstractive summaries of messenger-style dialogues. validation.json (818) is the "
    "train pool, test.json (819) the test split; the 4 validation dialogues that also occur in "
    "test.json are left out of the pool (814).",
    local=local("samsum_json", "validation.json", test="test.json", options={"exclude_dialogues_in": "test.json"}),
    hub=_hub(
        "Samsung/samsum", "dialogue", "summary", evidence=(
            "unconfirmed: main (Samsung/samsum@e52ba7c) holds samsum.py and data/corpus.7z, so its Parquet export"
            " (subset default, not seen) is read; id, dialogue, summary: datasets@2.5.0 samsum.py"
        ),
    ),
)

summarization(
    "dialogsum",
    "DialogSum: summaries of spoken everyday dialogues. train (12,460) / dev (500) / test (500) "
    "jsonl; each test dialogue has three references (summary1..3) and summary1 is used.",
    local=local("dialogsum_jsonl", "dialogsum.train.jsonl", "dialogsum.dev.jsonl", "dialogsum.test.jsonl"),
    hub=_hub("knkarthick/dialogsum", "dialogue", "summary",
             evidence="unconfirmed: no stored evidence for the community repo knkarthick/dialogsum"),
)

summarization(
    "aeslc",
    "AESLC: Enron email body -> its subject line. Packed jsonl {file, text} (one original .subject "
    "file per line: body, then '@subject' and the subject); train 14,436 / dev 1,960 / test 1,906. "
    "The extra human subjects of dev/test (@ann0..@ann2) are not used; the original subject is the summary.",
    local=local("aeslc_jsonl", "train.jsonl", "dev.jsonl", "test.jsonl"),
    hub=_hub(
        "Yale-LILY/aeslc", "email_body", "subject_line", evidence=(
            "confirmed: https://huggingface.co/datasets/aeslc/commit/2305f2e63b68056f9b9037a3805c8c196e0d5581 "
            "('Convert dataset to Parquet' deletes aeslc.py); email_body, subject_line"
        ),
    ),
)

summarization(
    "xsum",
    "XSum: one-sentence summaries of BBC articles. Locally only samples of the XSum test split, "
    "together the train pool: xsum-1000.jsonl (1,000 {document, summary, id}) and the raw "
    "extraction files (INTRODUCTION = summary, RESTBODY = document, share widget removed) minus "
    "the 29 articles already in xsum-1000 (292) -> 1,292.",
    local=local("xsum_jsonl", ("xsum-1000.jsonl", "xsum-extracts-from-downloads.jsonl"),
                options={"prefer": "xsum-1000.jsonl"}),
    hub=_hub(
        "EdinburghNLP/xsum", "document", "summary", evidence=(
            "unconfirmed: xsum.py is still on main (EdinburghNLP/xsum commits/main/xsum.py), only the "
            "parquet-converter branch was seen, so its Parquet export (subset default, not seen) is read; "
            "document, summary, id: datasets@2.5.0 xsum.py"
        ),
    ),
)

# --------------------------------------------------------------------------- hub-only tasks
#
# No local copy of these is in the shared data folder; they load from the Hugging Face hub.
# WikiHow (manual download of the source CSV) and Newsroom (licence form) have no loadable
# hub copy and are not declared.

summarization(
    "cnn_dailymail",
    "CNN/DailyMail news articles -> their bullet-point highlights (non-anonymized version 3.0.0). Hub "
    "only (abisee/cnn_dailymail: train 287,113 / dev 13,368 / test 11,490).",
    hub=_hub(
        "abisee/cnn_dailymail", "article", "highlights", name="3.0.0", evidence=(
            "confirmed: Viewer on abisee/cnn_dailymail (https://huggingface.co/pcai/activity/likes, updated "
            "2024-01-18), used by lm-eval HEAD; config 3.0.0, article, highlights: datasets@2.5.0 "
            "cnn_dailymail.py"
        ),
    ),
)

summarization(
    "gigaword",
    "Gigaword headline generation: first sentence of a news article -> its headline (Rush et al. 2015 "
    "preprocessing: lower-cased, numbers as #, rare words UNK). Hub only (Harvard/gigaword: train 3.8M / "
    "dev 189k / test 1,951).",
    hub=_hub(
        "Harvard/gigaword", "document", "summary", evidence=(
            "unconfirmed: main (Harvard/gigaword, 'Host source data (#5)') holds gigaword.py and the source "
            "archive, so its Parquet export (subset default, not seen) is read; document, summary: datasets@2.5.0"
            " gigaword.py"
        ),
    ),
)

summarization(
    "reddit_tifu",
    "Reddit TIFU (long): r/tifu posts -> their TL;DR line. Hub only (ctr4si/reddit_tifu, config long: "
    "one train split of about 42k posts, so the held-out slice is carved).",
    hub=_hub(
        "ctr4si/reddit_tifu", "documents", "tldr", name="long", splits={"train": "train"}, evidence=(
            "unconfirmed: the newest stored tree (ctr4si/reddit_tifu@9d197bc) holds only reddit_tifu.py, so its "
            "Parquet export (subset long) is read; documents, tldr, title (configs short/long, train only): "
            "datasets@2.5.0 reddit_tifu.py"
        ),
    ),
)

summarization(
    "multi_news",
    "Multi-News: several news articles about one event (separated by '|||||') -> a newser.com summary. "
    "Hub only (alexfabbri/multi_news: train 44,972 / dev 5,622 / test 5,622).",
    hub=_hub(
        "alexfabbri/multi_news", "document", "summary", evidence=(
            "unconfirmed: the newest stored tree (alexfabbri/multi_news@713d981) holds multi_news.py and raw "
            "files, so its Parquet export (subset default, not seen) is read; document, summary: datasets@2.5.0 "
            "multi_news.py"
        ),
    ),
)

summarization(
    "billsum",
    "BillSum: US Congressional bills -> their CRS summaries. Hub only (FiscalNote/billsum: train 18,949 / "
    "test 3,269; the California ca_test split is not declared).",
    hub=_hub(
        "FiscalNote/billsum", "text", "summary", splits=TRAIN_TEST, evidence=(
            "unconfirmed: loadability not seen; schema: datasets@2.5.0 billsum.py (text, summary, title; splits "
            "train/test/ca_test)"
        ),
    ),
)
