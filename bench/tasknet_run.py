"""tasknet's side of bench/throughput.py, run with the tasknet virtualenv's python from bench/.

Trains tasknet (one task per batch, on the Hugging Face Trainer) on the exported tasks and
prints one JSON line: real (non-pad) tokens per second over the timed steps, counted at the
model's input after tasknet trims each batch's padding.
"""

import argparse
import json
import os
import sys
import time

import torch


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--tasks", nargs="+", required=True)
    p.add_argument("--steps", type=int, default=33)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("WANDB_DISABLED", "true")
    import datasets
    import tasknet as tn
    import transformers

    tasks = []
    for name in args.tasks:
        ds = datasets.load_dataset("json", data_files=os.path.join(args.data, f"{name}.jsonl"), split="train")
        # tasknet wants train/validation/test; only training is timed
        splits = datasets.DatasetDict(train=ds, validation=ds.select(range(16)), test=ds.select(range(16)))
        if "choice0" in ds.column_names:
            choices = tuple(c for c in ds.column_names if c.startswith("choice"))
            tasks.append(tn.MultipleChoice(dataset=splits, s1="inputs", choices=choices, y="label", name=name))
        else:
            tasks.append(tn.Classification(dataset=splits, s1="s1", s2="s2", y="label", name=name))

    class hparams:
        model_name = args.model
        learning_rate = 1e-5
        per_device_train_batch_size = args.batch_size
        max_steps = args.steps
        max_length = args.max_length
        output_dir = os.path.join(args.data, "tasknet-out")
        report_to = []
        logging_strategy = "no"
        eval_strategy = "no"
        save_strategy = "no"
        use_cpu = True
        dataloader_num_workers = 0

    model = tn.Model(tasks, hparams)
    trainer = tn.Trainer(model, tasks, hparams)
    counted = {"tokens": 0, "examples": 0}
    inner = model.forward

    def forward(task, **kwargs):  # tasknet trims padding here; count what reaches the encoder
        out = inner(task, **kwargs)
        counted["tokens"] += int(kwargs["attention_mask"].sum())
        counted["examples"] += int(kwargs["attention_mask"].shape[0])
        return out

    model.forward = forward
    marks = {}

    class Clock(transformers.TrainerCallback):
        def on_step_end(self, a, state, control, **kw):
            if state.global_step == args.warmup:
                marks["start"] = time.perf_counter()
                marks["tokens"] = counted["tokens"]
                marks["examples"] = counted["examples"]
            marks["end"] = time.perf_counter()

    trainer.add_callback(Clock())
    trainer.train()
    seconds = marks["end"] - marks["start"]
    tokens = counted["tokens"] - marks["tokens"]
    examples = counted["examples"] - marks["examples"]
    print(json.dumps({"tokens_per_s": tokens / seconds, "examples_per_s": examples / seconds, "seconds": seconds,
                      "tokens": tokens, "examples": examples, "steps": args.steps - args.warmup,
                      "tasknet": __import__("tasknet").__name__, "transformers": transformers.__version__}))


if __name__ == "__main__":
    sys.exit(main())
