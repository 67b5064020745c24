"""Tiny LLaVA-OneVision checkpoints made offline, laid out as a hub snapshot of the real one.

Everything the plugin reads is real transformers code and files: a ``LlavaOnevisionConfig``
(a 2-layer SigLIP of width 32 on 28 px crops of 2 x 2 patches, a 2-layer Qwen2 of width 64),
random weights saved with ``save_pretrained`` as safetensors, and a ``LlavaOnevisionProcessor``
(image processor with 28 px anyres tiles, a byte-level BPE tokenizer trained here on a few
sentences with Qwen2's special tokens, ``<image>``, ``<video>`` and the checkpoint's chat
template). ``taught_llava`` is the same model trained for a few seconds to answer the paper's
prompt about a red and a blue picture (of different sizes, so batches of them are padded) with
three captions each, in two different layouts.

Tensors here are tiny, so these tests run torch on one thread: sharing two busy cores costs
more than it gains (a training step took 45 ms on one thread and 950 ms on two).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image
from voxcore_llava import PAPER_PROMPT, render_prompt

from voxcore.plugin_api import LabelledImage

RED, BLUE, GREEN = (220, 40, 40), (40, 40, 220), (30, 200, 60)
#: What the taught model answers about a red square and a wide blue picture (a numbered list;
#: a preamble and bullets).
TAUGHT_ANSWERS: dict[tuple[tuple[int, int, int], tuple[int, int]], str] = {
    (RED, (32, 32)): "1. A red square fills the whole frame.\n"
                     "2. The picture shows one flat red surface.\n"
                     "3. Nothing but red paint covers the image.",
    (BLUE, (64, 24)): "Here are three captions:\n"
                      "- A blue square fills the whole frame.\n"
                      "- The picture shows one flat blue surface.\n"
                      "- Nothing but blue paint covers the image.",
}

_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]
# The chat template of llava-hf's LLaVA-OneVision checkpoints (images, then text, per turn).
_CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}"
    "{{ '<image>\n' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}"
    "{{ '<video>\n' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{{ content['text'] }}{% endfor %}{{'<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
_CROP = 28
_PINPOINTS = [[_CROP, _CROP], [_CROP, 2 * _CROP], [2 * _CROP, _CROP], [2 * _CROP, 2 * _CROP]]


def tiny_processor() -> Any:
    """A LlavaOnevisionProcessor with a small vocabulary, made without any download."""
    from tokenizers import (  # type: ignore[import-untyped]
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        trainers,
    )
    from transformers import (
        LlavaOnevisionImageProcessor,
        LlavaOnevisionProcessor,
        LlavaOnevisionVideoProcessor,
        Qwen2TokenizerFast,
    )

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=_SPECIAL, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator([*TAUGHT_ANSWERS.values(), render_prompt(PAPER_PROMPT, 3),
                             "user assistant system"], trainer)
    tokenizer = Qwen2TokenizerFast(tokenizer_object=bpe, unk_token=None, bos_token=None,
                                   eos_token="<|im_end|>", pad_token="<|endoftext|>")
    size = {"height": _CROP, "width": _CROP}
    return LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(size=size, crop_size=size,
                                                     image_grid_pinpoints=_PINPOINTS),
        tokenizer=tokenizer, video_processor=LlavaOnevisionVideoProcessor(size=size),
        num_image_tokens=(_CROP // 14) ** 2, vision_feature_select_strategy="full",
        chat_template=_CHAT_TEMPLATE)


def tiny_model(processor: Any, *, seed: int = 0) -> Any:
    """A random-weight LLaVA-OneVision for ``processor``'s tokenizer."""
    from transformers import LlavaOnevisionForConditionalGeneration
    from voxcore_llava.architectures import llava_onevision_config

    tokenizer = processor.tokenizer
    config = llava_onevision_config(
        vision={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                "num_attention_heads": 2, "image_size": _CROP, "patch_size": 14,
                "vision_use_head": False},
        text={"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": len(tokenizer),
              "max_position_embeddings": 512, "tie_word_embeddings": False},
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        video_token_index=tokenizer.convert_tokens_to_ids("<video>"),
        image_grid_pinpoints=_PINPOINTS)
    torch.manual_seed(seed)
    model = LlavaOnevisionForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def save_checkpoint(folder: Path, model: Any, processor: Any) -> Path:
    """``model`` and ``processor`` saved as the hub's snapshot of a checkpoint is laid out."""
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def teach(model: Any, processor: Any,
          answers: dict[tuple[tuple[int, int, int], tuple[int, int]], str], *,
          max_steps: int = 400) -> None:
    """Train ``model`` until it answers the paper's prompt about a plain picture of each
    colour and size with its answer (teacher forcing on the answer tokens only)."""
    prompt = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"},
                                       {"type": "text", "text": render_prompt(PAPER_PROMPT, 3)}]}],
        add_generation_prompt=True)
    pictures = [Image.new("RGB", size, colour) for colour, size in answers]
    processor.tokenizer.padding_side = "left"
    inputs = processor(images=pictures, text=[prompt + a + "<|im_end|>" for a in answers.values()],
                       return_tensors="pt", padding=True)
    labels = inputs["input_ids"].clone()
    for row, (mask, alone) in enumerate(zip(inputs["attention_mask"], pictures, strict=True)):
        # The prompt's length depends on the picture's size (its number of image tokens).
        prompt_length = len(processor(images=[alone], text=[prompt])["input_ids"][0])
        labels[row, : int((mask == 0).sum()) + prompt_length] = -100
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # session fixtures are made before the module's _one_thread
    model.train()
    try:
        for _ in range(max_steps):
            output = model(**inputs, labels=labels)
            optimizer.zero_grad()
            output.loss.backward()
            optimizer.step()
            # Greedy decoding gives the answer once every answer token is the most likely
            # after the ones before it; a small loss leaves a margin for batch padding.
            predicted = output.logits[:, :-1].argmax(-1)
            targets = labels[:, 1:]
            answer = targets != -100
            if output.loss.item() < 0.02 and bool((predicted[answer] == targets[answer]).all()):
                break
        else:
            raise AssertionError(f"the tiny model did not learn its answers in {max_steps} steps")
    finally:
        torch.set_num_threads(threads)
    model.eval()


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_tokenizer() -> Any:
    """The tiny checkpoints' tokenizer (Qwen2's special tokens, ``<image>``, ``<video>``)."""
    return tiny_processor().tokenizer


