"""What ``muppet affinity`` writes: affinity.csv (tidy), affinity.md (rankings), affinity.png
(heatmaps) and mixture files that ``muppet prefinetune`` takes in ``tasks:``."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from muppet.config.transfer import AffinityConfig
from muppet.tables import markdown_table

log = logging.getLogger(__name__)
ALL = "all"  # the mean over targets, as a target of its own
# Below this Spearman-Brown reliability, more than half of the variance of the averaged ranking
# is measurement noise: the selection is nearer a random draw than the ranking a longer
# measurement would give, and the run says so.
RELIABLE = 0.5


def tidy(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Every measurement's rows, and target "all": each measurement averaged over the targets."""
    frame = pd.DataFrame(rows)
    pairs = frame[frame.measure != "candidate_cosine"]
    overall = pairs.groupby(["step", "candidate", "measure"], as_index=False)["value"].mean().assign(target=ALL)
    return pd.concat([frame, overall], ignore_index=True)


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """(candidate, target, measure) -> mean, std and n over the measurements of a :func:`tidy` frame."""
    table = frame.groupby(["candidate", "target", "measure"])["value"].agg(["mean", "std", "count"]).reset_index()
    return table.rename(columns={"count": "n"}).fillna({"std": 0.0})


def reliability(frame: pd.DataFrame, target: str, measure: str) -> dict[str, Any]:
    """How reproducible one target's ranking of the candidates is across the measurements of a
    :func:`tidy` frame: the mean
    Spearman correlation between every two measurements' rankings (``between``: 0 is unrelated,
    1 the same order) and, by the Spearman-Brown formula, the reliability of their mean, the
    ranking that selects (``of_mean``; 0 when ``between`` is not positive). None where it is
    undefined (one measurement, or a measurement in which every candidate ties)."""
    rows_t = frame[(frame.target == target) & (frame.measure == measure)]
    wide = rows_t.pivot(index="candidate", columns="step", values="value")
    n = wide.shape[1]
    result: dict[str, Any] = {"measurements": n, "between": None, "of_mean": None}
    if n < 2 or len(wide) < 3:
        return result
    corr = wide.corr(method="spearman").to_numpy()
    pairs = corr[np.triu_indices(n, k=1)]
    if np.isnan(pairs).any():
        return result
    between = float(pairs.mean())
    result["between"] = round(between, 4)
    result["of_mean"] = round(n * between / (1 + (n - 1) * between), 4) if between > 0 else 0.0
    return result


def noisy(score: Mapping[str, Any]) -> bool:
    return score["of_mean"] is not None and score["of_mean"] < RELIABLE


def ranked(table: pd.DataFrame, target: str, measure: str) -> pd.DataFrame:
    """The rows of one (target, measure), best candidate first (ties by name)."""
    rows = table[(table.target == target) & (table.measure == measure)]
    return rows.sort_values(["mean", "candidate"], ascending=[False, True])


def choose(table: pd.DataFrame, target: str, cfg: AffinityConfig) -> dict[str, float]:
    """The selected candidates for ``target`` with their sampling weights (1.0 unless weighted)."""
    rows = ranked(table, target, cfg.measure)
    if cfg.select == "top_k":
        return {c: 1.0 for c in rows.candidate[: cfg.top_k]}
    positive = rows[rows["mean"] > 0]
    if cfg.select == "positive" or positive.empty:
        return {c: 1.0 for c in positive.candidate}
    scale = float(positive["mean"].mean())  # weights average 1: the mixture's overall rate is kept
    return {c: round(float(v) / scale, 4) for c, v in zip(positive.candidate, positive["mean"])}


def mixture_file(path: Path, name: str, chosen: Mapping[str, float], sources: Mapping[str, str],
                 cfg: AffinityConfig, target: str, score: Mapping[str, Any]) -> None:
    weights = {sources[c]: w for c, w in chosen.items() if w != 1.0}
    trust = "" if score["of_mean"] is None else f"; ranking reliability {score['of_mean']:.2f}"
    data: dict[str, Any] = {
        "mixture": name,
        "description": f"muppet affinity: {cfg.select} by {cfg.measure} for target {target} "
                       f"(targets {', '.join(cfg.targets)}){trust}" + (" (mostly noise)" if noisy(score) else ""),
        "tasks": [sources[c] for c in chosen],
    }
    if weights:
        data["weights"] = weights
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def describe(score: Mapping[str, Any]) -> str:
    """One line on how far a target's ranking can be trusted."""
    if score["of_mean"] is None:
        return (f"Ranking reliability: not measurable from {score['measurements']} measurement(s) "
                "(it needs two or more, with candidates that differ).")
    text = (f"Ranking reliability: {score['of_mean']:.2f} (Spearman-Brown, {score['measurements']} measurements; "
            f"the mean rank correlation between two measurements is {score['between']:+.2f}).")
    if noisy(score):
        text += (" **Mostly noise**: the candidates' order changes from one measurement to the next, so this "
                 "selection is not much better than a random draw. More examples per measurement (`examples`) or "
                 "more measurements (`steps`, `every`) make it steadier.")
    return text


