"""The hub seam against local stand-ins laid out as Hub repositories, read by the real
``datasets.load_dataset``: the script check of datasets >= 4, the Parquet-export fallback, row
filters and their counts, one clear message per failure, the up-front check of a run, and
``muppet tasks check-hub``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from muppet.cli import main
from muppet.data.pipeline import plan_tasks
from muppet.errors import ConfigError, DataError
from muppet.tasks import hub as hub_module
from muppet.tasks.hub import EXPORT_REVISION, HubRequest, load_hub
from muppet.tasks.hub_check import check_task
from muppet.tasks.loading import read_split
from muppet.tasks.spec import TASKS, HubSource, TaskSpec, all_tasks, filter_conditions, get_task

Rows = list[dict[str, Any]]


def parquet(path: Path, rows: Rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def pairs(n: int, labels: tuple[int, ...] = (0, 1, 2)) -> Rows:
    return [{"premise": f"premise {i}", "hypothesis": f"hypothesis {i}", "label": labels[i % len(labels)]} for i in range(n)]


@pytest.fixture(autouse=True)
def _forget_task_files() -> Iterator[None]:
    """Task files register their tasks; the catalogue is left as it was found."""
    all_tasks()  # the catalogue itself is loaded before the snapshot
    before = set(TASKS.names())
    yield
    for name in set(TASKS.names()) - before:
        TASKS.unregister(name)


@pytest.fixture
def hub_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``<root>/<id>`` is a repository's main branch, ``<root>/<id>@<revision>`` another revision."""
    root = tmp_path / "hub"

    def location(path: str, revision: str | None) -> str:
        return str(root / (path if revision in (None, "main") else f"{path}@{revision}"))

    monkeypatch.setattr(hub_module, "repo_location", location)
    monkeypatch.setattr(hub_module, "_announced", set())
    return root


