"""muppet affinity: gradient affinity of candidate tasks to target tasks, and its mixture."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
import tiny
import torch
import yaml

from muppet.config.transfer import AffinityConfig
from muppet.errors import ConfigError, MuppetError
from muppet.tasks.mixtures import select
from muppet.transfer.affinity import MEASURE, affinity, measure, setup
from muppet.transfer.outputs import ALL


def mc_task_file(root: Path, name: str, rows: list[dict]) -> str:
    tiny.write_jsonl(root / name / "train.jsonl", rows)
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "family": "multiple_choice",
                                    "local": {"format": "jsonl", "splits": {"train": f"{name}/train.jsonl"}}}))
    return str(path)


@pytest.fixture(scope="module")
def constructed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A target, its exact duplicate under another name, and its twin with every label moved to
    a wrong option (same questions, same shared ranking head): must rank first and last."""
    root = tmp_path_factory.mktemp("affinity")
    rows = tiny.mc_rows(48)
    flipped = [{**r, "label": (r["label"] + 1) % len(r["choices"])} for r in rows]
    return {"target": mc_task_file(root, "aff_target", rows), "dup": mc_task_file(root, "aff_dup", rows),
            "flip": mc_task_file(root, "aff_flip", flipped), "root": str(root)}


def config(tiny_root: Path, files: dict[str, str], out: Path, **kw: object) -> AffinityConfig:
    # select: positive keeps what helps, whatever its rank among the helpers
    base = dict(model=str(tiny_root / "tiny-bert"), tasks=[files["dup"], files["flip"], "tiny_cls"],
                targets=[files["target"]], data_dir=str(tiny_root / "data"), output_dir=str(out), steps=4, every=2,
                examples=16, lr=1e-3, lookahead_lr=0.05, max_length=40, leakage="allow", progress=False, seed=5,
                select="positive")
    base.update(kw)
    return AffinityConfig.from_dict(base)


def test_duplicate_ranks_first_and_label_flipped_twin_last(tiny_root: Path, constructed: dict, tmp_path: Path) -> None:
    summary = affinity(config(tiny_root, constructed, tmp_path / "a"))
    table = pd.read_csv(tmp_path / "a" / "affinity.csv")
    assert list(table.columns) == ["candidate", "target", "measure", "mean", "std", "n"]
    def mean(candidate: str, measure_name: str) -> float:
        rows = table[(table.candidate == candidate) & (table.target == "aff_target") & (table.measure == measure_name)]
        assert list(rows.n) == [3]  # before the first update, after updates 2 and 4
        return float(rows["mean"].iloc[0])

    cosines = sorted(["aff_dup", "aff_flip", "tiny_cls"], key=lambda c: mean(c, "cosine"))
    assert cosines[-1] == "aff_dup" and cosines[0] == "aff_flip"
    # lookahead also weighs the candidate's gradient norm (a step on a task with larger
    # gradients moves the target's loss more), so only the twins' order and signs are fixed
    assert mean("aff_dup", "lookahead") > 0 > mean("aff_flip", "lookahead")
    dup = table[(table.candidate == "aff_dup") & (table.measure == "cosine") & (table.target == "aff_target")]
    assert float(dup["mean"].iloc[0]) > 0.9  # the same examples: nearly the same gradient
    assert "aff_flip" not in summary["selected"] and "aff_dup" in summary["selected"]
    for name in ("affinity.md", "affinity.png", "mixture.yaml", "mixture-aff_target.yaml", "affinity.json"):
        assert (tmp_path / "a" / name).is_file(), name
    md = (tmp_path / "a" / "affinity.md").read_text()
    assert md.index("aff_dup") < md.index("aff_flip")
    assert set(summary["reliability"]) == {"aff_target", ALL}
    assert summary["reliability"]["aff_target"]["measurements"] == 3 and "Ranking reliability" in md
    assert summary["measure_s"] > 0 and summary["train_s"] > 0


