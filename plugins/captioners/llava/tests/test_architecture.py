"""The paper-size checkpoint's architecture, on the meta device: parameters and image tokens
(the figures the README's cost estimate is built on)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from PIL import Image
from voxcore_llava.architectures import IMAGE_TOKENS_PER_CROP, llava_onevision_config


def test_the_papers_checkpoint_has_8_0_billion_parameters() -> None:
    from transformers import LlavaOnevisionForConditionalGeneration

    with torch.device("meta"):
        model = LlavaOnevisionForConditionalGeneration(llava_onevision_config())

    def count(module: torch.nn.Module) -> int:
        return sum(parameter.numel() for parameter in module.parameters())

    total = count(model)
    assert total == pytest.approx(8.03e9, rel=0.005)  # the hub card: 8.03 B
    assert count(model.model.vision_tower) == pytest.approx(0.398e9, rel=0.005)
    assert count(model.model.language_model) + count(model.lm_head) == pytest.approx(
        7.616e9, rel=0.005)  # Qwen2-7B with its vocabulary padded to 152128
    assert count(model.model.multi_modal_projector) == 1152 * 3584 + 3584 + 3584 * 3584 + 3584
    assert next(model.parameters()).device.type == "meta"


@pytest.mark.parametrize(("height", "width", "crops", "tokens"), [
    (384, 384, 2, 1485), (480, 640, 5, 2929), (768, 1024, 7, 4725), (1024, 1024, 10, 7371),
])
def test_image_tokens_of_the_papers_processor(tiny_tokenizer: Any, height: int, width: int,
                                              crops: int, tokens: int) -> None:
    from transformers import (
        LlavaOnevisionImageProcessor,
        LlavaOnevisionProcessor,
        LlavaOnevisionVideoProcessor,
    )

    # The checkpoint's image processor is transformers' default one (384 px crops, anyres
    # up to 6 x 6 crops, at most 9 crops' worth of tokens); only the tokenizer is tiny here.
    processor = LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(),
        video_processor=LlavaOnevisionVideoProcessor(), tokenizer=tiny_tokenizer,
        num_image_tokens=IMAGE_TOKENS_PER_CROP, vision_feature_select_strategy="full")
    inputs = processor(images=[Image.new("RGB", (width, height))], text=["<image>"],
                       return_tensors="pt")
    assert inputs["pixel_values"].shape[1] == crops
    image_token = processor.tokenizer.convert_tokens_to_ids("<image>")
    assert int((inputs["input_ids"] == image_token).sum()) == tokens
