"""Classification and regression tasks (one head per dataset)."""

from muppet.tasks.formats import classification as _formats  # noqa: F401  (registers the readers below)
from muppet.tasks.formats import hub as _hub  # noqa: F401  (registers the hub row adapters)
from muppet.tasks.spec import HubSource, LocalSource, TaskSpec, register

# Where the schema of a hub repository shared by several tasks was confirmed (HubSource.evidence).
_GLUE_EVIDENCE = (
    "confirmed: tree https://huggingface.co/datasets/nyu-mll/glue/tree/0de23925db68e9cf6287d3776a0f67f5267a42eb "
    "(Parquet per config, no glue.py); columns and label order: datasets@2.5.0 glue.py"
)
SUPERGLUE_EVIDENCE = (
    "unconfirmed: the newest stored main tree (aps/super_glue@ee65e3e) holds only super_glue.py and its conversion PR"
    " #16 was not seen merged, so the Parquet export (subset = the config, not seen) may be read; schema and label "
    "order: datasets@2.5.0 super_glue.py"
)

register(
    TaskSpec(
        name="rte",
        family="classification",
        labels=("entailment", "not_entailment"),
        description="Recognizing Textual Entailment (GLUE/SuperGLUE RTE): premise -> hypothesis.",
        local=LocalSource(
            format="jsonl",
            splits={"train": ("train.jsonl",), "dev": ("val.jsonl",)},
            columns={"text_a": "premise", "text_b": "hypothesis", "label": "label"},
        ),
        hub=HubSource(
            "nyu-mll/glue",
            "rte",
            splits={"train": "train", "dev": "validation"},
            columns={"text_a": "sentence1", "text_b": "sentence2", "label": "label"},
            evidence=_GLUE_EVIDENCE,
        ),
    )
)

# --------------------------------------------------------------------------- GLUE

register(
    TaskSpec(
        name="cola",
        family="classification",
        labels=("unacceptable", "acceptable"),
        metric="mcc",
        description=(
            "CoLA (GLUE): is a sentence grammatically acceptable? Headerless raw release: "
            "in_domain_train.tsv = train; dev = in_domain_dev.tsv + out_of_domain_dev.tsv (the GLUE dev set)."
        ),
        local=LocalSource(
            format="tsv",
            splits={"train": ("in_domain_train.tsv",), "dev": ("in_domain_dev.tsv", "out_of_domain_dev.tsv")},
            columns={"text_a": "sentence", "label": "label"},
            options={"header": False, "fieldnames": ("source", "label", "original_judgement", "sentence")},
            label_map={"0": "unacceptable", "1": "acceptable"},
        ),
        hub=HubSource(
            "nyu-mll/glue",
            "cola",
            splits={"train": "train", "dev": "validation"},
            columns={"text_a": "sentence", "label": "label"},
            evidence=_GLUE_EVIDENCE,
        ),
    )
)

register(
    TaskSpec(
        name="sst2",
        family="classification",
        labels=("negative", "positive"),
        description=(
            "SST-2 (GLUE) binary sentiment of movie-review phrases and sentences: train.tsv = train "
            "(67,349 phrases), dev.tsv = dev, test-labeled.tsv (CRLF) = labelled test. The SentEval "
            "stsa.binary.* files are another version of the same data and are not used."
        ),
        local=LocalSource(
            format="tsv",
            splits={"train": ("train.tsv",), "dev": ("dev.tsv",), "test": ("test-labeled.tsv",)},
            columns={"text_a": "sentence", "label": "label"},
            label_map={"0": "negative", "1": "positive"},
        ),
        hub=HubSource(
            "nyu-mll/glue",
            "sst2",
            splits={"train": "train", "dev": "validation"},
            columns={"text_a": "sentence", "label": "label"},
            evidence=_GLUE_EVIDENCE,
        ),
    )
)