def script_repo(root: Path, repo: str, export: dict[str, Rows] | None, subset: str = "default") -> Path:
    """A repository whose main branch still holds its loading script next to its data, and
    (optionally) the Hub's Parquet export of it. The script would leave a mark if it ran."""
    folder = root / repo
    marker = folder.parent / "script-ran"
    folder.mkdir(parents=True)
    (folder / f"{repo.split('/')[-1]}.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    parquet(folder / "data" / "train.parquet", pairs(3))
    for split, rows in (export or {}).items():
        parquet(root / f"{repo}@{EXPORT_REVISION}" / subset / split / "0000.parquet", rows)
    parquet(root / f"{repo}@{EXPORT_REVISION}" / "other_subset" / "train" / "0000.parquet", pairs(9))
    return marker


NLI = dict(labels=("entailment", "neutral", "contradiction"))


def nli_task(path: str, **hub: Any) -> TaskSpec:
    hub.setdefault("splits", {"train": "train", "dev": "validation"})
    hub.setdefault("columns", {"text_a": "premise", "text_b": "hypothesis", "label": "label"})
    return TaskSpec(f"t_{path.split('/')[-1]}", "classification", hub=HubSource(path, **hub), **NLI)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the script check and the fallback


def test_datasets_refuses_a_repo_that_still_holds_its_script(hub_root: Path) -> None:
    # The premise of the fallback, on the installed datasets: data files beside the script do not help.
    marker = script_repo(hub_root, "org/scripted", None)
    with pytest.raises(RuntimeError, match="Dataset scripts are no longer supported, but found scripted.py"):
        load_hub(HubRequest("org/scripted"), "train")
    assert not marker.exists()


def test_script_repo_falls_back_to_its_export_with_a_renamed_subset(hub_root: Path, caplog: pytest.LogCaptureFixture) -> None:
    marker = script_repo(hub_root, "org/piqa_like", {"train": pairs(4), "validation": pairs(2)}, subset="default")
    spec = nli_task("org/piqa_like", name="plain_text", export_subset="default")
    with caplog.at_level(logging.WARNING, logger="muppet.tasks.hub"):
        train = read_split(spec, "train", None, source="hub")
        dev = read_split(spec, "dev", None, source="hub")
    assert [r["text_a"] for r in train.records] == [f"premise {i}" for i in range(4)]  # not the 9 rows of other_subset
    assert len(dev.records) == 2
    assert f"@{EXPORT_REVISION} (subset default)" in train.source
    said = [r.getMessage() for r in caplog.records if "loading script" in r.getMessage()]
    assert len(said) == 1 and "piqa_like.py" in said[0] and "subset default" in said[0]  # once, not per split
    assert not marker.exists()  # remote code never ran


def test_export_subset_defaults_to_the_config_name(hub_root: Path) -> None:
    script_repo(hub_root, "org/glue_like", {"train": pairs(5)}, subset="rte")
    spec = nli_task("org/glue_like", name="rte", splits={"train": "train"})
    assert len(read_split(spec, "train", None, source="hub").records) == 5


def test_script_repo_without_export_is_one_message(hub_root: Path) -> None:
    script_repo(hub_root, "org/stuck", None)
    spec = nli_task("org/stuck", name="plain_text")
    with pytest.raises(DataError) as info:
        read_split(spec, "train", None, source="hub")
    message = str(info.value)
    for fragment in ("task 't_stuck'", "org/stuck", f"revision {EXPORT_REVISION} (subset plain_text)", "split 'train'",
                     "only holds a loading script (stuck.py)", "Point the task at a Parquet copy", "source=local"):
        assert fragment in message, message


def test_declared_revision_is_read(hub_root: Path) -> None:
    parquet(hub_root / "org/moved@refs/pr/6" / "data" / "train-00000-of-00001.parquet", pairs(7))
    spec = nli_task("org/moved", revision="refs/pr/6", splits={"train": "train"})
    assert len(read_split(spec, "train", None, source="hub").records) == 7


# --------------------------------------------------------------------------- filters


def test_snli_unlabeled_rows_are_dropped_and_counted(hub_root: Path) -> None:
    spec = get_task("snli")
    assert spec.hub is not None
    rows = pairs(10, labels=(0, -1, 2, 1, -1))  # SNLI marks rows without a gold label -1
    parquet(hub_root / spec.hub.path / "plain_text" / "train-00000-of-00001.parquet", rows)
    out = read_split(spec, "train", None, source="hub")
    assert [r["label"] for r in out.records] == [0, 2, 1, 0, 2, 1]
    assert out.filtered == 4 and out.skipped == []


@pytest.mark.parametrize(
    ("where", "kept"),
    [
        ({"label": 1}, [1, 1, 1]),
        ({"label": {"==": 1}}, [1, 1, 1]),
        ({"label": {"!=": -1}}, [0, 1, 2, 0, 1, 1]),
        ({"label": {"in": [0, 2]}}, [0, 2, 0]),
        ({"label": {"not in": [-1, 0]}}, [1, 2, 1, 1]),
    ],
)
def test_filter_operators(where: dict, kept: list[int]) -> None:
    rows = pairs(6, labels=(0, 1, 2, -1)) + pairs(1, labels=(1,))  # labels 0 1 2 -1 0 1 1
    spec = nli_task("org/f", filter=where, splits={"train": "train"})
    out = read_split(spec, "train", None, source="hub",
                     hub_loader=lambda request, split, streaming: datasets.Dataset.from_list(rows))
    assert [r["label"] for r in out.records] == kept and out.filtered == len(rows) - len(kept)


@pytest.mark.parametrize("where", [{"label": {"<": 0}}, {"label": {"in": 3}}, {"label": {"!=": 1, "==": 2}}])
def test_unknown_filter_is_a_config_error(where: dict) -> None:
    with pytest.raises(ConfigError, match="filter"):
        filter_conditions(where)
    with pytest.raises(ConfigError, match="hub source org/x"):
        HubSource("org/x", filter=where)


def test_filtered_count_shows_in_data_prepare(hub_root: Path, tiny_root: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    rows = pairs(30, labels=(0, 1, 2, -1, 1))  # 6 unlabeled rows
    parquet(hub_root / "org/nli" / "data" / "train-00000-of-00001.parquet", rows)
    task = {"name": "u_nli", "family": "classification", "labels": list(NLI["labels"]),
            "hub": {"path": "org/nli", "splits": {"train": "train"}, "filter": {"label": {"!=": -1}},
                    "columns": {"text_a": "premise", "text_b": "hypothesis", "label": "label"}}}
    (tmp_path / "u_nli.yaml").write_text(yaml.safe_dump(task))
    args = ["data", "prepare", f"model={tiny_root / 'tiny-bert'}", f"tasks=[{tmp_path / 'u_nli.yaml'}]", "source=hub",
            f"cache_dir={tmp_path / 'cache'}", "max_length=32", "progress=false"]
    assert main(args) == 0
    assert "| u_nli | 22 | 22 | 2 | held-out 2 of train | 0 | 6 | 0 | built |" in capsys.readouterr().out
    assert main(args) == 0  # the count survives the record cache
    assert "| u_nli | 22 | 22 | 2 | held-out 2 of train | 0 | 6 | 0 | hit |" in capsys.readouterr().out


# --------------------------------------------------------------------------- one message per failure


def hub_failure(spec: TaskSpec, split: str = "train", loader: Any = None) -> str:
    with pytest.raises(DataError) as info:
        read_split(spec, split, None, source="hub", hub_loader=loader)
    return str(info.value)


def assert_names(message: str, *fragments: str) -> None:
    for fragment in fragments:
        assert fragment in message, message
    assert "Traceback" not in message


def test_missing_config(hub_root: Path) -> None:
    (hub_root / "org/multi").mkdir(parents=True)
    (hub_root / "org/multi" / "README.md").write_text(
        "---\nconfigs:\n- config_name: rte\n  data_files:\n  - split: train\n    path: rte/train-*\n---\n")
    parquet(hub_root / "org/multi" / "rte" / "train-0.parquet", pairs(3))
    message = hub_failure(nli_task("org/multi", name="mnli"))
    assert_names(message, "task 't_multi'", "org/multi (revision main, config mnli)", "split 'train'",
                 "config 'mnli' does not exist", "'rte'", "Set the hub source's name")


def test_missing_split(hub_root: Path) -> None:
    parquet(hub_root / "org/nodev" / "data" / "train-00000-of-00001.parquet", pairs(3))
    message = hub_failure(nli_task("org/nodev"), "dev")
    assert_names(message, "org/nodev (revision main, config default)", "split 'validation' (dev)",
                 "no split 'validation'", "['train']", "Map the task's split")


def test_missing_column(hub_root: Path) -> None:
    parquet(hub_root / "org/renamed" / "data" / "train-00000-of-00001.parquet",
            [{"sentence1": "a", "sentence2": "b", "label": 0}])
    message = hub_failure(nli_task("org/renamed"))
    assert_names(message, "hub:org/renamed[train]", "no column(s) ['premise', 'hypothesis']",
                 "it has ['label', 'sentence1', 'sentence2']")


def test_offline_is_one_message() -> None:
    # The real hub path with HF_HUB_OFFLINE=1 (set for the test session): nothing is reachable.
    message = hub_failure(nli_task("org/not-downloaded"))
    assert_names(message, "org/not-downloaded (revision main, config default)", "split 'train'",
                 "the Hub cannot be reached", "source=local")


@pytest.mark.parametrize(
    ("raised", "fragments"),
    [
        # The messages datasets raises for these (datasets/load.py); a gated or private repo
        # cannot be stood in for offline, so the loader raises the library's own exception.
        (datasets.exceptions.DatasetNotFoundError(
            "Dataset 'org/gated' is a gated dataset on the Hub. You must be authenticated to access it."),
         ("the dataset is gated", "https://huggingface.co/datasets/org/gated", "hf auth login")),
        (datasets.exceptions.DatasetNotFoundError("Dataset 'org/gated' doesn't exist on the Hub or cannot be accessed."),
         ("no such dataset, or it is private", "namespaced ids", "token")),
        (datasets.exceptions.DatasetNotFoundError("Revision 'v9' doesn't exist for dataset 'org/gated' on the Hub."),
         ("no revision 'v9'",)),
    ],
)
def test_gated_private_and_revision_messages(raised: Exception, fragments: tuple[str, ...]) -> None:
    def loader(request: HubRequest, split: str, streaming: bool) -> Any:
        raise raised

    message = hub_failure(nli_task("org/gated", revision="v9"), loader=loader)
    assert_names(message, "task 't_gated'", "org/gated (revision v9, config default)", "split 'train'", *fragments)


def test_wrong_label_values_stop_a_run_before_any_full_read(hub_root: Path) -> None:
    good = nli_task("org/good", splits={"train": "train"})
    parquet(hub_root / "org/good" / "data" / "train-00000-of-00001.parquet", pairs(30))
    # Labels as strings the declaration has no map for: every row fails.
    worded = [{**row, "label": ["yes", "maybe", "no"][row["label"]]} for row in pairs(30)]
    bad = nli_task("org/worded", splits={"train": "train"})
    parquet(hub_root / "org/worded" / "data" / "train-00000-of-00001.parquet", worded)
    calls: list[tuple[str, bool]] = []

    def loader(request: HubRequest, split: str, streaming: bool) -> Any:
        calls.append((request.path, streaming))
        return load_hub(request, split, streaming)

    with pytest.raises(DataError) as info:
        plan_tasks([good, bad], {good.name: "cls/a", bad.name: "cls/b"}, progress=False, data_dir=None, source="hub",
                   hub_loader=loader)
    assert_names(str(info.value), "task 't_worded'", "none of the first 20 rows of org/worded (train, revision main)",
                 "'yes'", "check its columns, label_map", "muppet tasks check-hub t_worded")
    assert "t_good" not in str(info.value)
    assert all(streaming for _, streaming in calls)  # nothing was read in full


def test_a_run_offline_says_it_once_per_task() -> None:
    specs = [nli_task("org/one"), nli_task("org/two")]  # train and dev each, nothing reachable
    with pytest.raises(DataError) as info:
        plan_tasks(specs, {s.name: "cls/x" for s in specs}, progress=False, data_dir=None, source="hub")
    lines = str(info.value).splitlines()
    assert len(lines) == 2 and all("the Hub cannot be reached" in line for line in lines)
    assert "'t_one'" in lines[0] and "'t_two'" in lines[1]


# --------------------------------------------------------------------------- check-hub


def write_task(folder: Path, task_name: str, path: str, **hub: Any) -> str:
    task = {"name": task_name, "family": "classification", "labels": list(NLI["labels"]),
            "hub": {"path": path, "columns": {"text_a": "premise", "text_b": "hypothesis", "label": "label"}, **hub}}
    (folder / f"{task_name}.yaml").write_text(yaml.safe_dump(task))
    return str(folder / f"{task_name}.yaml")


def test_check_hub_on_good_and_broken_stand_ins(hub_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parquet(hub_root / "org/fine" / "data" / "train-00000-of-00001.parquet", pairs(40))
    parquet(hub_root / "org/fine" / "data" / "validation-00000-of-00001.parquet", pairs(5))
    script_repo(hub_root, "org/exported", {"train": pairs(8), "validation": pairs(3)}, subset="default")
    script_repo(hub_root, "org/scriptonly", None)
    parquet(hub_root / "org/nolabel" / "data" / "train-00000-of-00001.parquet", pairs(10, labels=(0, 7)))
    files = [
        write_task(tmp_path, "fine", "org/fine"),
        write_task(tmp_path, "exported", "org/exported", name="plain_text", export_subset="default"),
        write_task(tmp_path, "scriptonly", "org/scriptonly", splits={"train": "train"}),
        write_task(tmp_path, "nolabel", "org/nolabel", splits={"train": "train"}),
    ]
    assert main(["tasks", "check-hub", *files[:2]]) == 0
    out = capsys.readouterr().out
    assert "| fine | org/fine | main | train,dev | 25 | ok |  |" in out
    assert f"| exported | org/exported | {EXPORT_REVISION} (subset default) | train,dev | 11 | ok |  |" in out

    assert main(["tasks", "check-hub", *files, "--rows", "4"]) == 1
    captured = capsys.readouterr()
    rows = {line.split(" | ")[0].strip("| "): line for line in captured.out.splitlines() if line.startswith("| ")}
    assert "| main, " not in rows["fine"] and "| 8 | ok |" in rows["fine"]
    assert "| FAIL |" in rows["scriptonly"] and "only holds a loading script (scriptonly.py)" in rows["scriptonly"]
    assert "| - | 0 | FAIL |" in rows["scriptonly"]
    assert "| FAIL |" in rows["nolabel"] and "2 of 4 rows make no record" in rows["nolabel"]
    assert "label 7 is outside" in rows["nolabel"]
    assert "4 task(s)" in captured.out and "2 OK, 2 failed" in captured.out
    assert "Traceback" not in captured.err


def test_check_hub_needs_names_or_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "check-hub"]) == 2
    assert "--all" in capsys.readouterr().err
    assert main(["tasks", "check-hub", "mpqa"]) == 2  # a task without a hub source
    assert "no hub source: mpqa" in capsys.readouterr().err


def test_check_task_counts_rows_filtered(hub_root: Path) -> None:
    parquet(hub_root / "org/some" / "data" / "train-00000-of-00001.parquet", pairs(12, labels=(0, -1, 1)))
    spec = nli_task("org/some", splits={"train": "train"}, filter={"label": {"!=": -1}})
    [check] = check_task(spec, rows=6)  # the first 6 rows the filter keeps
    assert (check.rows, check.records, check.filtered, check.ok) == (9, 6, 3, True)
    [quick] = check_task(spec, rows=6, thorough=False)  # a run's check: the first 6 rows
    assert (quick.rows, quick.records, quick.filtered) == (6, 4, 2)


def test_check_hub_reads_past_the_rows_of_other_subsets(hub_root: Path) -> None:
    # One dataset holding several tasks (MRQA): the task's rows come after 50 rows of another.
    rows = [{**row, "subset": "A"} for row in pairs(50)] + [{**row, "subset": "B"} for row in pairs(5)]
    parquet(hub_root / "org/mixed" / "data" / "train-00000-of-00001.parquet", rows)
    [check] = check_task(nli_task("org/mixed", splits={"train": "train"}, filter={"subset": "B"}), rows=4)
    assert (check.rows, check.records, check.filtered, check.ok) == (54, 4, 50, True)


def test_tasks_show_prints_the_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "show", "social_i_qa"]) == 0
    hub = yaml.safe_load(capsys.readouterr().out)["hub"]
    assert hub["path"] == "lighteval/siqa" and hub["evidence"].startswith("confirmed: lighteval/siqa's card")
