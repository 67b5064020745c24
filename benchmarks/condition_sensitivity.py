"""Does a trained run's image depend on its prompt? Where does the prompt's information get lost?

Usage: ``uv run python benchmarks/condition_sensitivity.py RUN_DIR [--split test] [--prompts 16]
[--label content]``.

A sharper check than an accuracy at chance. On the run's evaluation prompts it prints:

- **varying share** of the condition: the mean distance of each prompt's pooled condition
  (masked mean of its tokens) from the mean over prompts, over the mean norm. Near 0 means
  every prompt gives nearly the same condition (the path has collapsed);
- **linear probe**: how well a least-squares linear read-out of the pooled condition predicts
  each label (fitted on half the prompts, scored on the other half). High accuracy with a tiny
  varying share means the information is there but drowned by what all prompts share;
- **image sensitivity**: with the *same* sampling noise for every prompt, the mean absolute
  pixel difference between the images of different prompts, against the difference between
  two seeds for the same prompt. A ratio near 0 means the generator ignores its condition.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from voxcore.batching import pad_features
from voxcore.caches.features import FeatureCache
from voxcore.evaluation import evaluation_samples
from voxcore.interfaces import Condition, SpeechFeatures
from voxcore.nn import masked_mean
from voxcore.runs import cache_root as default_cache_root
from voxcore.runs import load as load_run


def conditions(loaded, samples) -> Condition:  # type: ignore[no-untyped-def]
    model = loaded.model
    with torch.no_grad():
        if model.modality == "text" and model.transcriber is None:
            features: SpeechFeatures = model.encode_text([s.transcript or "" for s in samples])
        else:
            cached = FeatureCache(default_cache_root(loaded.resolved), loaded.resolved.encoder
                                  ).features([s.audio for s in samples], model.speech_encoder)
            features = pad_features(cached.features, cached.frame_rate)
        return model.condition(features)


def probe_accuracy(pooled: torch.Tensor, labels: list[str]) -> float:
    """Least-squares one-hot read-out fitted on even prompts, scored on odd ones (%)."""
    classes = sorted(set(labels))
    targets = torch.zeros(len(labels), len(classes))
    targets[torch.arange(len(labels)), [classes.index(x) for x in labels]] = 1
    x = torch.cat([pooled, torch.ones(len(labels), 1)], dim=1).double()
    fit, score = slice(0, None, 2), slice(1, None, 2)
    weights = torch.linalg.lstsq(x[fit], targets[fit].double(), rcond=None).solution
    predicted = (x[score] @ weights).argmax(dim=1)
    truth = targets[score].argmax(dim=1)
    return float((predicted == truth).double().mean() * 100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--split", default="test")
    parser.add_argument("--prompts", type=int, default=16, help="prompts for image sensitivity")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    loaded = load_run(args.run_dir)
    model = loaded.model.eval()
    samples = evaluation_samples(loaded.resolved.eval_data, args.split, None)
    condition = conditions(loaded, samples)
    pooled = masked_mean(condition.tokens, condition.mask)
    centred = pooled - pooled.mean(dim=0)
    share = float(centred.norm(dim=1).mean() / pooled.norm(dim=1).mean())
    print(f"{len(samples)} prompts, condition {tuple(condition.tokens.shape[1:])} per prompt")
    print(f"varying share of the pooled condition: {share:.3f}")
    for key in sorted({k for s in samples for k in s.labels}):
        labels = [s.labels.get(key, "") for s in samples]
        chance = 100 / len(set(labels))
        print(f"linear probe of '{key}': {probe_accuracy(pooled, labels):.1f}% "
              f"(chance {chance:.1f}%)")
    settings = loaded.resolved.recipe.generate
    count = min(args.prompts, len(samples))
    images = {}
    with torch.no_grad():
        for seed in (0, 1):
            rows = []
            for i in range(count):
                one = Condition(condition.tokens[i:i + 1], condition.mask[i:i + 1],
                                None if condition.pooled is None else condition.pooled[i:i + 1])
                rows.append(model.generator_part.generate(
                    one, num_inference_steps=args.steps, guidance_scale=settings.guidance_scale,
                    scheduler=settings.scheduler, generator=torch.Generator().manual_seed(seed)))
            images[seed] = torch.cat(rows)
    same_seed = images[0]
    between_prompts = float((same_seed[:, None] - same_seed[None]).abs().mean(dim=(2, 3, 4)).sum()
                            / (count * (count - 1)))
    between_seeds = float((images[0] - images[1]).abs().mean())
    print(f"image difference between prompts (same noise): {between_prompts:.4f}; between "
          f"seeds (same prompt): {between_seeds:.4f}; ratio {between_prompts / between_seeds:.3f}")


if __name__ == "__main__":
    main()