def markdown(table: pd.DataFrame, cfg: AffinityConfig, targets: Sequence[str], chosen: Mapping[str, dict[str, float]],
             scores: Mapping[str, Mapping[str, Any]], timing: Mapping[str, float]) -> str:
    lines = [f"# Task affinity ({cfg.output_dir})", "",
             f"Model `{cfg.model}`; {cfg.steps} co-training updates of {cfg.examples} examples per task; measured "
             f"every {cfg.every} updates (and before the first); lookahead step {cfg.lookahead_lr:g} "
             f"({cfg.lookahead_method}). Time: set-up "
             f"{timing['setup_s']:.0f} s, measurements {timing['measure_s']:.0f} s, co-training updates "
             f"{timing['train_s']:.0f} s.", "",
             f"Selection: `{cfg.select}` by `{cfg.measure}`" + (f" (k = {cfg.top_k})" if cfg.select == "top_k" else "")
             + ". Positive lookahead: a step on the candidate lowers the target's loss.", ""]
    for target in [*targets, ALL]:
        rows = table[(table.target == target) & table.measure.isin(["lookahead", "cosine"])]
        wide = rows.pivot(index="candidate", columns="measure", values=["mean", "std"])
        wide = wide.sort_values(("mean", cfg.measure), ascending=False)
        title = "all targets (mean)" if target == ALL else f"target `{target}`"
        rows = []
        for rank, (cand, r) in enumerate(wide.iterrows(), 1):
            picked = chosen[target].get(cand)
            mark = "" if picked is None else ("yes" if picked == 1.0 else f"weight {picked:g}")
            # lookahead changes are small fractions of a loss (1e-5 at default settings): 3 significant digits
            rows.append((rank, cand, f"{r[('mean', 'lookahead')]:+.2e} ± {r[('std', 'lookahead')]:.1e}",
                         f"{r[('mean', 'cosine')]:+.3f} ± {r[('std', 'cosine')]:.3f}", mark))
        lines += [f"## {title}", "", describe(scores[target]), "",
                  *markdown_table(("rank", "candidate", "lookahead", "cosine", "selected"), rows), ""]
    if not any(chosen[ALL].values()):
        lines.append("No candidate has a positive affinity to the targets together: the selected mixture is empty.")
    return "\n".join(lines) + "\n"


def heatmaps(table: pd.DataFrame, targets: Sequence[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = list(ranked(table, ALL, "lookahead").candidate)
    panels = [("lookahead", [*targets, ALL], "lookahead affinity to targets"),
              ("cosine", [*targets, ALL], "gradient cosine with targets"),
              ("candidate_cosine", order, "gradient cosine between candidates (sampled coordinates)")]
    height = max(3.0, 0.28 * len(order) + 1.5)
    fig, axes = plt.subplots(1, 3, figsize=(6 + 0.3 * len(order) + 2 * len(targets), height),
                             gridspec_kw={"width_ratios": [len(targets) + 1, len(targets) + 1, max(len(order), 1)]})
    for ax, (measure, columns, title) in zip(axes, panels):
        grid = (table[table.measure == measure].pivot(index="candidate", columns="target", values="mean")
                .reindex(index=order, columns=columns))
        limit = float(abs(grid.to_numpy()).max()) or 1.0
        image = ax.imshow(grid.to_numpy(), cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
        ax.set_xticks(range(len(columns)), columns, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(order)), order if ax is axes[0] else [""] * len(order), fontsize=7)
        ax.set_title(title, fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_outputs(rows: Sequence[Mapping[str, Any]], cfg: AffinityConfig, targets: Sequence[str],
                  sources: Mapping[str, str], timing: Mapping[str, float]) -> dict[str, Any]:
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg.save(out / "config.yaml")
    frame = tidy(rows)
    table = summarize(frame)
    pairs = table[table.measure != "candidate_cosine"]
    pairs[["candidate", "target", "measure", "mean", "std", "n"]].to_csv(out / "affinity.csv", index=False)
    table[table.measure == "candidate_cosine"].to_csv(out / "candidate_cosine.csv", index=False)
    pd.DataFrame(rows).to_csv(out / "measurements.csv", index=False)
    chosen = {t: choose(table, t, cfg) for t in [*targets, ALL]}
    scores = {t: reliability(frame, t, cfg.measure) for t in [*targets, ALL]}
    name = Path(cfg.output_dir).name or "affinity"
    mixture_file(out / "mixture.yaml", f"affinity-{name}", chosen[ALL], sources, cfg, ALL, scores[ALL])
    for t in targets:
        mixture_file(out / f"mixture-{t}.yaml", f"affinity-{name}-{t}", chosen[t], sources, cfg, t, scores[t])
    (out / "affinity.md").write_text(markdown(table, cfg, targets, chosen, scores, timing), encoding="utf-8")
    heatmaps(table, targets, out / "affinity.png")
    for t, score in scores.items():
        if noisy(score):
            log.warning("affinity: the ranking for %s is mostly noise (reliability %.2f over %d measurements): its "
                        "selection is not much better than a random draw; raise examples or the number of "
                        "measurements (steps, every)", "all targets" if t == ALL else t, score["of_mean"],
                        score["measurements"])
    summary = {"output_dir": str(out), "selected": chosen[ALL], "per_target": {t: chosen[t] for t in targets},
               "reliability": scores, **timing}
    (out / "affinity.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary
