"""The llava-onevision captioner on tiny checkpoints: the conformance suite, batching,
sampling, fingerprints, devices and unreadable images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from voxcore_llava import LlavaCaptionerConfig
from voxcore_llava.captioner import LlavaCaptioner, build_llava_captioner

from voxcore.plugin_api import Captioner, LabelledImage, get_registry
from voxcore.testing import CaptionerSuite


class TestGreedyCaptioner(CaptionerSuite):
    """Attempt 0, greedy, over pictures of different sizes in batches of two: padded rows."""

    settings: dict[str, Any] = {"batch_size": 2, "max_new_tokens": 24}

    @pytest.fixture(autouse=True)
    def _checkpoint(self, tiny_llava: Path, pictures: list[LabelledImage]) -> None:
        self.folder = tiny_llava
        self.pictures = pictures

    def build_captioner(self, tmp_path: Path) -> Captioner:
        return build_llava_captioner(LlavaCaptionerConfig(model=str(self.folder),
                                                          **self.settings))

    def images(self, tmp_path: Path) -> list[LabelledImage]:
        return self.pictures


class TestSamplingCaptioner(TestGreedyCaptioner):
    """``do_sample``: every image draws from its own seed, so batches do not matter either."""

    settings = {"batch_size": 3, "max_new_tokens": 24, "do_sample": True, "temperature": 1.5,
                "top_p": 0.95}


def captioner(folder: Path, **settings: Any) -> LlavaCaptioner:
    return build_llava_captioner(LlavaCaptionerConfig(model=str(folder), **settings))


def test_registered_and_built_through_the_registry(tiny_llava: Path) -> None:
    built = get_registry("captioner").build("llava-onevision", {"model": str(tiny_llava)})
    assert isinstance(built, LlavaCaptioner)
    assert isinstance(built, Captioner)


def test_weights_are_read_at_the_first_caption(tiny_llava: Path,
                                               pictures: list[LabelledImage]) -> None:
    built = captioner(tiny_llava, max_new_tokens=4)
    assert built._loaded is None
    built.caption(pictures[:1], count=3)
    assert built._loaded is not None


def test_batched_answers_equal_single_ones_with_left_padding(
        tiny_llava: Path, pictures: list[LabelledImage]) -> None:
    from PIL import Image

    built = captioner(tiny_llava, max_new_tokens=24)
    images = [Image.open(image.path).convert("RGB") for image in pictures]
    ids = [image.id for image in pictures]
    together = built.answers(images, ids, prompt="Describe it.")
    alone = [built.answers([image], [id_], prompt="Describe it.")[0]
             for image, id_ in zip(images, ids, strict=True)]
    assert together == alone
    # The pictures differ in their numbers of image tokens, so the batch really was padded,
    # on the left (on the right, the padded rows' answers change).
    _, processor = built._model_and_processor()
    batch = processor(images=images, text=["<image>"] * len(images), padding=True,
                      return_tensors="pt")
    lengths = batch["attention_mask"].sum(dim=1)
    assert len(set(lengths.tolist())) == 3  # red and blue are both 32 x 32
    assert bool(batch["attention_mask"][:, -1].all())


def test_a_retry_samples_reproducibly_and_differently(
        tiny_llava: Path, pictures: list[LabelledImage]) -> None:
    built = captioner(tiny_llava, max_new_tokens=16, batch_size=4)
    greedy = built.caption(pictures, count=3)
    assert built.caption(pictures, count=3) == greedy
    first = built.caption(pictures, count=3, attempt=1)
    assert first != greedy
    assert captioner(tiny_llava, max_new_tokens=16, batch_size=1).caption(
        pictures, count=3, attempt=1) == first
    assert built.caption(pictures, count=3, attempt=2) != first
    reseeded = captioner(tiny_llava, max_new_tokens=16, seed=7)
    assert reseeded.caption(pictures, count=3, attempt=1) != first


def test_an_unreadable_image_gets_no_captions(tiny_llava: Path, tmp_path: Path,
                                              pictures: list[LabelledImage]) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    images = [pictures[0], LabelledImage(id="broken", path=broken, emotion="fear",
                                         split="test"),
              LabelledImage(id="gone", path=tmp_path / "gone.png", emotion="fear", split="test")]
    built = captioner(tiny_llava, max_new_tokens=8)
    captions = built.caption(images, count=3)
    assert captions[1:] == [[], []]
    assert captions[0] == built.caption(pictures[:1], count=3)[0]


def test_count_and_attempt_are_checked(tiny_llava: Path,
                                       pictures: list[LabelledImage]) -> None:
    built = captioner(tiny_llava)
    with pytest.raises(ValueError, match="count"):
        built.caption(pictures, count=0)
    with pytest.raises(ValueError, match="attempt"):
        built.caption(pictures, count=3, attempt=-1)
    assert built.caption([], count=3) == []


@pytest.mark.parametrize("change", [
    {"prompt": "Describe the image in {count} sentences."},
    {"max_new_tokens": 64}, {"do_sample": True}, {"temperature": 0.9}, {"top_p": 0.5},
    {"seed": 3}, {"dtype": "bfloat16"},
])
def test_fingerprint_follows_what_the_captions_depend_on(
        tiny_llava: Path, change: dict[str, Any]) -> None:
    reference = captioner(tiny_llava).captioner_fingerprint
    assert captioner(tiny_llava).captioner_fingerprint == reference
    assert captioner(tiny_llava, **change).captioner_fingerprint != reference


def test_fingerprint_ignores_what_does_not_change_captions(tiny_llava: Path) -> None:
    reference = captioner(tiny_llava).captioner_fingerprint
    assert captioner(tiny_llava, batch_size=7).captioner_fingerprint == reference
    assert captioner(tiny_llava, dtype="float32").captioner_fingerprint == reference  # on CPU


def test_fingerprint_follows_the_weights(tiny_llava: Path, tmp_path: Path) -> None:
    import shutil

    copy = Path(shutil.copytree(tiny_llava, tmp_path / "copy"))
    reference = captioner(copy).captioner_fingerprint
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes() + b" ")
    assert captioner(copy).captioner_fingerprint != reference


def test_to_moves_the_model_and_sets_the_precision(tiny_llava: Path,
                                                   pictures: list[LabelledImage]) -> None:
    built = captioner(tiny_llava, max_new_tokens=4)
    assert built.dtype == torch.float32
    built.caption(pictures[:1], count=3)
    on_meta = built.to("meta")
    assert on_meta is built and built.device == torch.device("meta")
    model, _ = built._model_and_processor()
    assert next(model.parameters()).device.type == "meta"
    pinned = captioner(tiny_llava, dtype="bfloat16")
    assert pinned.dtype == torch.bfloat16


def test_auto_precision_is_half_on_cuda(tiny_llava: Path) -> None:
    built = captioner(tiny_llava)
    cpu = built.captioner_fingerprint
    # No weights are loaded, so this only changes the setting (no CUDA device needed).
    built.to("cuda")
    assert built.dtype == torch.float16
    assert built.captioner_fingerprint != cpu


def test_bfloat16_on_cpu_captions(tiny_llava: Path, pictures: list[LabelledImage]) -> None:
    built = captioner(tiny_llava, dtype="bfloat16", max_new_tokens=8)
    captions = built.caption(pictures[:2], count=3)
    assert len(captions) == 2
    model, _ = built._model_and_processor()
    assert next(model.parameters()).dtype == torch.bfloat16


@pytest.mark.slow
def test_a_taught_model_gives_its_captions_in_order(
        taught_llava: Path, pictures: list[LabelledImage]) -> None:
    red = ["A red square fills the whole frame.", "The picture shows one flat red surface.",
           "Nothing but red paint covers the image."]
    blue = [caption.replace("red", "blue") for caption in red]
    built = captioner(taught_llava, max_new_tokens=60)
    red_square, blue_wide = pictures[:2]
    assert built.caption([red_square, blue_wide], count=3) == [red, blue]
    assert built.caption([blue_wide, red_square, blue_wide], count=3) == [blue, red, blue]
    assert built.caption([blue_wide], count=2) == [blue[:2]]


class TestBfloat16Captioner(TestGreedyCaptioner):
    """Half precision on the CPU: batches still do not change the answers."""

    settings = {"batch_size": 4, "max_new_tokens": 24, "dtype": "bfloat16"}
