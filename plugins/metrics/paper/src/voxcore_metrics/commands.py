"""The ``voxcore train-classifier`` command line (argparse only; training imports torch).

Added to ``voxcore`` by this plugin's ``voxcore_add_commands`` hook.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["add_train_classifier", "run_train_classifier"]


def add_train_classifier(commands: Any) -> None:
    """Add ``train-classifier`` to the ``voxcore`` sub-parsers."""
    parser = commands.add_parser(
        "train-classifier", help="train the Emo-A emotion classifier (timm) for the emo-a metric",
        description="Train a timm image classifier over the paper's five emotions (enjoyment = "
                    "amusement + excitement, anger, disgust, fear, sadness) on EmoSet or a "
                    "registered dataset, and write safetensors weights plus classifier.json "
                    "to --out (the emo-a metric's 'classifier').")
    parser.add_argument("data", nargs="?", type=Path, metavar="EMOSET_DIR",
                        help="EmoSet folder: image/<emotion>/*.jpg and train.json/val.json")
    parser.add_argument("--dataset", metavar="NAME",
                        help="train on a registered voxcore dataset instead of EMOSET_DIR")
    parser.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE",
                        help="the dataset's config (repeatable)")
    parser.add_argument("--label", default="emotion",
                        help="label key of the dataset's samples (default: emotion)")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the classifier")
    parser.add_argument("--model", default="resnet50",
                        help="timm model name, built with pretrained=False (default: resnet50)")
    parser.add_argument("--model-kwargs", default="{}", metavar="JSON",
                        help="extra timm.create_model arguments as JSON (default: {})")
    parser.add_argument("--resolution", type=int, default=224, help="image side (default: 224)")
    parser.add_argument("--epochs", type=int, default=10, help="default: 10")
    parser.add_argument("--batch-size", type=int, default=64, help="default: 64")
    parser.add_argument("--lr", type=float, default=1e-3,
                        help="peak AdamW learning rate, one-cycle (default: 1e-3)")
    parser.add_argument("--weight-decay", type=float, default=0.05, help="default: 0.05")
    parser.add_argument("--holdout", type=float, default=0.1,
                        help="fraction held out when the data has no val/test split "
                             "(default: 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument("--num-workers", type=int, default=0,
                        help="image-reading worker processes (default: 0)")
    parser.set_defaults(run=run_train_classifier)


def run_train_classifier(args: argparse.Namespace) -> int:
    """Validate the options, collect the images, train, and report the held-out accuracy."""
    from voxcore.plugin_api import UserError

    if (args.data is None) == (args.dataset is None):
        raise UserError("train-classifier needs either EMOSET_DIR or --dataset NAME (not both)")
    for name in ("resolution", "epochs", "batch_size", "num_workers"):
        minimum = 0 if name == "num_workers" else 1
        if getattr(args, name) < minimum:
            raise UserError(f"--{name.replace('_', '-')} must be at least {minimum}")
    if not 0 < args.holdout < 1 or args.lr <= 0 or args.weight_decay < 0:
        raise UserError("--holdout must be in (0, 1), --lr positive, --weight-decay >= 0")
    try:
        model_kwargs = json.loads(args.model_kwargs)
    except json.JSONDecodeError as exc:
        raise UserError(f"--model-kwargs is not JSON: {exc}") from None
    if not isinstance(model_kwargs, dict):
        raise UserError("--model-kwargs must be a JSON object")
    import timm

    if not timm.is_model(args.model):
        raise UserError(f"--model {args.model!r} is not a timm model name (see "
                        "timm.list_models())")

    from voxcore_metrics.train import (
        TrainOptions,
        collect_dataset,
        collect_emoset,
        train_classifier,
    )

    options = TrainOptions(out=args.out, model=args.model, model_kwargs=model_kwargs,
                           resolution=args.resolution, epochs=args.epochs,
                           batch_size=args.batch_size, lr=args.lr,
                           weight_decay=args.weight_decay, seed=args.seed,
                           holdout=args.holdout, device=args.device,
                           num_workers=args.num_workers)
    if args.dataset is not None:
        from voxcore.plugin_api import parse_overrides

        dataset_options = parse_overrides(args.dataset_option,
                                          source=f"--dataset-option of {args.dataset}")
        train, held, source = collect_dataset(args.dataset, dataset_options, args.label,
                                              args.holdout, args.seed)
    else:
        train, held, source = collect_emoset(args.data, args.holdout, args.seed)
    print(f"training {args.model} on {len(train)} images ({source}), {len(held)} held out")
    info = train_classifier(train, held, options, source)
    accuracy = info.get("heldout_accuracy")
    shown = f"{accuracy:.2f}%" if isinstance(accuracy, float) else "n/a (nothing held out)"
    print(f"classifier written to {args.out} (held-out accuracy {shown}); use it with "
          f"metrics: - {{name: emo-a, config: {{classifier: {args.out}}}}}")
    return 0
