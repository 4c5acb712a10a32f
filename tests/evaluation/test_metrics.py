"""Metrics against values computed by hand (and the official SQuAD normalisation cases)."""

from __future__ import annotations

import math

import pytest

from muppet.evaluation import metrics as M


def test_accuracy_and_macro_f1() -> None:
    pred, gold = [0, 1, 1, 2, 2, 0], [0, 1, 2, 2, 1, 1]
    assert M.accuracy(pred, gold) == pytest.approx(3 / 6)
    # class 0: tp1 fp1 fn0 -> F1 2/3 ; class 1: tp1 fp1 fn2 -> 2/5 ; class 2: tp1 fp1 fn1 -> 1/2
    assert M.f1_macro(pred, gold, 3) == pytest.approx((2 / 3 + 0.4 + 0.5) / 3)


def test_matthews_binary_and_degenerate() -> None:
    pred, gold = [1, 1, 0, 0, 1], [1, 0, 0, 0, 1]
    tp, tn, fp, fn = 2, 2, 1, 0
    expected = (tp * tn - fp * fn) / math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    assert M.matthews_corrcoef(pred, gold, 2) == pytest.approx(expected)
    assert M.matthews_corrcoef([1, 1, 1], [0, 1, 0], 2) == 0.0  # constant prediction: undefined -> 0


def test_pearson_and_spearman() -> None:
    x, y = [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 5.0, 4.0]
    mx, my = 2.5, 3.75
    cov = sum((a - mx) * (b - my) for a, b in zip(x, y))
    r = cov / math.sqrt(sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y))
    assert M.pearson(x, y) == pytest.approx(r)
    # ranks of y with ties: 1, 2.5, 4, 2.5
    assert M.spearman(x, y) == pytest.approx(M.pearson([1, 2, 3, 4], [1, 2.5, 4, 2.5]))
    assert M.spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)


@pytest.mark.parametrize(
    "raw,normalized",
    [
        ("The Cat!", "cat"),
        ("an apple, a pear and THE plum", "apple pear and plum"),
        ("  Denver   Broncos. ", "denver broncos"),
        ("theatre", "theatre"),  # articles only as whole words
        ("1,000", "1000"),
    ],
)
def test_squad_normalisation(raw: str, normalized: str) -> None:
    assert M.normalize_answer(raw) == normalized


def test_squad_scores_take_the_best_gold_and_handle_no_answer() -> None:
    scores = M.squad_scores(["the Denver Broncos", "Carolina", "", "x"], [["Denver Broncos"], ["Carolina Panthers", "Panthers"], [], []])
    # EM: 1, 0, 1 (empty for unanswerable), 0 ; F1: 1, 2/3, 1, 0
    assert scores["exact_match"] == pytest.approx(100 * 2 / 4)
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3 + 1 + 0) / 4)


def test_rouge() -> None:
    perfect = M.rouge(["the cat sat on the mat"], ["the cat sat on the mat"])
    assert perfect == {"rouge1": 100.0, "rouge2": 100.0, "rougeL": 100.0}
    partial = M.rouge(["the cat sat"], ["the cat sat on the mat"])
    # unigram P=1, R=3/6 -> F=2/3 ; bigram P=1, R=2/5 -> F=4/7
    assert partial["rouge1"] == pytest.approx(100 * 2 / 3)
    assert partial["rouge2"] == pytest.approx(100 * 4 / 7)
