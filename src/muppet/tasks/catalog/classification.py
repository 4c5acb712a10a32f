"""Classification and regression tasks (one head per dataset)."""

from functools import partial

from muppet.tasks.catalog.common import (
    TRAIN_DEV_TEST,
    TRAIN_TEST,
    declare,
    glue,
    indexed,
    local,
    super_glue,
    text_columns,
)
from muppet.tasks.formats import classification as _formats  # noqa: F401  (registers the readers below)
from muppet.tasks.formats import hub as _hub  # noqa: F401  (registers the hub row adapters)
from muppet.tasks.spec import HubSource

classification = partial(declare, "classification")
PREMISE_HYPOTHESIS = text_columns("premise", "hypothesis")
SENTENCE_PAIR = ("sentence1", "sentence2")
# An old loading script's NLI layout: label<TAB>premise<TAB>hypothesis, no header.
_LABEL_PREMISE_HYPOTHESIS = {"header": False, "fieldnames": ("label", "premise", "hypothesis")}

classification(
    "rte", "Recognizing Textual Entailment (GLUE/SuperGLUE RTE): premise -> hypothesis.",
    labels=("entailment", "not_entailment"),
    local=local("jsonl", "train.jsonl", "val.jsonl", columns=PREMISE_HYPOTHESIS),
    hub=glue("rte", *SENTENCE_PAIR),
)

# --------------------------------------------------------------------------- GLUE

_COLA_LABELS = ("unacceptable", "acceptable")
classification(
    "cola",
    "CoLA (GLUE): is a sentence grammatically acceptable? Headerless raw release: "
    "in_domain_train.tsv = train; dev = in_domain_dev.tsv + out_of_domain_dev.tsv (the GLUE dev set).",
    labels=_COLA_LABELS,
    metric="mcc",
    local=local(
        "tsv", "in_domain_train.tsv", ("in_domain_dev.tsv", "out_of_domain_dev.tsv"),
        columns=text_columns("sentence"),
        options={"header": False, "fieldnames": ("source", "label", "original_judgement", "sentence")},
        label_map=indexed(_COLA_LABELS),
    ),
    hub=glue("cola", "sentence"),
)

_BINARY_SENTIMENT = ("negative", "positive")
classification(
    "sst2",
    "SST-2 (GLUE) binary sentiment of movie-review phrases and sentences: train.tsv = train "
    "(67,349 phrases), dev.tsv = dev, test-labeled.tsv (CRLF) = labelled test. The SentEval "
    "stsa.binary.* files are another version of the same data and are not used.",
    labels=_BINARY_SENTIMENT,
    local=local("tsv", "train.tsv", "dev.tsv", "test-labeled.tsv", columns=text_columns("sentence"),
                label_map=indexed(_BINARY_SENTIMENT)),
    hub=glue("sst2", "sentence"),
)

_MRPC_LABELS = ("not_equivalent", "equivalent")
classification(
    "mrpc",
    "MRPC (GLUE): are two news sentences paraphrases? Original MSR files (BOM, header, quotes are "
    "text): msr_paraphrase_train.txt = train (GLUE train + dev; the GLUE dev ids are not available, "
    "so the held-out slice is carved), msr_paraphrase_test.txt = labelled test.",
    labels=_MRPC_LABELS,
    local=local("tsv", "msr_paraphrase_train.txt", test="msr_paraphrase_test.txt",
                columns=text_columns("#1 String", "#2 String", "Quality"), options={"quoting": "none"},
                label_map=indexed(_MRPC_LABELS)),
    hub=glue("mrpc", *SENTENCE_PAIR),
)

classification(
    "stsb",
    "STS-B (GLUE) sentence-pair similarity regression (score 0-5): train.tsv = train, "
    "dev.tsv = dev; test.tsv is unlabelled and not declared.",
    label_range=(0.0, 5.0),
    metric="pearson",
    local=local("tsv", "train.tsv", "dev.tsv", columns=text_columns(*SENTENCE_PAIR, "score")),
    hub=glue("stsb", *SENTENCE_PAIR),
)

classification(
    "qnli",
    "QNLI (GLUE): does the sentence answer the question? Only the GLUE dev.tsv is here (train.tsv "
    "is absent, test.tsv unlabelled), so dev.tsv is the train pool and the held-out slice is carved.",
    labels=("entailment", "not_entailment"),
    local=local("tsv", "dev.tsv", columns=text_columns("question", "sentence")),
    hub=glue("qnli", "question", "sentence"),
)