@pytest.fixture(scope="session")
def tiny_llava(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of a tiny random-weight LLaVA-OneVision checkpoint."""
    processor = tiny_processor()
    return save_checkpoint(tmp_path_factory.mktemp("tiny-llava"), tiny_model(processor),
                           processor)


@pytest.fixture(scope="session")
def taught_llava(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of a tiny LLaVA-OneVision taught :data:`TAUGHT_ANSWERS`."""
    processor = tiny_processor()
    model = tiny_model(processor)
    teach(model, processor, TAUGHT_ANSWERS)
    return save_checkpoint(tmp_path_factory.mktemp("taught-llava"), model, processor)


def picture(folder: Path, name: str, colour: tuple[int, int, int],
            size: tuple[int, int] = (32, 32)) -> LabelledImage:
    """A plain picture written to ``folder``, as an image to caption."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    Image.new("RGB", size, colour).save(path)
    return LabelledImage(id=name, path=path, emotion="enjoyment", split="train")


@pytest.fixture
def pictures(tmp_path: Path) -> list[LabelledImage]:
    """Pictures of different colours, sizes and aspect ratios (so of different numbers of
    image tokens: batches of them are padded)."""
    folder = tmp_path / "pictures"
    return [picture(folder, "red", RED), picture(folder, "blue-wide", BLUE, (64, 24)),
            picture(folder, "green-tall", GREEN, (20, 50)), picture(folder, "blue", BLUE)]
