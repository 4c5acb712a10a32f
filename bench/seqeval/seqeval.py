"""Offline stand-in for the `seqeval` metric script.

tasknet 1.60 calls evaluate.load("seqeval") when it is imported; offline that fails.
`evaluate` looks for ./seqeval/seqeval.py in the working directory first, so
bench/tasknet_run.py runs from bench/ and finds this module. Token classification is not
benchmarked, so the metric only has to load; it computes plain token accuracy.
"""

import datasets
import evaluate


class Seqeval(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description="token accuracy (offline stand-in for seqeval)",
            citation="",
            inputs_description="lists of tag sequences",
            features=datasets.Features({
                "predictions": datasets.Sequence(datasets.Value("string")),
                "references": datasets.Sequence(datasets.Value("string")),
            }),
        )

    def _compute(self, predictions, references):
        pairs = [(p, r) for ps, rs in zip(predictions, references) for p, r in zip(ps, rs)]
        return {"overall_accuracy": sum(p == r for p, r in pairs) / max(len(pairs), 1)}