register(
    TaskSpec(
        name="mrpc",
        family="classification",
        labels=("not_equivalent", "equivalent"),
        description=(
            "MRPC (GLUE): are two news sentences paraphrases? Original MSR files (BOM, header, quotes are "
            "text): msr_paraphrase_train.txt = train (GLUE train + dev; the GLUE dev ids are not available, "
            "so the held-out slice is carved), msr_paraphrase_test.txt = labelled test."
        ),
        local=LocalSource(
            format="tsv",
            splits={"train": ("msr_paraphrase_train.txt",), "test": ("msr_paraphrase_test.txt",)},
            columns={"text_a": "#1 String", "text_b": "#2 String", "label": "Quality"},
            options={"quoting": "none"},
            label_map={"0": "not_equivalent", "1": "equivalent"},
        ),
        hub=HubSource(
            "nyu-mll/glue",
            "mrpc",
            splits={"train": "train", "dev": "validation"},
            columns={"text_a": "sentence1", "text_b": "sentence2", "label": "label"},
            evidence=_GLUE_EVIDENCE,
        ),
    )
)

register(
    TaskSpec(
        name="stsb",
        family="classification",
        label_range=(0.0, 5.0),
        metric="pearson",
        description=(
            "STS-B (GLUE) sentence-pair similarity regression (score 0-5): train.tsv = train, "
            "dev.tsv = dev; test.tsv is unlabelled and not declared."
        ),
        local=LocalSource(
            format="tsv",
            splits={"train": ("train.tsv",), "dev": ("dev.tsv",)},
            columns={"text_a": "sentence1", "text_b": "sentence2", "label": "score"},
        ),
        hub=HubSource(
            "nyu-mll/glue",
            "stsb",
            splits={"train": "train", "dev": "validation"},
            columns={"text_a": "sentence1", "text_b": "sentence2", "label": "label"},
            evidence=_GLUE_EVIDENCE,
        ),
    )
)

register(
    TaskSpec(
        name="qnli",
        family="classification",
        labels=("entailment", "not_entailment"),
        description=(
            "QNLI (GLUE): does the sentence answer the question? Only the GLUE dev.tsv is here (train.tsv "
            "is absent, test.tsv unlabelled), so dev.tsv is the train pool and the held-out slice is carved."
        ),
        local=LocalSource(
            format="tsv",
            splits={"train": ("dev.tsv",)},
            columns={"text_a": "question", "text_b": "sentence", "label": "label"},
        ),
        hub=HubSource(
            "nyu-mll/glue",
            "qnli",
            splits={"train": "train", "dev": "validation"},
            columns={"text_a": "question", "text_b": "sentence", "label": "label"},
            evidence=_GLUE_EVIDENCE,
        ),
    )
)

register(
    TaskSpec(
        name="mnli",
        family="classification",
        labels=("entailment", "neutral", "contradiction"),
        description=(
            "MultiNLI premise -> hypothesis. Only two 1,000-example samples of the dev sets (TextFooler, "
            "tokenized; label<TAB>premise<TAB>hypothesis): mnli_matched + mnli_mismatched form the train "
            "pool and the held-out slice is carved."
        ),
        local=LocalSource(
            format="tsv",
            splits={"train": ("mnli_matched", "mnli_mismatched")},
            columns={"text_a": "premise", "text_b": "hypothesis", "label": "label"},
            options={"header": False, "fieldnames": ("label", "premise", "hypothesis")},
        ),
        hub=HubSource(
            "nyu-mll/glue",
            "mnli",
            splits={"train": "train", "dev": "validation_matched"},
            columns={"text_a": "premise", "text_b": "hypothesis", "label": "label"},
            evidence=_GLUE_EVIDENCE,
        ),
    )
)

# --------------------------------------------------------------------------- SuperGLUE

# No official SuperGLUE train file is here for these tasks: the official validation set and the
# FewGLUE 32-example train/dev32 sets (subsets of the official train; checked disjoint from it and
# from each other) form one train pool, from which the held-out slice is carved.
_FEWGLUE_POOL = ("val.jsonl", "fewglue/train.jsonl", "fewglue/dev32.jsonl")

