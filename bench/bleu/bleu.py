"""Offline stand-in for the `bleu` metric script (see seqeval/seqeval.py for why).

Sequence-to-sequence tasks are not benchmarked; the metric only has to load. It reports
unigram precision, not BLEU.
"""

import datasets
import evaluate


class Bleu(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description="unigram precision (offline stand-in for bleu)",
            citation="",
            inputs_description="predicted and reference strings",
            features=datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
        )

    def _compute(self, predictions, references):
        hits = total = 0
        for p, r in zip(predictions, references):
            ref = r.split()
            hits += sum(w in ref for w in p.split())
            total += len(p.split())
        return {"bleu": hits / max(total, 1)}