def test_lookahead_and_cosine_equal_a_direct_computation(tiny_root: Path, constructed: dict, tmp_path: Path) -> None:
    run = setup(config(tiny_root, constructed, tmp_path / "b"))
    reference = copy.deepcopy(run.model).eval()
    measure(run, 0)
    got = {(r["candidate"], r["measure"]): r["value"] for r in run.rows if r["target"] == "aff_target"}

    def loss(model: torch.nn.Module, batch) -> torch.Tensor:
        from muppet.train.objective import mixed_loss

        return mixed_loss(batch, model(batch), "log")[0]

    target_batch = run.batch("aff_target", 0, MEASURE)
    params = list(reference.backbone.parameters())
    def grads(batch) -> list[torch.Tensor]:  # unused parameters (e.g. the pooler) get zeros
        found = torch.autograd.grad(loss(reference, batch), params, allow_unused=True)
        return [torch.zeros_like(p) if g is None else g for g, p in zip(found, params)]

    g_t = torch.cat([g.reshape(-1) for g in grads(target_batch)])
    base = float(loss(reference, target_batch).detach())
    sketched = {}
    for c in ("aff_dup", "aff_flip", "tiny_cls"):
        g_c = grads(run.batch(c, 0, MEASURE))
        stepped = copy.deepcopy(reference)
        with torch.no_grad():
            for p, g in zip(stepped.backbone.parameters(), g_c):
                p.sub_(0.05 * g)
        flat = torch.cat([g.reshape(-1) for g in g_c])
        sketched[c] = flat[run.sketch]
        assert got[(c, "cosine")] == pytest.approx(float(torch.nn.functional.cosine_similarity(flat, g_t, dim=0)), abs=1e-5)
        assert got[(c, "lookahead")] == pytest.approx(1 - float(loss(stepped, target_batch).detach()) / base, abs=1e-5)
    # candidate x candidate cosines, all pairs in one matrix product, equal torch's pair by pair
    between = {(r["candidate"], r["target"]): r["value"] for r in run.rows if r["measure"] == "candidate_cosine"}
    assert len(between) == 9 and between[("aff_dup", "aff_dup")] == pytest.approx(1.0, abs=1e-5)
    for (a, b), value in between.items():
        assert value == pytest.approx(float(torch.nn.functional.cosine_similarity(sketched[a], sketched[b], dim=0)),
                                      abs=1e-5), (a, b)
    # the measurement left the weights as they were
    for a, b in zip(run.model.state_dict().values(), reference.state_dict().values()):
        assert torch.equal(a, b)


def test_mixture_file_round_trips_into_prefinetune(tiny_root: Path, constructed: dict, tmp_path: Path) -> None:
    from muppet.config import PrefinetuneConfig
    from muppet.train.loop import prefinetune

    affinity(config(tiny_root, constructed, tmp_path / "c", select="weighted"))
    mixture = tmp_path / "c" / "mixture.yaml"
    data = yaml.safe_load(mixture.read_text())
    assert constructed["dup"] in data["tasks"]  # a task file is named by its path, to be read again
    assert constructed["flip"] not in data["tasks"]
    specs, weights, _, _ = select([str(mixture)], [], [], str(tiny_root / "data"))
    assert "aff_dup" in [s.name for s in specs]
    chosen = json.loads((tmp_path / "c" / "affinity.json").read_text())["selected"]
    assert weights == pytest.approx(chosen) and sum(chosen.values()) == pytest.approx(len(chosen))
    summary = prefinetune(PrefinetuneConfig.from_dict(dict(
        model=str(tiny_root / "tiny-bert"), tasks=[str(mixture)], data_dir=str(tiny_root / "data"), max_steps=2,
        batch_size=4, max_length=40, output_dir=str(tmp_path / "pre"), progress=False, leakage="allow")))
    assert summary["step"] == 2