_NLI_LABELS = ("entailment", "neutral", "contradiction")
classification(
    "mnli",
    "MultiNLI premise -> hypothesis. Only two 1,000-example samples of the dev sets (TextFooler, "
    "tokenized; label<TAB>premise<TAB>hypothesis): mnli_matched + mnli_mismatched form the train "
    "pool and the held-out slice is carved.",
    labels=_NLI_LABELS,
    local=local("tsv", ("mnli_matched", "mnli_mismatched"), columns=PREMISE_HYPOTHESIS,
                options=_LABEL_PREMISE_HYPOTHESIS),
    hub=glue("mnli", "premise", "hypothesis", dev="validation_matched"),
)

# --------------------------------------------------------------------------- SuperGLUE

# No official SuperGLUE train file is here for these tasks: the official validation set and the
# FewGLUE 32-example train/dev32 sets (subsets of the official train; checked disjoint from it and
# from each other) form one train pool, from which the held-out slice is carved.
_FEWGLUE_POOL = ("val.jsonl", "fewglue/train.jsonl", "fewglue/dev32.jsonl")
_BOOL = ("False", "True")


def _fewglue(name: str, config: str, description: str) -> None:
    """A binary SuperGLUE task whose reader (superglue_<name>) renders the FewGLUE pool and the
    hub's rows alike."""
    format = f"superglue_{name}"
    classification(name, description, labels=_BOOL, local=local(format, _FEWGLUE_POOL),
                   hub=super_glue(config, format=format))


_BOOLQ_COLUMNS = text_columns("passage", "question", group="passage")
classification(
    "boolq",
    "BoolQ (SuperGLUE): yes/no question about a Wikipedia passage. Train pool = val.jsonl (3,270) + "
    "FewGLUE train/dev32 (32 + 32); the group is the passage, which a few questions share.",
    labels=_BOOL,
    local=local("jsonl", _FEWGLUE_POOL, columns=_BOOLQ_COLUMNS),
    hub=super_glue("boolq", columns=_BOOLQ_COLUMNS),
)

classification(
    "cb",
    "CommitmentBank (SuperGLUE) 3-way entailment: train.jsonl (full official train, 250) = train, "
    "val.jsonl = dev. The fewglue/ files are subsets of train.jsonl and are not added again.",
    labels=("entailment", "contradiction", "neutral"),
    metric="f1_macro",
    local=local("jsonl", "train.jsonl", "val.jsonl", columns=PREMISE_HYPOTHESIS),
    hub=super_glue("cb", columns=PREMISE_HYPOTHESIS),
)

# The hub already has one row per (question, answer option); the adapter renders it alike.
_fewglue(
    "multirc", "multirc",
    "MultiRC (SuperGLUE): is an answer option correct for a question on a passage? One binary example "
    "per (question, option): text_a = passage, text_b = question + ' ' + option, grouped by passage. "
    "Train pool = val.jsonl (83 passages) + FewGLUE train/dev32 (32 + 32 passages).",
)
_fewglue(
    "wic", "wic",
    "WiC (SuperGLUE): is the target word used in the same sense in both sentences? text_a = word + "
    "': ' + sentence1, text_b = sentence2. Train pool = val.jsonl (638) + FewGLUE train/dev32.",
)
# wsc.fixed repairs span texts that are not substrings of the text; the spans are then marked as
# in the local reader.
_fewglue(
    "wsc", "wsc.fixed",
    "WSC (SuperGLUE): does the pronoun refer to the candidate? The candidate and the pronoun are "
    "wrapped in *...* in the text (one example per record; one val record's pronoun index is off by "
    "one word and is moved to the nearest match; val.jsonl repeats 3 records verbatim, kept as released "
    "and grouped by text). Train pool = val.jsonl (104) + FewGLUE train (True only)/dev32.",
)

# --------------------------------------------------------------------------- other classification

classification(
    "mc_taco",
    "MC-TACO temporal commonsense: is a candidate answer plausible? One binary example per row: text_a = "
    "sentence, text_b = question + ' ' + candidate, grouped by (sentence, question). dev_3783.tsv = train "
    "(the only supervision by design), test_9442.tsv = labelled test.",
    labels=("no", "yes"),
    local=local("mc_taco_tsv", "dev_3783.tsv", test="test_9442.tsv"),
    # The hub's validation split is dev_3783 (the training pool here) and its test split test_9442.
    hub=HubSource(
        "CogComp/mc_taco", splits={"train": "validation", "test": "test"}, format="mc_taco",
        evidence=(
            "unconfirmed: script-only (https://huggingface.co/datasets/CogComp/mc_taco/tree/main holds mc_taco.py"
            " only; lm-eval issue #3171 lists it failing), no Parquet export seen; schema: datasets@2.5.0 "
            "mc_taco.py (sentence, question, answer, label [no, yes], category)"
        ),
    ),
)

