"""How much a trained run's condition still depends on its input, stage by stage.

For the eval samples of a run it mean-pools each stage's output (encoder features, each
layer in the bottleneck's ModuleLists, the final condition tokens) and prints, per stage, the mean
cosine similarity (after centring) between items with *different* values of a label and
between items with the same value, plus their gap, and the share of each stage's norm that
varies between items at all. A gap near 0 at the condition means the bottleneck
collapsed: every input gives the same tokens, and the generator cannot draw that label::

    uv run python benchmarks/condition_spread.py RUN_DIR [--label content] [--limit 128]

A healthy condition keeps a clear gap; a collapsed one has almost nothing varying.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F

from voxcore.batching import pad_features
from voxcore.caches.features import FeatureCache
from voxcore.evaluation import evaluation_samples
from voxcore.nn import masked_mean
from voxcore.runs import cache_root as default_cache_root
from voxcore.runs import load as load_run


def spread(pooled: torch.Tensor, labels: list[str]) -> tuple[float, float]:
    """Mean cosine between pairs with different / the same label (diagonal excluded).

    The vectors are centred first (their mean over all items removed), so a direction every
    item shares, however large, does not count as similarity.
    """
    centred = pooled.float() - pooled.float().mean(dim=0, keepdim=True)
    unit = F.normalize(centred, dim=1)
    cosine = unit @ unit.T
    values = sorted(set(labels))
    index = torch.tensor([values.index(v) for v in labels])
    same = index[:, None] == index[None, :]
    off_diagonal = ~torch.eye(len(labels), dtype=torch.bool)
    return (float(cosine[~same].mean()), float(cosine[same & off_diagonal].mean()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--label", default="content")
    parser.add_argument("--limit", type=int, default=128)
    args = parser.parse_args()

    loaded = load_run(args.run_dir)
    model, resolved = loaded.model, loaded.resolved
    samples = evaluation_samples(resolved.eval_data, None, args.limit)
    labels = [s.labels[args.label] for s in samples]
    with torch.no_grad():
        if model.speech_encoder is not None:
            audio = [s.audio for s in samples]
            if any(path is None for path in audio):
                raise SystemExit("every evaluation sample of a speech run needs audio")
            cache = FeatureCache(default_cache_root(resolved), resolved.encoder)
            cached = cache.features([p for p in audio if p is not None], model.speech_encoder)
            features = pad_features(cached.features, cached.frame_rate)
        else:
            features = model.encode_text([s.transcript or "" for s in samples])
        stages: list[tuple[str, torch.Tensor]] = [
            ("encoder", masked_mean(features.features, features.mask))]
        with _recording_layers(model.bottleneck, stages):
            condition = model.condition(features)
        stages.append(("condition", masked_mean(condition.tokens, condition.mask)))
    print(f"{args.run_dir} (step {loaded.checkpoint.step}), {len(samples)} samples, "
          f"label {args.label!r} ({len(set(labels))} values)")
    print(f"{'stage':<12} {'cos differ':>10} {'cos same':>9} {'gap':>6} {'varying':>8}")
    for name, pooled in stages:
        differ, same = spread(pooled, labels)
        varying = float((pooled - pooled.mean(dim=0)).norm(dim=1).mean()
                        / pooled.norm(dim=1).mean())
        print(f"{name:<12} {differ:>10.3f} {same:>9.3f} {same - differ:>6.3f} {varying:>8.3f}")


@contextmanager
def _recording_layers(bottleneck: torch.nn.Module,
                      stages: list[tuple[str, torch.Tensor]]) -> Iterator[None]:
    """Append the mean-pooled output of each layer in the bottleneck's ModuleLists to ``stages``.

    Forward hooks, so the bottleneck runs its own ``forward``. A layer's output is a tensor
    ``[B, T, C]`` (its mask is its second input) or a ``(tensor, mask)`` pair (a pooling layer).
    """
    def record(name: str) -> Callable[..., None]:
        def hook(_: torch.nn.Module, inputs: tuple[object, ...], output: object) -> None:
            tokens, mask = output if isinstance(output, tuple) else (output, inputs[1])
            assert isinstance(tokens, torch.Tensor) and isinstance(mask, torch.Tensor)
            stages.append((name, masked_mean(tokens, mask)))
        return hook

    handles = [layer.register_forward_hook(record(f"{list_name} {number}"))
               for list_name, layers in bottleneck.named_children()
               if isinstance(layers, torch.nn.ModuleList)
               for number, layer in enumerate(layers)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


if __name__ == "__main__":
    main()
