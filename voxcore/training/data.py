"""Training examples: images at the generator's resolution (or their cached latents) plus
what the model is conditioned on (:mod:`voxcore.prompts`), drawn from a weighted mix of
datasets. Small sets are held in memory, big ones read from disk one batch at a time."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from voxcore.caches.content import PRELOAD_BYTES, CachedRows
from voxcore.caches.latents import LatentCache, supports_latent_cache
from voxcore.errors import UserError
from voxcore.images import load_image
from voxcore.interfaces import Dataset, Sample, SpeechFeatures
from voxcore.model import VoxModel
from voxcore.prompts import PromptInputs, prompt_inputs
from voxcore.recipe import BoundComponent
from voxcore.recipe.schema import ImageSection

log = logging.getLogger(__name__)

#: Pixel images kept for validation grids even when training reads cached encodings.
PREVIEWS = 8


@dataclass(frozen=True)
class Batch:
    """One micro-batch: images (or their cached encodings) plus speech features or texts."""

    images: torch.Tensor
    features: SpeechFeatures | None
    texts: list[str] | None
    encoded: bool = False


class PixelImages:
    """Training images at the generator's resolution, cropped and flipped as the recipe says.

    Without augmentation and when they fit in :data:`PRELOAD_BYTES` they are decoded once and
    kept in memory; otherwise each batch is read from the files, so memory stays flat.
    """

    def __init__(self, paths: Sequence[Path], resolution: int, settings: ImageSection,
                 preload_bytes: int = PRELOAD_BYTES) -> None:
        self.paths = list(paths)
        self.resolution = resolution
        self.settings = settings
        self.augmented = settings.crop == "random" or settings.hflip
        self.loaded: torch.Tensor | None = None
        if not self.augmented and len(self.paths) * 3 * resolution**2 * 4 <= preload_bytes:
            self.loaded = torch.stack([load_image(path, resolution) for path in self.paths])

    def rows(self, indices: Sequence[int], generator: torch.Generator) -> torch.Tensor:
        """The images at ``indices`` (augmentations drawn from ``generator``)."""
        if self.loaded is not None:
            return self.loaded[list(indices)]
        if not self.augmented:
            return torch.stack([load_image(self.paths[i], self.resolution) for i in indices])
        count = len(indices)
        positions = (torch.rand(count, generator=generator) if self.settings.crop == "random"
                     else torch.full((count,), 0.5))
        flips = (torch.rand(count, generator=generator) < 0.5 if self.settings.hflip
                 else torch.zeros(count, dtype=torch.bool))
        return torch.stack([
            load_image(self.paths[i], self.resolution, crop_position=float(position),
                       flip=bool(flip))
            for i, position, flip in zip(indices, positions, flips, strict=True)])


@dataclass
class Examples:
    """Every training example, and the probability of drawing each one.

    ``images`` gives pixel images at the generator's resolution, or, when ``encoded``, the
    generator's cached encodings of them (see :mod:`voxcore.caches.latents`); ``inputs``
    what the model is conditioned on for each example (cached speech features, or texts; see
    :mod:`voxcore.prompts`). Both are read one batch at a time when they do not fit in memory.
    ``previews`` are the first few pixel images (for validation grids).
    """

    samples: list[Sample]
    images: PixelImages | CachedRows
    inputs: PromptInputs
    weights: torch.Tensor
    previews: torch.Tensor
    encoded: bool = False

    def __len__(self) -> int:
        return len(self.samples)

    def draw(self, count: int, generator: torch.Generator) -> list[int]:
        """Indices of ``count`` examples drawn with replacement by dataset weight."""
        return torch.multinomial(self.weights, count, replacement=True,
                                 generator=generator).tolist()

    def batch(self, indices: Sequence[int], generator: torch.Generator | None = None) -> Batch:
        """The micro-batch of these examples (features padded, with a mask).

        ``generator`` draws the random crops and flips, if the recipe asks for them.
        """
        if isinstance(self.images, CachedRows):
            images = torch.stack(self.images.rows(indices))
        else:
            images = self.images.rows(indices, generator or torch.Generator().manual_seed(0))
        if self.inputs.texts is not None:
            return Batch(images, None, self.inputs.texts_at(indices), self.encoded)
        return Batch(images, self.inputs.features(indices), None, self.encoded)


def build_datasets(specs: Sequence[BoundComponent], what: str) -> list[Dataset]:
    """Build the datasets a recipe names (``data.train`` or ``data.eval``)."""
    if not specs:
        raise UserError(f"the recipe has no {what} datasets: add at least one "
                        f"{{name, config}} under '{what}'")
    return [spec.build() for spec in specs]


def load_examples(
    model: VoxModel,
    specs: Sequence[BoundComponent],
    weights: Sequence[float],
    encoder: BoundComponent,
    cache_root: Path,
    resolution: int,
    image_settings: ImageSection | None = None,
) -> Examples:
    """Index every example of the training datasets, filling the feature and latent caches.

    Only file paths and cache entries are held; the tensors themselves stay on disk unless
    they fit in memory (see :class:`CachedRows` and :class:`PixelImages`).
    """
    image_settings = image_settings or ImageSection()
    samples: list[Sample] = []
    probabilities: list[float] = []
    for spec, dataset, weight in zip(specs, build_datasets(specs, "data.train"), weights,
                                     strict=True):
        items = [dataset[i] for i in range(len(dataset))]
        if not items:
            raise UserError(f"{spec.path} ({spec.entry.name}) has no samples")
        samples += items
        probabilities += [weight / len(items)] * len(items)
    image_paths = []
    for sample in samples:
        if sample.image is None:
            raise UserError(f"sample {sample.id!r} has no image; every training sample needs one")
        image_paths.append(sample.image)
    previews = torch.stack([load_image(path, resolution) for path in image_paths[:PREVIEWS]])
    cache_key = supports_latent_cache(model.generator)
    if cache_key and (image_settings.crop == "random" or image_settings.hflip):
        log.warning("the latent cache is off: data.images asks for random crops or flips, "
                    "which change every draw")
        cache_key = ""
    images: PixelImages | CachedRows
    if cache_key:
        device = _device(model.generator)
        filled = LatentCache(cache_root, cache_key).fill(
            image_paths, lambda path: load_image(path, resolution),
            lambda batch: model.encode_images_for_cache(batch.to(device)),
            type(model.generator).__name__)
        images = CachedRows(filled.entries, "encoding")
    else:
        images = PixelImages(image_paths, resolution, image_settings)
    inputs = prompt_inputs(model, encoder, cache_root, samples)
    return Examples(samples, images, inputs, torch.tensor(probabilities, dtype=torch.float64),
                    previews, bool(cache_key))


def _device(module: object) -> torch.device:
    parameters = module.parameters() if isinstance(module, torch.nn.Module) else iter(())
    first = next(parameters, None)
    return first.device if first is not None else torch.device("cpu")