TEXT_LABEL = text_columns("text")
_AG_NEWS_LABELS = ("World", "Sports", "Business", "Science/Tech")
classification(
    "ag_news",
    "AG News 4-way topic classification. Only the official test.csv is here; it is the train pool "
    "(held-out slice carved). Text = title + ' ' + description, as in the hub version.",
    labels=_AG_NEWS_LABELS,
    local=local("ag_news_csv", "test.csv", label_map=indexed(_AG_NEWS_LABELS, start=1)),
    hub=HubSource(
        "fancyzhx/ag_news", splits=TRAIN_TEST, columns=TEXT_LABEL,
        evidence=(
            "confirmed: Viewer on fancyzhx/ag_news (https://huggingface.co/Ethan2003/activity/likes, updated "
            "2024-03-07); labels [World, Sports, Business, Sci/Tech]: datasets@2.5.0 ag_news.py"
        ),
    ),
)


def _label_text(name: str, file: str, description: str, hub: HubSource) -> None:
    """A binary sentiment task whose local copy is a TextFooler 'label text' test sample."""
    classification(name, description, labels=_BINARY_SENTIMENT, hub=hub,
                   local=local("label_text", file, columns=TEXT_LABEL, label_map=indexed(_BINARY_SENTIMENT)))


_label_text(
    "imdb", "imdb",
    "IMDB movie-review sentiment. Only a 1,000-example test sample (TextFooler, lower-cased, tokenized; "
    "'label text' lines) is here; it is the train pool (held-out slice carved).",
    HubSource(
        "stanfordnlp/imdb", splits=TRAIN_TEST, columns=TEXT_LABEL,
        evidence="confirmed: the datasets 4.0.0 docs load 'stanfordnlp/imdb'; labels [neg, pos]: datasets@2.5.0 imdb.py",
    ),
)
_label_text(
    "yelp_polarity", "yelp",
    "Yelp review polarity. Only a 1,000-example test sample (TextFooler, lower-cased, tokenized, "
    "'label text' lines; texts keep the sample's quoting and literal \\n) is here; it is the train pool.",
    HubSource(
        "fancyzhx/yelp_polarity", splits=TRAIN_TEST, columns=TEXT_LABEL,
        evidence=(
            "unconfirmed: the newest stored tree (fancyzhx/yelp_polarity@3fd6e53) still holds yelp_polarity.py, "
            "so its Parquet export (subset default, not seen) may be read; labels ['1', '2'] = negative, "
            "positive: datasets@2.5.0 yelp_polarity.py"
        ),
    ),
)

classification(
    "snli",
    "SNLI premise -> hypothesis. Only a 1,000-example test sample (TextFooler, tokenized; "
    "label<TAB>premise<TAB>hypothesis) is here; it is the train pool (held-out slice carved).",
    labels=_NLI_LABELS,
    local=local("tsv", "snli", columns=PREMISE_HYPOTHESIS, options=_LABEL_PREMISE_HYPOTHESIS),
    hub=HubSource(
        "stanfordnlp/snli", splits=TRAIN_DEV_TEST, columns=PREMISE_HYPOTHESIS,
        filter={"label": {"!=": -1}},  # rows without a gold label are -1 in every split (dataset card)
        evidence=(
            "confirmed: "
            "https://huggingface.co/datasets/stanfordnlp/snli/commit/cdb5c3d5eed6ead6e5a341c8e56e669bb666725b "
            "('Convert dataset to Parquet' deletes snli.py); rows without a gold label are -1 (dataset card; "
            "datasets@2.5.0 snli.py), labels [entailment, neutral, contradiction]"
        ),
    ),
)

# The LM-BFF splits of sentence polarity tasks: jsonl {sentence, label} per split.
_LMBFF_QUIRK = "jsonl {sentence, label}; the reader undoes the CSV quoting left on about half the sentences"


