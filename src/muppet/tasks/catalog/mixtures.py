"""Named mixtures of built-in tasks: the benchmarks (GLUE, SuperGLUE) and the MUPPET paper's
pre-finetuning mixture, as closely as the catalogue allows.

Members are fixed task names; each one reads its local files when they are under data_dir and
the hub otherwise (see ``read_split``).
"""

from muppet.tasks.mixtures import MIXTURES, Mixture

GLUE = ("cola", "sst2", "mrpc", "stsb", "qqp", "mnli", "qnli", "rte", "wnli")

# SuperGLUE's eight tasks; ReCoRD is read as extractive QA (the entity's span in the passage).
SUPERGLUE = ("boolq", "cb", "copa", "multirc", "record", "rte", "wic", "wsc")

# The MUPPET paper (Aghajanyan et al., 2021) pre-finetunes on about 50 datasets in four families.
# Its lists, mapped onto this catalogue:
PAPER_CLASSIFICATION = (
    # GLUE and SuperGLUE sentence(-pair) tasks
    *GLUE,
    "boolq",
    "cb",
    "multirc",
    "wic",
    "wsc",
    # NLI and paraphrase
    "anli",
    "snli",
    "scitail",
    "paws",
    # sentiment and topic
    "imdb",
    "yelp_polarity",
    "amazon_polarity",
    "ag_news",
    "dbpedia",
    "trec",
)
PAPER_COMMONSENSE = (
    "commonsense_qa",
    "cosmos_qa",
    "hellaswag",
    "piqa",
    "social_i_qa",
    "winogrande",
    "swag",
    "copa",
    "arc_easy",
    "arc_challenge",
    "openbookqa",
    "race",
)
PAPER_MRC = (
    "squad_v1",
    "squad_v2",
    "newsqa",
    "triviaqa",
    "hotpotqa",
    "natural_questions",
    "record",
)
PAPER_SUMMARIZATION = ("cnn_dailymail", "xsum", "gigaword", "reddit_tifu", "samsum")

PAPER = PAPER_CLASSIFICATION + PAPER_COMMONSENSE + PAPER_MRC + PAPER_SUMMARIZATION
# Summarization needs an encoder-decoder backbone; RoBERTa-style runs take the other three families.
PAPER_ENCODER = PAPER_CLASSIFICATION + PAPER_COMMONSENSE + PAPER_MRC

MIXTURES.register("glue", Mixture("glue", "the nine GLUE tasks (CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE, WNLI)", GLUE))
MIXTURES.register(
    "superglue",
    Mixture(
        "superglue",
        "the eight SuperGLUE tasks (BoolQ, CB, COPA, MultiRC, ReCoRD as extractive QA, RTE, WiC, WSC)",
        SUPERGLUE,
    ),
)
MIXTURES.register(
    "paper",
    Mixture(
        "paper",
        "the MUPPET paper's pre-finetuning mixture as far as the catalogue has it: classification (GLUE, "
        "SuperGLUE, NLI, paraphrase, sentiment, topic), commonsense multiple choice, machine reading "
        "comprehension and summarization (summarization needs an encoder-decoder backbone)",
        PAPER,
    ),
)
MIXTURES.register(
    "paper_encoder",
    Mixture(
        "paper_encoder",
        "the 'paper' mixture without its summarization tasks, for encoder-only backbones (RoBERTa, BERT)",
        PAPER_ENCODER,
    ),
)