register(
    TaskSpec(
        name="boolq",
        family="classification",
        labels=("False", "True"),
        description=(
            "BoolQ (SuperGLUE): yes/no question about a Wikipedia passage. Train pool = val.jsonl (3,270) + "
            "FewGLUE train/dev32 (32 + 32); the group is the passage, which a few questions share."
        ),
        local=LocalSource(
            format="jsonl",
            splits={"train": _FEWGLUE_POOL},
            columns={"text_a": "passage", "text_b": "question", "label": "label", "group": "passage"},
        ),
        hub=HubSource(
            "aps/super_glue",
            "boolq",
            splits={"train": "train", "dev": "validation"},
            columns={"text_a": "passage", "text_b": "question", "label": "label", "group": "passage"},
            evidence=SUPERGLUE_EVIDENCE,
        ),
    )
)

register(
    TaskSpec(
        name="cb",
        family="classification",
        labels=("entailment", "contradiction", "neutral"),
        metric="f1_macro",
        description=(
            "CommitmentBank (SuperGLUE) 3-way entailment: train.jsonl (full official train, 250) = train, "
            "val.jsonl = dev. The fewglue/ files are subsets of train.jsonl and are not added again."
        ),
        local=LocalSource(
            format="jsonl",
            splits={"train": ("train.jsonl",), "dev": ("val.jsonl",)},
            columns={"text_a": "premise", "text_b": "hypothesis", "label": "label"},
        ),
        hub=HubSource(
            "aps/super_glue",
            "cb",
            splits={"train": "train", "dev": "validation"},
            columns={"text_a": "premise", "text_b": "hypothesis", "label": "label"},
            evidence=SUPERGLUE_EVIDENCE,
        ),
    )
)

register(
    TaskSpec(
        name="multirc",
        family="classification",
        labels=("False", "True"),
        description=(
            "MultiRC (SuperGLUE): is an answer option correct for a question on a passage? One binary example "
            "per (question, option): text_a = passage, text_b = question + ' ' + option, grouped by passage. "
            "Train pool = val.jsonl (83 passages) + FewGLUE train/dev32 (32 + 32 passages)."
        ),
        local=LocalSource(format="superglue_multirc", splits={"train": _FEWGLUE_POOL}),
        # The hub already has one row per (question, answer option); the adapter renders it alike.
        hub=HubSource(
            "aps/super_glue",
            "multirc",
            splits={"train": "train", "dev": "validation"},
            format="superglue_multirc",
            evidence=SUPERGLUE_EVIDENCE,
        ),
    )
)

register(
    TaskSpec(
        name="wic",
        family="classification",
        labels=("False", "True"),
        description=(
            "WiC (SuperGLUE): is the target word used in the same sense in both sentences? text_a = word + "
            "': ' + sentence1, text_b = sentence2. Train pool = val.jsonl (638) + FewGLUE train/dev32."
        ),
        local=LocalSource(format="superglue_wic", splits={"train": _FEWGLUE_POOL}),
        hub=HubSource(
            "aps/super_glue", "wic", splits={"train": "train", "dev": "validation"}, format="superglue_wic",
            evidence=SUPERGLUE_EVIDENCE,
        ),
    )
)

register(
    TaskSpec(
        name="wsc",
        family="classification",
        labels=("False", "True"),
        description=(
            "WSC (SuperGLUE): does the pronoun refer to the candidate? The candidate and the pronoun are "
            "wrapped in *...* in the text (one example per record; one val record's pronoun index is off by "
            "one word and is moved to the nearest match; val.jsonl repeats 3 records verbatim, kept as released "
            "and grouped by text). Train pool = val.jsonl (104) + FewGLUE train (True only)/dev32."
        ),
        local=LocalSource(format="superglue_wsc", splits={"train": _FEWGLUE_POOL}),
        # wsc.fixed repairs span texts that are not substrings of the text; the spans are then
        # marked as in the local reader.
        hub=HubSource(
            "aps/super_glue",
            "wsc.fixed",
            splits={"train": "train", "dev": "validation"},
            format="superglue_wsc",
            evidence=SUPERGLUE_EVIDENCE,
        ),
    )
)