def _lmbff(name: str, description: str, labels: tuple[str, ...] = _BINARY_SENTIMENT, dev: str = "",
           options: dict[str, bool] | None = None, hub: HubSource | None = None) -> None:
    """A sentence task of LM-BFF's split (train_full.jsonl, test.jsonl, an integer label)."""
    classification(
        name, description, labels=labels, hub=hub,
        local=local("lmbff_jsonl", "train_full.jsonl", dev, "test.jsonl", columns=text_columns("sentence"),
                    label_map=indexed(labels), **({"options": options} if options else {})),
    )


_lmbff(
    "rotten_tomatoes",
    "Rotten Tomatoes / MR movie-review sentence polarity (LM-BFF split): train_full.jsonl = train, "
    f"test.jsonl = labelled test; {_LMBFF_QUIRK}.",
    hub=HubSource(
        "cornell-movie-review-data/rotten_tomatoes", splits=TRAIN_DEV_TEST, columns=TEXT_LABEL,
        evidence=(
            "confirmed: tree cornell-movie-review-data/rotten_tomatoes@b6059de (train/validation/test.parquet); "
            "labels [neg, pos]: datasets@2.5.0 rotten_tomatoes.py"
        ),
    ),
)
_lmbff(
    "sst5",
    "SST-5 fine-grained sentence sentiment (LM-BFF split): train_full.jsonl = train, dev.jsonl = dev, "
    f"test.jsonl = labelled test; {_LMBFF_QUIRK}.",
    labels=("very negative", "negative", "neutral", "positive", "very positive"),
    dev="dev.jsonl",
    hub=HubSource(
        "SetFit/sst5", splits=TRAIN_DEV_TEST, columns=TEXT_LABEL,
        evidence=(
            "confirmed: SetFit/sst5's dataset_info as copied in "
            "https://huggingface.co/datasets/artemis13fowl/sst-3/blob/main/test/dataset_info.json "
            "(train/dev/test.jsonl; text, label int64, label_text) and its viewer splits train/validation/test; "
            "label 0-4 = very negative..very positive (SST-5 order; label_text not checked)"
        ),
    ),
)
_lmbff(
    "cr",
    "CR customer-review sentence polarity (SentEval CR, LM-BFF split): train_full.jsonl = train, "
    f"test.jsonl = labelled test; {_LMBFF_QUIRK}. Empty review lines (3 in train, 1 in test) are dropped.",
    options={"skip_empty": True},
    hub=HubSource(
        "SetFit/SentEval-CR", splits=TRAIN_TEST, columns=TEXT_LABEL,
        evidence=(
            "confirmed: tree https://huggingface.co/datasets/SetFit/SentEval-CR/tree/main (train.jsonl, "
            "test.jsonl); int labels as in SentEval (values not seen on rows)"
        ),
    ),
)

_lmbff(
    "subj",
    "SUBJ subjectivity of movie-review sentences (SentEval SUBJ, LM-BFF split; 0 = subjective, "
    f"1 = objective): train_full.jsonl = train, test.jsonl = labelled test; {_LMBFF_QUIRK}.",
    labels=("subjective", "objective"),
    hub=HubSource(
        "SetFit/subj", splits=TRAIN_TEST,
        columns=TEXT_LABEL,  # the int, as the local copy; label_text's strings are unseen
        label_map={"0": "subjective", "1": "objective"},
        evidence=(
            "confirmed: tree https://huggingface.co/datasets/SetFit/subj/tree/main (train.jsonl, test.jsonl; "
            "README: SentEval's SUBJ); the int label is read (SentEval: 0 = subjective, 1 = objective), not "
            "label_text, whose strings were never seen"
        ),
    ),
)
_lmbff(
    "mpqa",
    "MPQA opinion polarity of short phrases (SentEval MPQA, LM-BFF split): train_full.jsonl = train, "
    f"test.jsonl = labelled test; {_LMBFF_QUIRK}.",
)