def test_mixture_file_errors_name_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("mixture: m\ntasks: [rte]\nweigths: {rte: 2}\n")
    with pytest.raises(ConfigError, match=r"m\.yaml: unknown key 'weigths'; did you mean 'weights'"):
        select([str(bad)], [], [], None)
    bad.write_text("mixture: m\ntasks: [rte]\nweights: {rte: -1}\n")
    with pytest.raises(ConfigError, match="weights: rte: expected a positive number"):
        select([str(bad)], [], [], None)
    bad.write_text("mixture: m\ntasks: [rtee]\n")
    with pytest.raises(MuppetError, match=r"m\.yaml\) 'rtee'; did you mean 'rte'"):
        select([str(bad)], [], [], None)


def test_targets_are_required_and_removed_from_candidates(tiny_root: Path) -> None:
    with pytest.raises(ConfigError, match="targets: name the task"):
        AffinityConfig.from_dict({"tasks": ["rte"]})
    candidates, _, _, targets = select(["tiny_cls", "tiny_mc"], [], ["tiny_mc"], str(tiny_root / "data"))
    assert [s.name for s in candidates] == ["tiny_cls"] and [s.name for s in targets] == ["tiny_mc"]
    assert ALL == "all"


def test_a_co_training_update_task_by_task_equals_one_batch_of_all(tiny_root: Path, constructed: dict,
                                                                   tmp_path: Path) -> None:
    """The update accumulates one task at a time (memory); its gradient is that of the mean loss
    over every task's examples in one batch, so the weights after it agree."""
    from muppet.train.objective import mixed_loss
    from muppet.train.skeleton import param_groups
    from muppet.train.step import build_batch
    from muppet.transfer.affinity import TRAIN, train_step

    run = setup(config(tiny_root, constructed, tmp_path / "u", dropout=0.0))
    reference = copy.deepcopy(run.model)
    optimizer = torch.optim.AdamW(param_groups(reference, run.cfg.weight_decay), lr=run.cfg.lr)
    slots = [slot for index in range(len(run.tasks)) for slot in run.slots(index, 1, TRAIN)]
    assert len({t for t, _ in slots}) == len(run.tasks) >= 3
    batch = build_batch(slots, run.tasks, reference.backbone)
    loss = mixed_loss(batch, reference(batch), "log")[0]
    loss.backward()
    torch.nn.utils.clip_grad_norm_(reference.parameters(), 1.0)
    optimizer.step()
    assert train_step(run, 1) == pytest.approx(float(loss.detach()), rel=1e-5)
    for (name, ours), theirs in zip(run.model.state_dict().items(), reference.state_dict().values()):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6, msg=name)


def rows_of(orders: list[list[float]], target: str = "t") -> list[dict]:
    """Measurement rows: orders[m][i] is candidate c<i>'s value in measurement m."""
    return [{"step": 5 * m, "candidate": f"c{i}", "target": target, "measure": "lookahead", "value": v}
            for m, values in enumerate(orders) for i, v in enumerate(values)]


def test_reliability_is_the_spearman_brown_of_the_mean_rank_correlation() -> None:
    from muppet.transfer.outputs import noisy, reliability, tidy

    # two measurements whose orders differ by one swap: rho = 1 - 6 * 2 / (4 * 15) = 0.8
    swapped = reliability(tidy(rows_of([[4, 3, 2, 1], [3, 4, 2, 1]])), "t", "lookahead")
    assert swapped["between"] == pytest.approx(0.8) and swapped["measurements"] == 2
    assert swapped["of_mean"] == pytest.approx(2 * 0.8 / 1.8, abs=1e-4) and not noisy(swapped)
    same = reliability(tidy(rows_of([[4, 3, 2, 1], [8, 6, 4, 2], [0.4, 0.3, 0.2, 0.1]])), "t", "lookahead")
    assert same["between"] == pytest.approx(1.0) and same["of_mean"] == pytest.approx(1.0)
    reversed_ = reliability(tidy(rows_of([[4, 3, 2, 1], [1, 2, 3, 4]])), "t", "lookahead")
    assert reversed_["between"] == pytest.approx(-1.0) and reversed_["of_mean"] == 0.0 and noisy(reversed_)
    # the target "all" ranks by the mean over targets of each measurement
    two = rows_of([[4, 3, 2, 1], [4, 3, 2, 1]], "a") + rows_of([[0, 0, 0, 0], [-8, -6, -4, -2]], "b")
    assert reliability(tidy(two), ALL, "lookahead")["between"] == pytest.approx(-1.0)
    one = reliability(tidy(rows_of([[4, 3, 2, 1]])), "t", "lookahead")
    assert one == {"measurements": 1, "between": None, "of_mean": None} and not noisy(one)