# --------------------------------------------------------------------------- other classification

register(
    TaskSpec(
        name="mc_taco",
        family="classification",
        labels=("no", "yes"),
        description=(
            "MC-TACO temporal commonsense: is a candidate answer plausible? One binary example per row: text_a = "
            "sentence, text_b = question + ' ' + candidate, grouped by (sentence, question). dev_3783.tsv = train "
            "(the only supervision by design), test_9442.tsv = labelled test."
        ),
        local=LocalSource(format="mc_taco_tsv", splits={"train": ("dev_3783.tsv",), "test": ("test_9442.tsv",)}),
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
)

register(
    TaskSpec(
        name="ag_news",
        family="classification",
        labels=("World", "Sports", "Business", "Science/Tech"),
        description=(
            "AG News 4-way topic classification. Only the official test.csv is here; it is the train pool "
            "(held-out slice carved). Text = title + ' ' + description, as in the hub version."
        ),
        local=LocalSource(
            format="ag_news_csv",
            splits={"train": ("test.csv",)},
            label_map={"1": "World", "2": "Sports", "3": "Business", "4": "Science/Tech"},
        ),
        hub=HubSource(
            "fancyzhx/ag_news",
            splits={"train": "train", "test": "test"},
            columns={"text_a": "text", "label": "label"},
            evidence=(
                "confirmed: Viewer on fancyzhx/ag_news (https://huggingface.co/Ethan2003/activity/likes, updated "
                "2024-03-07); labels [World, Sports, Business, Sci/Tech]: datasets@2.5.0 ag_news.py"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="imdb",
        family="classification",
        labels=("negative", "positive"),
        description=(
            "IMDB movie-review sentiment. Only a 1,000-example test sample (TextFooler, lower-cased, tokenized; "
            "'label text' lines) is here; it is the train pool (held-out slice carved)."
        ),
        local=LocalSource(
            format="label_text",
            splits={"train": ("imdb",)},
            columns={"text_a": "text", "label": "label"},
            label_map={"0": "negative", "1": "positive"},
        ),
        hub=HubSource(
            "stanfordnlp/imdb",
            splits={"train": "train", "test": "test"},
            columns={"text_a": "text", "label": "label"},
            evidence=(
                "confirmed: the datasets 4.0.0 docs load 'stanfordnlp/imdb'; labels [neg, pos]: datasets@2.5.0 "
                "imdb.py"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="yelp_polarity",
        family="classification",
        labels=("negative", "positive"),
        description=(
            "Yelp review polarity. Only a 1,000-example test sample (TextFooler, lower-cased, tokenized, "
            "'label text' lines; texts keep the sample's quoting and literal \\n) is here; it is the train pool."
        ),
        local=LocalSource(
            format="label_text",
            splits={"train": ("yelp",)},
            columns={"text_a": "text", "label": "label"},
            label_map={"0": "negative", "1": "positive"},
        ),
        hub=HubSource(
            "fancyzhx/yelp_polarity",
            splits={"train": "train", "test": "test"},
            columns={"text_a": "text", "label": "label"},
            evidence=(
                "unconfirmed: the newest stored tree (fancyzhx/yelp_polarity@3fd6e53) still holds yelp_polarity.py, "
                "so its Parquet export (subset default, not seen) may be read; labels ['1', '2'] = negative, "
                "positive: datasets@2.5.0 yelp_polarity.py"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="snli",
        family="classification",
        labels=("entailment", "neutral", "contradiction"),
        description=(
            "SNLI premise -> hypothesis. Only a 1,000-example test sample (TextFooler, tokenized; "
            "label<TAB>premise<TAB>hypothesis) is here; it is the train pool (held-out slice carved)."
        ),
        local=LocalSource(
            format="tsv",
            splits={"train": ("snli",)},
            columns={"text_a": "premise", "text_b": "hypothesis", "label": "label"},
            options={"header": False, "fieldnames": ("label", "premise", "hypothesis")},
        ),
        hub=HubSource(
            "stanfordnlp/snli",
            splits={"train": "train", "dev": "validation", "test": "test"},
            columns={"text_a": "premise", "text_b": "hypothesis", "label": "label"},
            filter={"label": {"!=": -1}},  # rows without a gold label are -1 in every split (dataset card)
            evidence=(
                "confirmed: "
                "https://huggingface.co/datasets/stanfordnlp/snli/commit/cdb5c3d5eed6ead6e5a341c8e56e669bb666725b "
                "('Convert dataset to Parquet' deletes snli.py); rows without a gold label are -1 (dataset card; "
                "datasets@2.5.0 snli.py), labels [entailment, neutral, contradiction]"
            ),
        ),
    )
)

_LMBFF_QUIRK = "jsonl {sentence, label}; the reader undoes the CSV quoting left on about half the sentences"

register(
    TaskSpec(
        name="rotten_tomatoes",
        family="classification",
        labels=("negative", "positive"),
        description=(
            "Rotten Tomatoes / MR movie-review sentence polarity (LM-BFF split): train_full.jsonl = train, "
            f"test.jsonl = labelled test; {_LMBFF_QUIRK}."
        ),
        local=LocalSource(
            format="lmbff_jsonl",
            splits={"train": ("train_full.jsonl",), "test": ("test.jsonl",)},
            columns={"text_a": "sentence", "label": "label"},
            label_map={"0": "negative", "1": "positive"},
        ),
        hub=HubSource(
            "cornell-movie-review-data/rotten_tomatoes",
            splits={"train": "train", "dev": "validation", "test": "test"},
            columns={"text_a": "text", "label": "label"},
            evidence=(
                "confirmed: tree cornell-movie-review-data/rotten_tomatoes@b6059de (train/validation/test.parquet); "
                "labels [neg, pos]: datasets@2.5.0 rotten_tomatoes.py"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="sst5",
        family="classification",
        labels=("very negative", "negative", "neutral", "positive", "very positive"),
        description=(
            "SST-5 fine-grained sentence sentiment (LM-BFF split): train_full.jsonl = train, dev.jsonl = dev, "
            f"test.jsonl = labelled test; {_LMBFF_QUIRK}."
        ),
        local=LocalSource(
            format="lmbff_jsonl",
            splits={"train": ("train_full.jsonl",), "dev": ("dev.jsonl",), "test": ("test.jsonl",)},
            columns={"text_a": "sentence", "label": "label"},
            label_map={"0": "very negative", "1": "negative", "2": "neutral", "3": "positive", "4": "very positive"},
        ),
        hub=HubSource(
            "SetFit/sst5",
            splits={"train": "train", "dev": "validation", "test": "test"},
            columns={"text_a": "text", "label": "label"},
            evidence=(
                "confirmed: SetFit/sst5's dataset_info as copied in "
                "https://huggingface.co/datasets/artemis13fowl/sst-3/blob/main/test/dataset_info.json "
                "(train/dev/test.jsonl; text, label int64, label_text) and its viewer splits train/validation/test; "
                "label 0-4 = very negative..very positive (SST-5 order; label_text not checked)"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="cr",
        family="classification",
        labels=("negative", "positive"),
        description=(
            "CR customer-review sentence polarity (SentEval CR, LM-BFF split): train_full.jsonl = train, "
            f"test.jsonl = labelled test; {_LMBFF_QUIRK}. Empty review lines (3 in train, 1 in test) are dropped."
        ),
        local=LocalSource(
            format="lmbff_jsonl",
            splits={"train": ("train_full.jsonl",), "test": ("test.jsonl",)},
            options={"skip_empty": True},
            columns={"text_a": "sentence", "label": "label"},
            label_map={"0": "negative", "1": "positive"},
        ),
        hub=HubSource(
            "SetFit/SentEval-CR",
            splits={"train": "train", "test": "test"},
            columns={"text_a": "text", "label": "label"},
            evidence=(
                "confirmed: tree https://huggingface.co/datasets/SetFit/SentEval-CR/tree/main (train.jsonl, "
                "test.jsonl); int labels as in SentEval (values not seen on rows)"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="subj",
        family="classification",
        labels=("subjective", "objective"),
        description=(
            "SUBJ subjectivity of movie-review sentences (SentEval SUBJ, LM-BFF split; 0 = subjective, "
            f"1 = objective): train_full.jsonl = train, test.jsonl = labelled test; {_LMBFF_QUIRK}."
        ),
        local=LocalSource(
            format="lmbff_jsonl",
            splits={"train": ("train_full.jsonl",), "test": ("test.jsonl",)},
            columns={"text_a": "sentence", "label": "label"},
            label_map={"0": "subjective", "1": "objective"},
        ),
        hub=HubSource(
            "SetFit/subj",
            splits={"train": "train", "test": "test"},
            columns={"text_a": "text", "label": "label"},  # the int, as the local copy; label_text's strings are unseen
            label_map={"0": "subjective", "1": "objective"},
            evidence=(
                "confirmed: tree https://huggingface.co/datasets/SetFit/subj/tree/main (train.jsonl, test.jsonl; "
                "README: SentEval's SUBJ); the int label is read (SentEval: 0 = subjective, 1 = objective), not "
                "label_text, whose strings were never seen"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="mpqa",
        family="classification",
        labels=("negative", "positive"),
        description=(
            "MPQA opinion polarity of short phrases (SentEval MPQA, LM-BFF split): train_full.jsonl = train, "
            f"test.jsonl = labelled test; {_LMBFF_QUIRK}."
        ),
        local=LocalSource(
            format="lmbff_jsonl",
            splits={"train": ("train_full.jsonl",), "test": ("test.jsonl",)},
            columns={"text_a": "sentence", "label": "label"},
            label_map={"0": "negative", "1": "positive"},
        ),
    )
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

register(
    TaskSpec(
        name="dbpedia",
        family="classification",
        labels=_DBPEDIA_CLASSES,
        description=(
            "DBpedia-14 ontology classification of Wikipedia abstracts. Tiny: train.jsonl (64-shot sample) = "
            "train, dev_subsample.jsonl (256) = dev; labels '1'-'14' in classes.txt order."
        ),
        local=LocalSource(
            format="jsonl",
            splits={"train": ("train.jsonl",), "dev": ("dev_subsample.jsonl",)},
            columns={"text_a": "sentence", "label": "label"},
            label_map={str(i): name for i, name in enumerate(_DBPEDIA_CLASSES, start=1)},
        ),
        hub=HubSource(
            "fancyzhx/dbpedia_14",
            splits={"train": "train", "test": "test"},
            columns={"text_a": "content", "label": "label"},
            evidence=(
                "confirmed: Viewer on fancyzhx/dbpedia_14 (https://huggingface.co/Ethan2003/activity/likes, updated "
                "2024-01-22); label order: datasets@2.5.0 dbpedia_14.py"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="anli",
        family="classification",
        labels=("entailment", "neutral", "contradiction"),
        description=(
            "Adversarial NLI premise -> hypothesis. Only the R1/R2/R3 dev sets are here (ANLIzing-ANLI csv: "
            "context, statement, gold_label e/n/c; extra annotation columns ignored; R3 has 1,198 of 1,200); "
            "together they are the train pool, grouped by premise."
        ),
        local=LocalSource(
            format="csv",
            splits={
                "train": ("ANLI_analysis_r1_dev.csv", "ANLI_analysis_r2_dev.csv", "ANLI_analysis_r3_dev.csv")
            },
            columns={"text_a": "context", "text_b": "statement", "label": "gold_label", "group": "context"},
            label_map={"e": "entailment", "n": "neutral", "c": "contradiction"},
        ),
        hub=HubSource(
            "facebook/anli",
            splits={
                "train": "train_r1+train_r2+train_r3",
                "dev": "dev_r1+dev_r2+dev_r3",
                "test": "test_r1+test_r2+test_r3",
            },
            columns={"text_a": "premise", "text_b": "hypothesis", "label": "label"},
            evidence=(
                "confirmed: facebook/anli is lm-eval's working id (lm-eval issue #3171, 2025-07-22); splits "
                "train_r1..test_r3, labels [entailment, neutral, contradiction]: datasets@2.5.0 anli.py"
            ),
        ),
    )
)

# --------------------------------------------------------------------------- hub-only tasks
#
# No local copy of these is in the shared data folder; they load from the Hugging Face hub.
# Label names follow the hub's ClassLabel order, whose integers are taken as indices.

register(
    TaskSpec(
        name="qqp",
        family="classification",
        labels=("not_duplicate", "duplicate"),
        description="Quora Question Pairs (GLUE): are two questions paraphrases? Hub only (nyu-mll/glue qqp).",
        hub=HubSource(
            "nyu-mll/glue",
            "qqp",
            splits={"train": "train", "dev": "validation"},
            columns={"text_a": "question1", "text_b": "question2", "label": "label"},
            evidence=_GLUE_EVIDENCE,
        ),
    )
)

register(
    TaskSpec(
        name="wnli",
        family="classification",
        labels=("not_entailment", "entailment"),
        description=(
            "WNLI (GLUE): Winograd schemas recast as entailment (is the sentence with the pronoun replaced "
            "entailed?). Hub only (nyu-mll/glue wnli); its dev set is adversarial to its train set by design."
        ),
        hub=HubSource(
            "nyu-mll/glue",
            "wnli",
            splits={"train": "train", "dev": "validation"},
            columns={"text_a": "sentence1", "text_b": "sentence2", "label": "label"},
            evidence=_GLUE_EVIDENCE,
        ),
    )
)

register(
    TaskSpec(
        name="paws",
        family="classification",
        labels=("not_paraphrase", "paraphrase"),
        description=(
            "PAWS-Wiki (labeled_final): paraphrase identification on sentence pairs with high word overlap "
            "(word-swapped adversaries). Hub only (google-research-datasets/paws, labels 0/1)."
        ),
        hub=HubSource(
            "google-research-datasets/paws",
            "labeled_final",
            splits={"train": "train", "dev": "validation", "test": "test"},
            columns={"text_a": "sentence1", "text_b": "sentence2", "label": "label"},
            filter={"label": {"!=": -1}},  # the loading script replaced missing labels with -1
            evidence=(
                "unconfirmed: loadability not seen; schema: datasets@2.5.0 paws.py (labeled_final: id, sentence1, "
                "sentence2, label ['0', '1']; missing labels became -1)"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="scitail",
        family="classification",
        labels=("entailment", "neutral"),
        description=(
            "SciTail: does a web sentence (premise) entail a science-exam statement (hypothesis)? Two classes. "
            "Hub only (allenai/scitail snli_format; gold_label is the label name)."
        ),
        hub=HubSource(
            "allenai/scitail",
            "snli_format",
            splits={"train": "train", "dev": "validation", "test": "test"},
            columns={"text_a": "sentence1", "text_b": "sentence2", "label": "gold_label"},
            evidence=(
                "unconfirmed: loadability and the gold_label strings not seen; schema: datasets@2.5.0 scitail.py "
                "(snli_format: sentence1, sentence2, gold_label)"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="trec",
        family="classification",
        labels=("ABBR", "ENTY", "DESC", "HUM", "LOC", "NUM"),
        description=(
            "TREC question classification, the 6 coarse classes (fine labels not used). Hub only "
            "(CogComp/trec: train 5,452 / test 500)."
        ),
        hub=HubSource(
            "CogComp/trec",
            splits={"train": "train", "test": "test"},
            columns={"text_a": "text", "label": "coarse_label"},
            evidence=(
                "unconfirmed: script-only by the newest stored tree (CogComp/trec@fd49ef4 holds trec.py only), no "
                "Parquet export seen; coarse_label order [ABBR, ENTY, DESC, HUM, LOC, NUM]: datasets@2.5.0 trec.py"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="emotion",
        family="classification",
        labels=("sadness", "joy", "love", "anger", "fear", "surprise"),
        metric="f1_macro",
        description=(
            "Emotion of English tweets, 6 classes (imbalanced; macro-F1). Hub only (dair-ai/emotion, "
            "config 'split': 16k/2k/2k)."
        ),
        hub=HubSource(
            "dair-ai/emotion",
            "split",
            splits={"train": "train", "dev": "validation", "test": "test"},
            columns={"text_a": "text", "label": "label"},
            evidence=(
                "confirmed: tree dair-ai/emotion@106c232/split (Parquet; configs split/unsplit); labels [sadness, "
                "joy, love, anger, fear, surprise]: datasets@2.5.0 emotion.py"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="tweet_eval_sentiment",
        family="classification",
        labels=("negative", "neutral", "positive"),
        metric="f1_macro",
        description="TweetEval sentiment (SemEval-2017 task 4A): 3-way tweet sentiment. Hub only (cardiffnlp/tweet_eval).",
        hub=HubSource(
            "cardiffnlp/tweet_eval",
            "sentiment",
            splits={"train": "train", "dev": "validation", "test": "test"},
            columns={"text_a": "text", "label": "label"},
            evidence=(
                "confirmed: Viewer on cardiffnlp/tweet_eval (https://huggingface.co/Gordon119/activity/likes, updated"
                " 2024-01-04); labels [negative, neutral, positive]: datasets@2.5.0 tweet_eval.py"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="amazon_polarity",
        family="classification",
        labels=("negative", "positive"),
        description=(
            "Amazon review polarity (Zhang et al. 2015): text = title + ' ' + content, as for AG News. Hub only "
            "(fancyzhx/amazon_polarity: 3.6M train / 400k test)."
        ),
        hub=HubSource(
            "fancyzhx/amazon_polarity",
            splits={"train": "train", "test": "test"},
            format="join_fields",
            options={"fields": ("title", "content"), "into": "text"},
            columns={"text_a": "text", "label": "label"},
            evidence=(
                "confirmed: Viewer on fancyzhx/amazon_polarity (https://huggingface.co/buvnswrn/activity/likes, "
                "updated 2024-01-09); title, content, label [negative, positive]: datasets@2.5.0 amazon_polarity.py"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="yelp_review_full",
        family="classification",
        labels=("1 star", "2 star", "3 stars", "4 stars", "5 stars"),
        description="Yelp reviews, 1-5 stars (Zhang et al. 2015). Hub only (Yelp/yelp_review_full: 650k train / 50k test).",
        hub=HubSource(
            "Yelp/yelp_review_full",
            splits={"train": "train", "test": "test"},
            columns={"text_a": "text", "label": "label"},
            evidence=(
                "confirmed: Viewer on Yelp/yelp_review_full (https://huggingface.co/buvnswrn/activity/likes, updated "
                "2024-01-04); labels '1 star'..'5 stars': datasets@2.5.0 yelp_review_full.py"
            ),
        ),
    )
)

register(
    TaskSpec(
        name="yahoo_answers_topics",
        family="classification",
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
        description=(
            "Yahoo! Answers topic classification, 10 classes: text = question title + content + best answer "
            "(empty parts skipped). Hub only (community-datasets/yahoo_answers_topics: 1.4M train / 60k test)."
        ),
        hub=HubSource(
            "community-datasets/yahoo_answers_topics",
            "yahoo_answers_topics",
            splits={"train": "train", "test": "test"},
            format="join_fields",
            options={"fields": ("question_title", "question_content", "best_answer"), "into": "text"},
            columns={"text_a": "text", "label": "topic"},
            evidence=(
                "unconfirmed: the config name after the mid-2024 conversion was not seen; schema: datasets@2.5.0 "
                "yahoo_answers_topics.py (topic order, question_title, question_content, best_answer)"
            ),
        ),
    )
)