_DBPEDIA_CLASSES = (
    "Company",
    "EducationalInstitution",
    "Artist",
    "Athlete",
    "OfficeHolder",
    "MeanOfTransportation",
    "Building",
    "NaturalPlace",
    "Village",
    "Animal",
    "Plant",
    "Album",
    "Film",
    "WrittenWork",
)
classification(
    "dbpedia",
    "DBpedia-14 ontology classification of Wikipedia abstracts. Tiny: train.jsonl (64-shot sample) = "
    "train, dev_subsample.jsonl (256) = dev; labels '1'-'14' in classes.txt order.",
    labels=_DBPEDIA_CLASSES,
    local=local("jsonl", "train.jsonl", "dev_subsample.jsonl", columns=text_columns("sentence"),
                label_map=indexed(_DBPEDIA_CLASSES, start=1)),
    hub=HubSource(
        "fancyzhx/dbpedia_14", splits=TRAIN_TEST, columns=text_columns("content"),
        evidence=(
            "confirmed: Viewer on fancyzhx/dbpedia_14 (https://huggingface.co/Ethan2003/activity/likes, updated "
            "2024-01-22); label order: datasets@2.5.0 dbpedia_14.py"
        ),
    ),
)

classification(
    "anli",
    "Adversarial NLI premise -> hypothesis. Only the R1/R2/R3 dev sets are here (ANLIzing-ANLI csv: "
    "context, statement, gold_label e/n/c; extra annotation columns ignored; R3 has 1,198 of 1,200); "
    "together they are the train pool, grouped by premise.",
    labels=_NLI_LABELS,
    local=local(
        "csv", ("ANLI_analysis_r1_dev.csv", "ANLI_analysis_r2_dev.csv", "ANLI_analysis_r3_dev.csv"),
        columns=text_columns("context", "statement", "gold_label", group="context"),
        label_map={"e": "entailment", "n": "neutral", "c": "contradiction"},
    ),
    hub=HubSource(
        "facebook/anli",
        splits={"train": "train_r1+train_r2+train_r3", "dev": "dev_r1+dev_r2+dev_r3", "test": "test_r1+test_r2+test_r3"},
        columns=PREMISE_HYPOTHESIS,
        evidence=(
            "confirmed: facebook/anli is lm-eval's working id (lm-eval issue #3171, 2025-07-22); splits "
            "train_r1..test_r3, labels [entailment, neutral, contradiction]: datasets@2.5.0 anli.py"
        ),
    ),
)

# --------------------------------------------------------------------------- hub-only tasks
#
# No local copy of these is in the shared data folder; they load from the Hugging Face hub.
# Label names follow the hub's ClassLabel order, whose integers are taken as indices.

classification(
    "qqp", "Quora Question Pairs (GLUE): are two questions paraphrases? Hub only (nyu-mll/glue qqp).",
    labels=("not_duplicate", "duplicate"),
    hub=glue("qqp", "question1", "question2"),
)

classification(
    "wnli",
    "WNLI (GLUE): Winograd schemas recast as entailment (is the sentence with the pronoun replaced "
    "entailed?). Hub only (nyu-mll/glue wnli); its dev set is adversarial to its train set by design.",
    labels=("not_entailment", "entailment"),
    hub=glue("wnli", *SENTENCE_PAIR),
)

classification(
    "paws",
    "PAWS-Wiki (labeled_final): paraphrase identification on sentence pairs with high word overlap "
    "(word-swapped adversaries). Hub only (google-research-datasets/paws, labels 0/1).",
    labels=("not_paraphrase", "paraphrase"),
    hub=HubSource(
        "google-research-datasets/paws", "labeled_final", splits=TRAIN_DEV_TEST, columns=text_columns(*SENTENCE_PAIR),
        filter={"label": {"!=": -1}},  # the loading script replaced missing labels with -1
        evidence=(
            "unconfirmed: loadability not seen; schema: datasets@2.5.0 paws.py (labeled_final: id, sentence1, "
            "sentence2, label ['0', '1']; missing labels became -1)"
        ),
    ),
)

classification(
    "scitail",
    "SciTail: does a web sentence (premise) entail a science-exam statement (hypothesis)? Two classes. "
    "Hub only (allenai/scitail snli_format; gold_label is the label name).",
    labels=("entailment", "neutral"),
    hub=HubSource(
        "allenai/scitail", "snli_format", splits=TRAIN_DEV_TEST, columns=text_columns(*SENTENCE_PAIR, "gold_label"),
        evidence=(
            "unconfirmed: loadability and the gold_label strings not seen; schema: datasets@2.5.0 scitail.py "
            "(snli_format: sentence1, sentence2, gold_label)"
        ),
    ),
)

