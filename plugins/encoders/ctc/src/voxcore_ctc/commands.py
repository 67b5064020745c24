"""The ``voxcore train-recognizer`` command line (argparse only; training imports torch).

Added to ``voxcore`` by this plugin's ``voxcore_add_commands`` hook.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["add_train_recognizer", "run_train_recognizer"]

_MEL_DEFAULTS = '{"n_mels": 80, "hop_length": 320, "normalize": "utterance"}'


def add_train_recognizer(commands: Any) -> None:
    """Add ``train-recognizer`` to the ``voxcore`` sub-parsers."""
    parser = commands.add_parser(
        "train-recognizer", help="train the word recogniser of the ctc-words speech encoder",
        description="Train a small word-level CTC recogniser (log-mel -> 2 strided convs -> "
                    "Transformer -> words) on the speech and transcripts of a registered "
                    "dataset, report its accuracy on a held-out split, and write "
                    "recognizer.json + recognizer.safetensors to --out (the ctc-words "
                    "encoder's 'recognizer').")
    parser.add_argument("--dataset", required=True, metavar="NAME",
                        help="registered voxcore dataset with audio and transcripts")
    parser.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE",
                        help="the dataset's config (repeatable), e.g. root=data/voxshapes")
    parser.add_argument("--train-split", default="train",
                        help="the dataset's 'split' to train on (default: train)")
    parser.add_argument("--heldout-split", default="test",
                        help="the 'split' to measure on; '' = none (default: test)")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the recogniser")
    parser.add_argument("--mel", default=_MEL_DEFAULTS, metavar="JSON",
                        help=f"the mel encoder's config as JSON (default: {_MEL_DEFAULTS})")
    parser.add_argument("--width", type=int, default=128, help="default: 128")
    parser.add_argument("--num-layers", type=int, default=2, help="default: 2")
    parser.add_argument("--num-heads", type=int, default=4, help="default: 4")
    parser.add_argument("--steps", type=int, default=300, help="default: 300")
    parser.add_argument("--batch-size", type=int, default=32, help="default: 32")
    parser.add_argument("--lr", type=float, default=2e-3, help="AdamW learning rate "
                                                              "(default: 2e-3)")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.set_defaults(run=run_train_recognizer)


def run_train_recognizer(args: argparse.Namespace) -> int:
    """Validate the options, read the dataset, train, and report the held-out accuracy."""
    from pydantic import ValidationError

    from voxcore.plugin_api import UserError, configure_logging, parse_overrides
    from voxcore_ctc import RecognizerTraining

    try:
        mel = json.loads(args.mel)
    except json.JSONDecodeError as exc:
        raise UserError(f"--mel is not JSON: {exc}") from None
    try:
        training = RecognizerTraining(
            mel=mel, width=args.width, num_layers=args.num_layers, num_heads=args.num_heads,
            steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}"
                             for e in exc.errors())
        raise UserError(f"train-recognizer options: {problems} (--mel is the mel encoder's "
                        "config)") from None

    from voxcore_ctc.train import collect_utterances, train_recognizer

    configure_logging()
    options = parse_overrides(args.dataset_option, source=f"--dataset-option of {args.dataset}")
    train = collect_utterances(args.dataset, {**options, "split": args.train_split},
                               training.mel)
    heldout = None
    if args.heldout_split:
        heldout = collect_utterances(args.dataset, {**options, "split": args.heldout_split},
                                     training.mel)
    print(f"training a word recogniser on {len(train)} utterances ({train.source})")
    spec = train_recognizer(train, heldout, training, args.out)
    figures = spec.heldout
    if "exact_transcripts_percent" in figures:
        shown = (f"{figures['exact_transcripts_percent']:.1f}% of {args.heldout_split!r} "
                 f"transcripts exact, {figures['words_recognised_percent']:.1f}% of words")
    else:
        shown = "nothing held out"
    print(f"recogniser ({len(spec.vocabulary)} words) written to {args.out} in "
          f"{figures['train_seconds']:.0f} s: {shown}; use it with "
          f"encoder: {{name: ctc-words, config: {{recognizer: {args.out}}}}}")
    return 0
