"""voxcore plugin: the ``llava-onevision`` image captioner (the paper's Sec. 4.2, Appendix A).

LLaVA-OneVision (a SigLIP image encoder and a Qwen2 language model, through transformers)
writes factual captions of images, three per EmoSet image in the paper, with the paper's prompt.

This module is imported whenever voxcore loads its plugins, so it only declares the config and
registers the captioner; torch and transformers are imported by :mod:`voxcore_llava.captioner`
when one is built.
"""

from __future__ import annotations

from typing import Any

from voxcore.plugin_api import hookimpl
from voxcore_llava.config import DEFAULT_MODEL, LlavaCaptionerConfig
from voxcore_llava.prompt import PAPER_PROMPT, render_prompt

__all__ = ["DEFAULT_MODEL", "PAPER_PROMPT", "LlavaCaptionerConfig", "render_prompt",
           "voxcore_register_captioners"]


@hookimpl
def voxcore_register_captioners(register: Any) -> None:
    """Register the ``llava-onevision`` captioner."""
    register("llava-onevision", config=LlavaCaptionerConfig,
             factory="voxcore_llava.captioner:build_llava_captioner",
             description="factual image captions from LLaVA-OneVision (transformers; default "
                         "llava-hf/llava-onevision-qwen2-7b-ov-hf, the paper's prompt)")