classification(
    "trec",
    "TREC question classification, the 6 coarse classes (fine labels not used). Hub only "
    "(CogComp/trec: train 5,452 / test 500).",
    labels=("ABBR", "ENTY", "DESC", "HUM", "LOC", "NUM"),
    hub=HubSource(
        "CogComp/trec", splits=TRAIN_TEST, columns=text_columns("text", label="coarse_label"),
        evidence=(
            "unconfirmed: script-only by the newest stored tree (CogComp/trec@fd49ef4 holds trec.py only), no "
            "Parquet export seen; coarse_label order [ABBR, ENTY, DESC, HUM, LOC, NUM]: datasets@2.5.0 trec.py"
        ),
    ),
)

classification(
    "emotion",
    "Emotion of English tweets, 6 classes (imbalanced; macro-F1). Hub only (dair-ai/emotion, "
    "config 'split': 16k/2k/2k).",
    labels=("sadness", "joy", "love", "anger", "fear", "surprise"),
    metric="f1_macro",
    hub=HubSource(
        "dair-ai/emotion", "split", splits=TRAIN_DEV_TEST, columns=TEXT_LABEL,
        evidence=(
            "confirmed: tree dair-ai/emotion@106c232/split (Parquet; configs split/unsplit); labels [sadness, "
            "joy, love, anger, fear, surprise]: datasets@2.5.0 emotion.py"
        ),
    ),
)

classification(
    "tweet_eval_sentiment",
    "TweetEval sentiment (SemEval-2017 task 4A): 3-way tweet sentiment. Hub only (cardiffnlp/tweet_eval).",
    labels=("negative", "neutral", "positive"),
    metric="f1_macro",
    hub=HubSource(
        "cardiffnlp/tweet_eval", "sentiment", splits=TRAIN_DEV_TEST, columns=TEXT_LABEL,
        evidence=(
            "confirmed: Viewer on cardiffnlp/tweet_eval (https://huggingface.co/Gordon119/activity/likes, updated"
            " 2024-01-04); labels [negative, neutral, positive]: datasets@2.5.0 tweet_eval.py"
        ),
    ),
)


def _joined(*fields: str) -> dict[str, object]:
    """A hub row's text fields joined into ``text`` (the join_fields adapter), read as the text."""
    return {"format": "join_fields", "options": {"fields": fields, "into": "text"}}


classification(
    "amazon_polarity",
    "Amazon review polarity (Zhang et al. 2015): text = title + ' ' + content, as for AG News. Hub only "
    "(fancyzhx/amazon_polarity: 3.6M train / 400k test).",
    labels=_BINARY_SENTIMENT,
    hub=HubSource(
        "fancyzhx/amazon_polarity", splits=TRAIN_TEST, columns=TEXT_LABEL, **_joined("title", "content"),
        evidence=(
            "confirmed: Viewer on fancyzhx/amazon_polarity (https://huggingface.co/buvnswrn/activity/likes, "
            "updated 2024-01-09); title, content, label [negative, positive]: datasets@2.5.0 amazon_polarity.py"
        ),
    ),
)

classification(
    "yelp_review_full",
    "Yelp reviews, 1-5 stars (Zhang et al. 2015). Hub only (Yelp/yelp_review_full: 650k train / 50k test).",
    labels=("1 star", "2 star", "3 stars", "4 stars", "5 stars"),
    hub=HubSource(
        "Yelp/yelp_review_full", splits=TRAIN_TEST, columns=TEXT_LABEL,
        evidence=(
            "confirmed: Viewer on Yelp/yelp_review_full (https://huggingface.co/buvnswrn/activity/likes, updated "
            "2024-01-04); labels '1 star'..'5 stars': datasets@2.5.0 yelp_review_full.py"
        ),
    ),
)

classification(
    "yahoo_answers_topics",
    "Yahoo! Answers topic classification, 10 classes: text = question title + content + best answer "
    "(empty parts skipped). Hub only (community-datasets/yahoo_answers_topics: 1.4M train / 60k test).",
    labels=(
        "Society & Culture",
        "Science & Mathematics",
        "Health",
        "Education & Reference",
        "Computers & Internet",
        "Sports",
        "Business & Finance",
        "Entertainment & Music",
        "Family & Relationships",
        "Politics & Government",
    ),
    hub=HubSource(
        "community-datasets/yahoo_answers_topics", "yahoo_answers_topics", splits=TRAIN_TEST,
        columns=text_columns("text", label="topic"), **_joined("question_title", "question_content", "best_answer"),
        evidence=(
            "unconfirmed: the config name after the mid-2024 conversion was not seen; schema: datasets@2.5.0 "
            "yahoo_answers_topics.py (topic order, question_title, question_content, best_answer)"
        ),
    ),
)
