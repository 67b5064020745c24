"""The cost figures of the plugin's README: parameters, multiply-accumulates per second of
speech, CPU seconds of the tiny model, and an A100 estimate for VoxEmoset.

    .venv/bin/python plugins/synthesizers/f5tts/benchmarks/measure_cost.py

Method: the full-size DiT (F5TTS_v1_Base) and Vocos are built on fake tensors (shapes only, no
memory, no weights) and one forward is run under ``torch.utils.flop_counter.FlopCounterMode``,
with attention forced onto PyTorch's math kernel so that its two matrix products are counted
too (the fused CPU kernel has no FLOP formula). One flow step is one DiT forward over
reference + generated frames for the conditional and the unconditional pass together (f5-tts's
``cfg_infer``); the text embedding is computed once per utterance and cached, so it is counted
once. An utterance costs ``nfe_step`` steps plus one Vocos pass over the generated frames.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

FRAMES_PER_SECOND = 24_000 / 256
A100_DENSE_FP16_FLOPS = 312e12


def macs(run: Callable[[], object]) -> float:
    """Multiply-accumulates of ``run()`` (half the FLOPs FlopCounterMode reports)."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad(), sdpa_kernel(SDPBackend.MATH):
        run()
    return counter.get_total_flops() / 2


def full_size_costs(reference_s: float, speech_s: float, nfe: int) -> dict[str, float]:
    from vocos import Vocos  # type: ignore[import-untyped]
    from voxcore_f5tts import F5TTSConfig
    from voxcore_f5tts.architectures import architecture_of, build_dit
    from voxcore_f5tts.sources import package_vocab
    from voxcore_f5tts.tiny import VOCOS_CONFIG

    vocab = len(package_vocab().read_text(encoding="utf-8").splitlines())
    frames = int((reference_s + speech_s) * FRAMES_PER_SECOND)
    speech_frames = int(speech_s * FRAMES_PER_SECOND)
    text_tokens = int(15 * (reference_s + speech_s))  # ~15 characters a second
    with tempfile.TemporaryDirectory() as folder:
        # Vocos is small (and its mel filter bank needs real values): built for real.
        config_path = Path(folder) / "config.yaml"
        config_path.write_text(VOCOS_CONFIG.format(dim=512, intermediate=1536, layers=8))
        vocos = Vocos.from_hparams(str(config_path)).eval()
        vocoder = macs(lambda: vocos.decode(torch.randn(1, 100, speech_frames)))
        vocos_parameters = sum(p.numel() for p in vocos.parameters())
    with FakeTensorMode():
        dit: Any = build_dit(architecture_of(F5TTSConfig()), vocab)
        x = torch.randn(1, frames, 100)
        text = torch.randint(0, vocab, (1, text_tokens))
        step = macs(lambda: dit(x=x, cond=x, text=text, time=torch.tensor(0.5), mask=None,
                                cfg_infer=True, cache=False))
        text_once = macs(lambda: (dit.text_embed(text, seq_len=frames),
                                  dit.text_embed(text, seq_len=frames, drop_text=True)))
        dit_parameters = sum(p.numel() for p in dit.parameters())
    per_utterance = nfe * (step - text_once) + text_once + vocoder
    return {"frames": frames, "dit_parameters": dit_parameters,
            "vocos_parameters": vocos_parameters, "step_macs": step - text_once,
            "text_macs": text_once, "vocoder_macs": vocoder, "utterance_macs": per_utterance,
            "macs_per_speech_second": per_utterance / speech_s}


def tiny_seconds(utterances: int, nfe: int) -> float:
    """CPU seconds per utterance of the tiny random model (one thread, after a warm-up)."""
    from voxcore_f5tts import F5TTSConfig
    from voxcore_f5tts.synthesizer import F5TTSSynthesizer
    from voxcore_f5tts.tiny import tiny_config, write_tiny_checkpoint, write_tiny_vocos

    from voxcore.plugin_api import SynthesisRequest
    from voxcore.testing import reference_voice

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        write_tiny_checkpoint(folder / "model")
        write_tiny_vocos(folder / "vocos")
        synthesizer = F5TTSSynthesizer(F5TTSConfig(**tiny_config(
            folder / "model", folder / "vocos", nfe_step=nfe)))
        voice = reference_voice(folder / "voice", seconds=3.0)
        text = "a small red boat floats on a calm blue lake at dawn"
        synthesizer.synthesize([SynthesisRequest("warm", text, voice)])
        started = time.perf_counter()
        for seed in range(utterances):
            synthesizer.synthesize([SynthesisRequest(str(seed), text, voice, seed=seed)])
        return (time.perf_counter() - started) / utterances


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference-seconds", type=float, default=3.0)
    parser.add_argument("--speech-seconds", type=float, default=4.25)
    parser.add_argument("--nfe", type=int, default=32)
    parser.add_argument("--utterances", type=int, default=247_000)
    parser.add_argument("--utilisation", type=float, default=0.35,
                        help="assumed fraction of the A100's dense fp16 peak achieved")
    arguments = parser.parse_args()
    costs = full_size_costs(arguments.reference_seconds, arguments.speech_seconds,
                            arguments.nfe)
    for key, value in costs.items():
        print(f"{key}: {value:,.0f}")
    total_flops = 2 * costs["utterance_macs"] * arguments.utterances
    hours = total_flops / (A100_DENSE_FP16_FLOPS * arguments.utilisation) / 3600
    print(f"total: {total_flops:.3e} FLOPs for {arguments.utterances:,} utterances; "
          f"A100 at {arguments.utilisation:.0%} of its fp16 peak: {hours:.1f} GPU-hours")
    print(f"tiny model, 1 CPU thread, nfe 4: {tiny_seconds(5, 4):.3f} s an utterance; "
          f"nfe {arguments.nfe}: {tiny_seconds(5, arguments.nfe):.3f} s")


if __name__ == "__main__":
    main()
