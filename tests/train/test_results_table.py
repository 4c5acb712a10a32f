"""The dev-results table printed after a run shows each metric in points, by its family's unit."""

from __future__ import annotations

from muppet.train.loop import format_table


def row(family: str, metric: str, score: float) -> dict[str, object]:
    return {"task": "t", "family": family, "eval_split": "dev", "n": 10, "metric": metric, "score": score,
            "random": 0.5 if family != "extractive_qa" else 0.0, "trivial": float("nan")}


def test_fractions_and_correlations_become_points_percentages_stay() -> None:
    lines = format_table([row("classification", "accuracy", 0.812), row("regression", "pearson", 0.5),
                          row("extractive_qa", "f1", 55.25), row("summarization", "rougeL", 31.0)]).splitlines()[2:]
    scores = [line.split(" | ")[5:8] for line in lines]
    assert scores == [["81.2", "50.0", "- |"], ["50.0", "50.0", "- |"], ["55.2", "0.0", "- |"], ["31.0", "0.5", "- |"]]  # ROUGE is in points already
