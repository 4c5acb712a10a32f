"""Catalogue-wide invariants: size, well-formed specs, hub coverage, canonical columns, and the
named mixtures (GLUE, SuperGLUE, the MUPPET paper's)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import pytest

from muppet.families import family_names
from muppet.tasks.formats import FORMATS, ROW_FORMATS
from muppet.tasks.mixtures import MIXTURES, expand
from muppet.tasks.spec import SPLITS, TASKS, TaskSpec, all_tasks, spec_from_dict, spec_to_dict

# The fields a family's make_record reads; a column mapping may only produce these.
CANONICAL = {
    "classification": {"text_a", "text_b", "label", "group"},
    "regression": {"text_a", "text_b", "label", "group"},
    "multiple_choice": {"context", "question", "choices", "label", "group"},
    "extractive_qa": {"id", "context", "question", "answers", "group"},
    "summarization": {"document", "summary", "group"},
}

# Tasks deliberately without a hub source, and why.
LOCAL_ONLY = {
    "mpqa": "no canonical hub copy of the SentEval MPQA split",
    "mctest": "no canonical hub copy; the community upload splits MC160 and MC500 into two configs",
    "policyqa": "released on GitHub only",
}

SPECS = all_tasks()
NAMES = [spec.name for spec in SPECS]


def test_catalogue_size_and_families() -> None:
    assert len(SPECS) >= 60
    assert len(set(NAMES)) == len(NAMES)
    counts = Counter(spec.family for spec in SPECS)
    assert set(counts) == set(family_names())  # every built-in family has catalogue tasks
    assert all(counts[family] >= 5 for family in family_names() if family != "regression"), counts
    assert counts["regression"] >= 1


@pytest.mark.parametrize("name", NAMES)
def test_spec_is_well_formed(name: str) -> None:
    spec = TASKS[name]
    assert spec.family in family_names()
    assert spec.description.strip()
    if spec.family == "classification":
        assert len(spec.labels) >= 2 and spec.label_range is None
    elif spec.family == "regression":
        assert not spec.labels and spec.label_range is not None
    else:
        assert not spec.labels and spec.label_range is None
    assert spec.local is not None or spec.hub is not None
    if spec.local is not None:
        assert spec.local.format in FORMATS
        assert "train" in spec.local.splits
        assert set(spec.local.columns) <= CANONICAL[spec.family]
        _check_label_map(spec, spec.local.label_map)


@pytest.mark.parametrize("name", NAMES)
def test_hub_source(name: str) -> None:
    spec = TASKS[name]
    if spec.hub is None:
        assert name in LOCAL_ONLY, f"{name}: give it a hub source or list it in LOCAL_ONLY with a reason"
        return
    assert name not in LOCAL_ONLY
    hub = spec.hub
    assert "/" in hub.path, "hub ids carry their namespace (owner/name)"
    assert "train" in hub.splits and set(hub.splits) <= set(SPLITS)
    assert all(isinstance(v, str) and v for v in hub.splits.values())
    assert set(hub.columns) <= CANONICAL[spec.family]
    # Without an adapter the column mapping is what makes rows canonical.
    assert hub.columns or hub.format
    if hub.format is not None:
        assert hub.format in ROW_FORMATS
    else:
        assert not hub.options, "options are passed to a row adapter only"
    _check_label_map(spec, hub.label_map)


def _check_label_map(spec: TaskSpec, label_map: dict[str, str]) -> None:
    if not label_map:
        return
    if spec.family == "classification":
        assert set(label_map.values()) <= set(spec.labels)
    else:
        assert all(value.isdigit() for value in label_map.values())


def test_hub_sources_are_distinct() -> None:
    """Two tasks on the same hub data would be the same task twice."""
    keys = Counter(
        (s.hub.path, s.hub.name, s.hub.splits["train"], json.dumps(dict(s.hub.options), sort_keys=True))
        for s in SPECS
        if s.hub is not None
    )
    assert [key for key, n in keys.items() if n > 1] == []


def test_local_only_list_is_current() -> None:
    assert set(LOCAL_ONLY) <= set(NAMES)


def _json(value: object) -> object:
    return json.loads(json.dumps(value))


def _free_form_as_json(spec: TaskSpec) -> TaskSpec:
    """The spec with its free-form ``options`` as JSON gives them back (tuples become lists)."""
    return replace(
        spec,
        options=_json(spec.options),
        local=None if spec.local is None else replace(spec.local, options=_json(spec.local.options)),
        hub=None if spec.hub is None else replace(spec.hub, options=_json(spec.hub.options), filter=_json(spec.hub.filter)),
    )


@pytest.mark.parametrize("name", NAMES)
def test_spec_survives_json(name: str) -> None:
    """Exports store each spec as JSON; every catalogue spec must come back from it whole
    (every field of the task and of both sources, with its type)."""
    spec = TASKS[name]
    back = spec_from_dict(_json(spec_to_dict(spec)))  # type: ignore[arg-type]
    assert back == _free_form_as_json(spec)
    assert _json(spec_to_dict(back)) == _json(spec_to_dict(spec))  # and an export rewritten from it is the same


def test_the_round_trip_notices_a_lost_field() -> None:
    """What the round-trip test compares: dropping a source or a column is a difference."""
    spec = TASKS["rte"]
    assert spec.local is not None
    assert replace(spec, local=None) != spec
    assert replace(spec, local=replace(spec.local, columns={})) != spec


# --------------------------------------------------------------------------- mixtures

NAMED = ("glue", "superglue", "paper", "paper_encoder")


@pytest.mark.parametrize("mixture", NAMED)
def test_named_mixture_resolves(mixture: str) -> None:
    mix = MIXTURES[mixture]
    assert mix.description.strip()
    members = mix.resolve(None)
    assert len(set(members)) == len(members)
    assert all(name in TASKS for name in members), [n for n in members if n not in TASKS]
    specs, weights = expand([mixture], None)
    assert [s.name for s in specs] == members and set(weights) == set(members)


def test_glue_and_superglue_members() -> None:
    assert set(MIXTURES["glue"].resolve(None)) == {"cola", "sst2", "mrpc", "stsb", "qqp", "mnli", "qnli", "rte", "wnli"}
    assert set(MIXTURES["superglue"].resolve(None)) == {"boolq", "cb", "copa", "multirc", "record", "rte", "wic", "wsc"}


def test_paper_mixture_covers_every_family() -> None:
    paper = MIXTURES["paper"].resolve(None)
    assert {TASKS[n].family for n in paper} == set(family_names())
    # The paper's headline datasets per family.
    for name in (
        "mnli",
        "qqp",
        "anli",
        "snli",
        "scitail",
        "imdb",
        "ag_news",
        "paws",
        "hellaswag",
        "swag",
        "piqa",
        "commonsense_qa",
        "winogrande",
        "social_i_qa",
        "cosmos_qa",
        "squad_v1",
        "squad_v2",
        "triviaqa",
        "hotpotqa",
        "natural_questions",
        "newsqa",
        "cnn_dailymail",
        "xsum",
        "gigaword",
        "reddit_tifu",
    ):
        assert name in paper, name
    encoder = MIXTURES["paper_encoder"].resolve(None)
    assert set(encoder) == {n for n in paper if TASKS[n].family != "summarization"}


def test_every_fixed_mixture_names_registered_tasks() -> None:
    for name in MIXTURES.names():
        mix = MIXTURES[name]
        if not callable(mix.tasks):
            assert all(task in TASKS for task in mix.tasks), name
