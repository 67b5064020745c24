"""Training data at scale: the content-addressed cache, lazy rows, crops and flips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from PIL import Image
from support import toy_recipe, toy_site, write_toy_data

import voxcore.caches.content as content_cache
from voxcore.caches.content import CachedRows, ContentCache
from voxcore.cli import main
from voxcore.images import load_image
from voxcore.recipe.schema import ImageSection
from voxcore.training.data import PixelImages


def write_files(folder: Path, contents: list[bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, content in enumerate(contents):
        path = folder / f"f{index}.bin"
        path.write_bytes(content)
        paths.append(path)
    return paths


def byte_sums(paths: list[Path]) -> list[tuple[torch.Tensor, dict[str, str]]]:
    return [(torch.tensor([float(sum(p.read_bytes()))]), {"name": p.name}) for p in paths]


def test_content_cache_computes_each_content_once_and_hashes_unchanged_files_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = write_files(tmp_path / "src", [b"ab", b"cd", b"ab", b"xyz"])
    cache = ContentCache(tmp_path / "cache", tmp_path / "cache" / "sums", "sum")
    computed: list[str] = []

    def compute(paths: list[Path]) -> list[tuple[torch.Tensor, dict[str, str]]]:
        computed.extend(p.stem for p in paths)
        return byte_sums(paths)

    first = cache.fill(files, compute, batch_size=2)
    assert (first.reused, first.computed) == (0, 3) and computed == ["f0", "f1", "f3"]
    assert first.entries[0] == first.entries[2]
    rows = CachedRows(first.entries, "sum")
    assert [float(r) for r in rows.rows([0, 1, 2, 3])] == [195.0, 199.0, 195.0, 363.0]

    hashed: list[Path] = []
    real_digest = content_cache.file_digest
    monkeypatch.setattr(content_cache, "file_digest",
                        lambda path: hashed.append(path) or real_digest(path))
    again = cache.fill(files, compute, batch_size=2)
    assert (again.reused, again.computed, hashed) == (3, 0, [])
    files[1].write_bytes(b"changed!")
    os.utime(files[1], ns=(1, 1))
    changed = cache.fill(files, compute, batch_size=2)
    assert [p.stem for p in hashed] == ["f1"] and changed.computed == 1


def test_cached_rows_read_lazily_equal_rows_held_in_memory(tmp_path: Path) -> None:
    files = write_files(tmp_path / "src", [bytes([i] * (i + 1)) for i in range(6)])
    filled = ContentCache(tmp_path, tmp_path / "c", "sum").fill(files, byte_sums, batch_size=4)
    held = CachedRows(filled.entries, "sum")
    lazy = CachedRows(filled.entries, "sum", preload_bytes=0)
    assert held.in_memory and not lazy.in_memory
    indices = [5, 0, 3, 3]
    assert all(torch.equal(a, b) for a, b in zip(held.rows(indices), lazy.rows(indices),
                                                 strict=True))


def wide_image(path: Path) -> Path:
    """A 3:1 image: red third, green third, blue third."""
    image = Image.new("RGB", (48, 16))
    for x in range(48):
        for y in range(16):
            image.putpixel((x, y), [(255, 0, 0), (0, 255, 0), (0, 0, 255)][x // 16])
    image.save(path)
    return path


def test_crop_position_and_flip(tmp_path: Path) -> None:
    path = wide_image(tmp_path / "wide.png")
    left, center, right = (load_image(path, 16, crop_position=p) for p in (0.0, 0.5, 1.0))
    assert left[0].mean() > 0.99 and center[1].mean() > 0.99 and right[2].mean() > 0.99
    mirrored = load_image(path, 16, crop_position=0.25, flip=True)
    assert torch.equal(mirrored, load_image(path, 16, crop_position=0.25).flip(-1))


def test_random_crops_and_flips_follow_the_draw_generator(tmp_path: Path) -> None:
    paths = [wide_image(tmp_path / "wide.png")] * 8
    augmented = PixelImages(paths, 16, ImageSection(crop="random", hflip=True))
    plain = PixelImages(paths, 16, ImageSection())
    assert plain.loaded is not None and augmented.loaded is None

    def draw(seed: int) -> torch.Tensor:
        return augmented.rows(list(range(8)), torch.Generator().manual_seed(seed))

    assert torch.equal(draw(1), draw(1)) and not torch.equal(draw(1), draw(2))
    assert len({tuple(image.mean(dim=(1, 2)).round(decimals=2).tolist())
                for image in draw(3)}) > 1
    assert torch.equal(plain.rows([0, 1], torch.Generator()), torch.stack([load_image(
        paths[0], 16)] * 2))


def test_training_with_random_crops_and_flips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(toy_site(tmp_path)))
    recipe = toy_recipe(tmp_path, write_toy_data(tmp_path / "data"), tmp_path / "cache",
                        max_steps=2, checkpoint_every=2, validate_every=0)
    assert main(["train", str(recipe), "--run-dir", str(tmp_path / "run"), "--no-progress",
                 "data.images.crop=random", "data.images.hflip=true"]) == 0
    assert len((tmp_path / "run" / "logs" / "loss.csv").read_text().splitlines()) == 3
    resolved = (tmp_path / "run" / "recipe.yaml").read_text()
    assert "crop: random" in resolved and "hflip: true" in resolved


def test_trainings_in_one_process_keep_their_own_log_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(toy_site(tmp_path)))
    recipe = toy_recipe(tmp_path, write_toy_data(tmp_path / "data"), tmp_path / "cache",
                        max_steps=1, checkpoint_every=1, validate_every=0)
    for name in ("first", "second"):
        assert main(["train", str(recipe), "--run-dir", str(tmp_path / name),
                     "--no-progress"]) == 0
    first = (tmp_path / "first" / "logs" / "train.log").read_text()
    assert str(tmp_path / "first") in first and str(tmp_path / "second") not in first