def test_a_noisy_ranking_is_flagged_in_the_tables_the_mixture_and_the_log(
        tiny_root: Path, constructed: dict, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from muppet.transfer.outputs import write_outputs

    cfg = config(tiny_root, constructed, tmp_path / "n", select="top_k", top_k=2)
    steady = rows_of([[4, 3, 2, 1], [4, 3, 1, 2], [4, 3, 2, 1]], "steady")
    shaky = rows_of([[4, 3, 2, 1], [1, 2, 3, 4], [2, 4, 1, 3]], "shaky")
    sources = {f"c{i}": f"c{i}" for i in range(4)}
    # the tables and heatmaps also show cosines: here the same orders, scaled into [-1, 1]
    cosines = [{**r, "measure": "cosine", "value": r["value"] / 10} for r in steady + shaky]
    between = [{"step": 0, "candidate": f"c{a}", "target": f"c{b}", "measure": "candidate_cosine",
                "value": float(a == b)} for a in range(4) for b in range(4)]
    with caplog.at_level("WARNING", logger="muppet.transfer.outputs"):
        summary = write_outputs(steady + shaky + cosines + between, cfg, ["steady", "shaky"], sources,
                                {"setup_s": 1.0, "measure_s": 2.0, "train_s": 3.0})
    assert summary["reliability"]["steady"]["of_mean"] > 0.9 > 0.5 > summary["reliability"]["shaky"]["of_mean"]
    assert "the ranking for shaky is mostly noise" in caplog.text and "for steady" not in caplog.text
    md = (tmp_path / "n" / "affinity.md").read_text()
    steady_part, shaky_part = md.split("## target `shaky`")[0], md.split("## target `shaky`")[1].split("## ")[0]
    assert "Mostly noise" in shaky_part and "Mostly noise" not in steady_part.split("## target `steady`")[1]
    assert "measurements 2 s, co-training updates 3 s" in md
    assert "(mostly noise)" in yaml.safe_load((tmp_path / "n" / "mixture-shaky.yaml").read_text())["description"]
    assert "noise" not in yaml.safe_load((tmp_path / "n" / "mixture-steady.yaml").read_text())["description"]


def test_linear_lookahead_is_the_small_step_limit_of_the_exact_one(tiny_root: Path, constructed: dict,
                                                                   tmp_path: Path) -> None:
    """At a small step the target's loss is locally linear, so the first-order estimate and the
    loss actually re-measured after the step agree; the cosines do not depend on the method.
    The tiny model's gradients are small: the step must move its float32 loss by well over a
    rounding (6e-8 of it). At lookahead_lr 1 the change is about 1e-5, and the two agree within
    1.3%; a wrong sign, factor or normaliser would be off by far more."""
    values = {}
    for method in ("exact", "linear"):
        run = setup(config(tiny_root, constructed, tmp_path / method, lookahead_method=method, lookahead_lr=1.0))
        measure(run, 0)
        values[method] = {(r["candidate"], r["measure"]): r["value"] for r in run.rows if r["target"] == "aff_target"}
    for c in ("aff_dup", "aff_flip", "tiny_cls"):
        exact, linear = values["exact"][(c, "lookahead")], values["linear"][(c, "lookahead")]
        assert abs(linear) > 5e-6 and linear == pytest.approx(exact, rel=0.03), c
        assert values["linear"][(c, "cosine")] == values["exact"][(c, "cosine")]
