"""Cost of turning 4.25 s of speech into a condition: SONAR+SIB, Whisper+SIB, and a cascade.

Usage: ``uv run python benchmarks/conditioning_cost.py [--seconds 4.25] [--words 11]
[--no-latency]``.

Every part is the full-size published architecture (weights do not change FLOPs or latency;
none can be downloaded here, so they are random):

- ``sonar+sib``: the SONAR English speech encoder without its pooler, then SIB (1024 -> 768);
- ``whisper+sib``: the Whisper-large-v3 encoder on its 30 s window, then SIB (1280 -> 768);
- ``whisper(trimmed)+sib``: the same on the real frames only (``trim_padding``);
- ``cascade``: Whisper-large-v3 ASR (encoder + decoder producing ``--words`` words, about
  1.4 tokens each) and then SD1.5's CLIP ViT-L/14 text encoder on 77 tokens.

MACs are counted with ``torch.utils.flop_counter`` on the ``meta`` device (decoding is
counted as one decoder pass over all generated tokens, which is what a KV-cached greedy
decode computes in its linear layers). CPU latency is the median of ``--rounds`` runs of each
path, run side by side in this one process (the cascade decodes greedily with
``generate(min_new_tokens=max_new_tokens)`` so it always emits the same number of tokens).
The paper reports 0.64 B parameters / 128 G MACs for SONAR+SIB and 2.36 B / 4919 G for the
cascade.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import warnings
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

warnings.filterwarnings("ignore")

from transformers import (  # noqa: E402
    CLIPTextConfig,
    CLIPTextModel,
    WhisperConfig,
    WhisperForConditionalGeneration,
)
from voxcore_sib import SibConfig  # noqa: E402
from voxcore_sib.sib import SpeechInformationBottleneck  # noqa: E402
from voxcore_sonar.encoder import arch_config  # noqa: E402
from voxcore_sonar.encoder import encoder_from_architecture as sonar_encoder  # noqa: E402
from voxcore_whisper import WhisperEncoderConfig  # noqa: E402
from voxcore_whisper.architectures import WHISPER_LARGE_V3  # noqa: E402
from voxcore_whisper.encoder import encoder_from_architecture as whisper_encoder  # noqa: E402

from voxcore.interfaces import SpeechEncoder  # noqa: E402
from voxcore.testing.encoder import synthetic_waveform  # noqa: E402

#: SD1.5's text encoder: CLIP ViT-L/14's text tower (openai/clip-vit-large-patch14).
CLIP_L_TEXT = {"vocab_size": 49408, "hidden_size": 768, "intermediate_size": 3072,
               "num_hidden_layers": 12, "num_attention_heads": 12,
               "max_position_embeddings": 77, "projection_dim": 768}
PAPER = {"sonar+sib": (0.64e9, 128e9), "cascade": (2.36e9, 4919e9)}
TOKENS_PER_WORD = 1.4


def count(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def speech_path(encoder: SpeechEncoder, sib: nn.Module, speech: object) -> Callable[[], object]:
    def run() -> object:
        return sib(encoder.encode([speech]))  # type: ignore[list-item]
    return run


Paths = dict[str, tuple[int, Callable[[], object]]]


def build_paths(device: str, seconds: float, words: int) -> Paths:
    """Each path's parameter count and a function that runs it once."""
    speech = synthetic_waveform(seconds, 16000)
    torch.manual_seed(0)
    with torch.device(device):
        sib_sonar = SpeechInformationBottleneck(SibConfig(input_dim=1024, output_dim=768)).eval()
        sib_whisper = SpeechInformationBottleneck(SibConfig(input_dim=1280, output_dim=768)).eval()
    sonar = sonar_encoder(arch_config("english"), device=device)
    whisper_config = WhisperConfig(**WHISPER_LARGE_V3)
    whisper = whisper_encoder(whisper_config, device=device)
    trimmed = whisper_encoder(whisper_config, WhisperEncoderConfig(trim_padding=True),
                              device=device)
    trimmed.encoder = whisper.encoder  # the same weights, run on the real frames only
    with torch.device(device):
        asr = WhisperForConditionalGeneration(whisper_config).eval()
        clip = CLIPTextModel(CLIPTextConfig(**CLIP_L_TEXT)).eval()
    tokens = math.ceil(words * TOKENS_PER_WORD)
    mel = whisper._log_mel(*_mono(speech)).to(device)

    def cascade() -> object:
        if device == "meta":  # count one pass over every token; generate() needs values
            encoded = asr.model.encoder(mel).last_hidden_state
            ids = torch.zeros(1, tokens + 4, dtype=torch.long, device=device)
            hidden = asr.model.decoder(input_ids=ids, encoder_hidden_states=encoded)
            asr.proj_out(hidden.last_hidden_state)
        else:
            asr.generate(mel, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
        text = torch.zeros(1, 77, dtype=torch.long, device=device)
        return clip(input_ids=text)

    return {
        "sonar+sib": (count(sonar, sib_sonar), speech_path(sonar, sib_sonar, speech)),
        "whisper+sib": (count(whisper, sib_whisper), speech_path(whisper, sib_whisper, speech)),
        "whisper(trimmed)+sib": (count(whisper, sib_whisper),
                                 speech_path(trimmed, sib_whisper, speech)),
        "cascade": (count(asr, clip), cascade),
    }


def _mono(speech: object) -> tuple[torch.Tensor, torch.Tensor]:
    from voxcore.audio import to_mono_batch

    return to_mono_batch([speech], 16000)  # type: ignore[list-item]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.25)
    parser.add_argument("--words", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-latency", action="store_true", help="only parameters and MACs")
    args = parser.parse_args()

    macs = {}
    with torch.no_grad():
        meta_paths = build_paths("meta", args.seconds, args.words)
        for name, (_, run) in meta_paths.items():
            with FlopCounterMode(display=False) as counter:
                run()
            macs[name] = counter.get_total_flops() // 2
    print(f"conditioning cost for {args.seconds:g} s of speech ({args.words} words for the "
          "cascade), full-size architectures")
    print(f"  {'path':22s} {'params':>9s} {'MACs':>9s}   paper")
    for name, (params, _) in meta_paths.items():
        paper = PAPER.get(name)
        note = f"{paper[0] / 1e9:.2f} B / {paper[1] / 1e9:.0f} G" if paper else ""
        print(f"  {name:22s} {params / 1e9:7.2f} B {macs[name] / 1e9:7.0f} G   {note}")
    if args.no_latency:
        return
    del meta_paths
    paths = build_paths("cpu", args.seconds, args.words)
    times: dict[str, list[float]] = {name: [] for name in paths}
    with torch.no_grad():
        for _ in range(args.rounds):
            for name, (_, run) in paths.items():
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["sonar+sib"])
    print(f"CPU latency, median of {args.rounds} ({torch.get_num_threads()} threads), "
          "relative to sonar+sib")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:22s} {median:7.2f} s  {median / base:5.1f}x")


if __name__ == "__main__":
    main()
