"""The ``flickr8k-audio`` dataset: the Flickr Audio Caption Corpus with the Flickr8k images.

Read from the releases as they unpack:

- ``flickr_audio/wav2capt.txt``: ``WAVNAME IMAGE.jpg #N`` per line (the wav speaks caption N
  of the image), wavs in ``flickr_audio/wavs/``; ``flickr_audio/wav2spk.txt``
  (``WAVNAME SPEAKER``) gives the speaker when present (wav names do not encode it);
- ``Flickr8k_text/Flickr8k.token.txt``: ``IMAGE.jpg#N<TAB>caption``, and the split lists
  ``Flickr_8k.{train,dev,test}Images.txt`` (one image file name per line);
- ``Flicker8k_Dataset/IMAGE.jpg`` (the release's spelling).
"""

from __future__ import annotations

from pathlib import Path

from voxcore.plugin_api import Sample
from voxcore_datasets._common import (
    SampleList,
    check_referenced_files,
    numbered_lines,
    raise_problems,
    read_text,
    require_dir,
    require_file,
)
from voxcore_datasets.config import Flickr8kAudioConfig

__all__ = ["load_flickr8k_audio"]

AUDIO_DOWNLOAD = ("download the Flickr Audio Caption Corpus from "
                  "https://groups.csail.mit.edu/sls/downloads/flickraudio/ and set 'audio_root' "
                  "to its flickr_audio folder (wav2capt.txt, wavs/)")
TEXT_DOWNLOAD = ("download Flickr8k (Flickr8k_text.zip and Flickr8k_Dataset.zip, see "
                 "https://hockenmaier.cs.illinois.edu/8k-pictures.html) and set 'text_root' to "
                 "the Flickr8k_text folder and 'image_root' to Flicker8k_Dataset")
SPLIT_FILES = {"train": "Flickr_8k.trainImages.txt", "dev": "Flickr_8k.devImages.txt",
               "test": "Flickr_8k.testImages.txt"}


def load_flickr8k_audio(config: Flickr8kAudioConfig) -> SampleList:
    """One sample per spoken caption of the images of ``config.split``, in wav2capt order."""
    audio_root = require_dir(Path(config.audio_root), "Flickr audio folder", AUDIO_DOWNLOAD)
    text_root = require_dir(Path(config.text_root), "Flickr8k text folder", TEXT_DOWNLOAD)
    image_root = require_dir(Path(config.image_root), "Flickr8k image folder", TEXT_DOWNLOAD)
    split_file = require_file(text_root / SPLIT_FILES[config.split], "Flickr8k split file",
                              TEXT_DOWNLOAD)
    images = {line.strip() for _, line in numbered_lines(read_text(split_file))}
    captions = _read_tokens(require_file(text_root / "Flickr8k.token.txt",
                                         "Flickr8k caption file", TEXT_DOWNLOAD))
    speakers = _read_speakers(audio_root / "wav2spk.txt")
    wav2capt = require_file(audio_root / "wav2capt.txt", "Flickr audio index", AUDIO_DOWNLOAD)
    wav_dir = audio_root.absolute() / "wavs"
    samples: list[Sample] = []
    lines: list[int] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in numbered_lines(read_text(wav2capt)):
        fields = line.split()
        if len(fields) != 3 or not fields[2].startswith("#") or not fields[2][1:].isdigit():
            problems.append(f"line {number}: expected 'WAVNAME IMAGE.jpg #N', got {line.strip()!r}")
            continue
        wav, image, key = fields[0], fields[1], f"{fields[1]}{fields[2]}"
        if wav in seen:
            problems.append(f"line {number}: duplicate wav {wav!r} (first on line {seen[wav]})")
            continue
        seen[wav] = number
        if key not in captions:
            problems.append(f"line {number}: caption {key} is not in Flickr8k.token.txt")
            continue
        if image not in images:
            continue
        if config.limit is not None and len(samples) >= config.limit:
            continue
        samples.append(Sample(id=Path(wav).stem, audio=wav_dir / wav,
                              image=image_root.absolute() / image, transcript=captions[key],
                              speaker=speakers.get(wav)))
        lines.append(number)
    raise_problems(f"Flickr audio index {wav2capt} has", problems,
                   hint="is it the file from the Flickr Audio Caption Corpus, next to the "
                        "matching Flickr8k_text?")
    if config.check_files:
        check_referenced_files(
            ((f"line {number}", name, getattr(sample, name))
             for number, sample in zip(lines, samples, strict=True)
             for name in ("audio", "image")),
            wav2capt, hint=f"is the release complete? {AUDIO_DOWNLOAD}; {TEXT_DOWNLOAD}")
    return SampleList(f"flickr8k-audio {config.split}", samples)


def _read_tokens(path: Path) -> dict[str, str]:
    """``IMAGE.jpg#N`` -> caption, from ``Flickr8k.token.txt`` (every bad line reported)."""
    captions: dict[str, str] = {}
    problems: list[str] = []
    for number, line in numbered_lines(read_text(path)):
        key, tab, caption = line.partition("\t")
        if not tab or "#" not in key or not caption.strip():
            problems.append(f"line {number}: expected 'IMAGE.jpg#N<TAB>caption', got "
                            f"{line.strip()[:60]!r}")
            continue
        captions[key.strip()] = caption.strip()
    raise_problems(f"Flickr8k caption file {path} has", problems,
                   hint="is it Flickr8k.token.txt from Flickr8k_text.zip?")
    return captions


def _read_speakers(path: Path) -> dict[str, str]:
    """wav name -> speaker id from ``wav2spk.txt``, or nothing when the file is absent."""
    if not path.is_file():
        return {}
    speakers: dict[str, str] = {}
    problems: list[str] = []
    for number, line in numbered_lines(read_text(path)):
        fields = line.split()
        if len(fields) != 2:
            problems.append(f"line {number}: expected 'WAVNAME SPEAKER', got {line.strip()!r}")
            continue
        speakers[fields[0]] = fields[1]
    raise_problems(f"Flickr speaker file {path} has", problems,
                   hint="is it wav2spk.txt from the Flickr Audio Caption Corpus?")
    return speakers
