"""Settings of the ``llava-onevision`` captioner (a dataset builder's ``captioner.config``).

Imported whenever voxcore loads its plugins, so nothing here imports torch or transformers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from voxcore.plugin_api import Precision, PretrainedSource
from voxcore_llava.prompt import PAPER_PROMPT

__all__ = ["DEFAULT_MODEL", "LlavaCaptionerConfig"]

#: The checkpoint of the paper's size: LLaVA-OneVision with SigLIP so400m and Qwen2-7B (8.0 B
#: parameters), in the layout transformers reads.
DEFAULT_MODEL = "llava-hf/llava-onevision-qwen2-7b-ov-hf"


class LlavaCaptionerConfig(PretrainedSource):
    """Settings of the ``llava-onevision`` captioner."""

    model: str = Field(
        default=DEFAULT_MODEL,
        description="hub id of a LLaVA-OneVision checkpoint in transformers' layout (looked up "
                    "in the Hugging Face cache; downloaded only when the hub is reachable), or "
                    "a local folder holding its config.json, safetensors weights, tokenizer and "
                    "processor files (e.g. from `huggingface-cli download ID --local-dir DIR`)")
    prompt: str = Field(
        default=PAPER_PROMPT, min_length=1,
        description="the instruction given with each image; '{count}' is replaced by the "
                    "number of captions asked for, in words ('three'; digits above ten), so "
                    "the default is the paper's Appendix A prompt for any count. A prompt "
                    "without '{count}' is sent as written")
    max_new_tokens: int = Field(
        default=160, ge=1, le=4096,
        description="most tokens generated per image (three 8-15 word captions take about "
                    "60; the rest leaves room for a preamble)")
    do_sample: bool = Field(
        default=False,
        description="sample on the first attempt too; False = greedy decoding, which is what "
                    "attempt 0 uses. Retries (attempt > 0) always sample, so that they differ")
    temperature: float = Field(
        default=0.7, gt=0.0, le=10.0, description="softmax temperature when sampling")
    top_p: float = Field(
        default=0.9, gt=0.0, le=1.0,
        description="nucleus sampling: draw only from the most likely tokens whose "
                    "probabilities add up to top_p (1 = from all)")
    seed: int = Field(
        default=0,
        description="base of the sampling seeds; each image draws from its own seed, derived "
                    "from this, the image id and the attempt, so a retry is reproducible and "
                    "independent of the batch")
    batch_size: int = Field(default=4, ge=1, description="images generated together")
    dtype: Precision | Literal["auto"] = Field(
        default="auto",
        description="precision the model runs in; 'auto' = float16 on CUDA, float32 elsewhere")
