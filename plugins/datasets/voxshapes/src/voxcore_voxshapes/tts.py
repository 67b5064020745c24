"""Speech synthesis with libespeak-ng through ctypes (library and voices from ``espeakng-loader``).

:func:`synthesize` speaks one text with a voice and prosody settings and returns int16-range
float32 samples at espeak-ng's native rate (22050 Hz). espeak-ng is one global synthesizer per
process, so every call holds a lock.

Determinism: for the same text and settings the output is identical *given the same history
in this process*. espeak-ng keeps pitch-flutter, gain-control and phase state between
utterances that no API call resets, so the same call made after different utterances differs
slightly (a few samples in length). Callers that need byte-identical audio synthesize a fixed
sequence of utterances in a fresh process (as :mod:`voxcore_voxshapes.build` does).
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxcore.plugin_api import UserError

__all__ = ["SpeechSynthesisError", "EspeakInfo", "espeak_info", "has_voice", "synthesize",
           "RATE_RANGE", "VOLUME_RANGE"]

#: Words per minute espeak-ng accepts.
RATE_RANGE = (80, 450)
#: Volume espeak-ng accepts (100 = normal; above that it may clip and compress).
VOLUME_RANGE = (0, 200)

# Constants of espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # return an error instead of calling exit() on bad data
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _VOLUME, _PITCH, _RANGE, _WORDGAP = 1, 2, 3, 4, 7
_EE_OK = 0

class _Voice(ctypes.Structure):
    """espeak_VOICE of speak_lib.h (``languages``: priority byte + name + NUL, repeated)."""

    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p),
                ("identifier", ctypes.c_char_p), ("gender", ctypes.c_ubyte),
                ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte),
                ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)


class SpeechSynthesisError(UserError, RuntimeError):
    """libespeak-ng could not be loaded or failed to speak; the message says what to do."""


@dataclass(frozen=True)
class EspeakInfo:
    """Which espeak-ng is in use."""

    version: str
    sample_rate: int
    library: str
    data: str


class _Espeak:
    """The loaded library, its sample rate and the buffer its callback fills."""

    def __init__(self) -> None:
        try:
            import espeakng_loader  # type: ignore[import-untyped]

            library = espeakng_loader.get_library_path()
            data = espeakng_loader.get_data_path()
        except (ImportError, RuntimeError) as exc:
            raise SpeechSynthesisError(
                f"espeak-ng is not available ({exc}); install the 'espeakng-loader' package "
                "(pip install espeakng-loader), which ships libespeak-ng and its voices") from exc
        try:
            lib = ctypes.CDLL(library)
        except OSError as exc:
            raise SpeechSynthesisError(
                f"could not load libespeak-ng from {library} ({exc}); reinstall "
                "'espeakng-loader' for this platform") from exc
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                          ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint,
                                     ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p,
                                     ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_ng_SetRandSeed.restype = None
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode(),
                                     _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise SpeechSynthesisError(f"libespeak-ng ({library}) failed to initialize with the "
                                       f"voice data in {data}; reinstall 'espeakng-loader'")
        self.lib = lib
        self.sample_rate = int(rate)
        self.info = EspeakInfo(version=lib.espeak_Info(None).decode(), sample_rate=int(rate),
                               library=library, data=data)
        self.voices = _list_voices(lib)
        self.variants = _list_variants(Path(data))
        self.chunks: list[np.ndarray] = []
        # ctypes does not keep the callback alive: without this reference it would be freed
        # while libespeak-ng still calls it.
        self._callback = _CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], count: int,
                 _events: int | None) -> int:
        if count > 0 and wav:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0


def _list_voices(lib: ctypes.CDLL) -> frozenset[str]:
    """Every name a base voice answers to: its name, identifier and language codes."""
    names: set[str] = set()
    voices = lib.espeak_ListVoices(None)
    index = 0
    while voices[index]:
        voice = voices[index].contents
        identifier = (voice.identifier or b"").decode()
        names.update({(voice.name or b"").decode(), identifier, identifier.rsplit("/", 1)[-1]})
        address = voice.languages
        while address and ctypes.c_ubyte.from_address(address).value:
            language = ctypes.string_at(address + 1)
            names.add(language.decode())
            address += len(language) + 2
        index += 1
    return frozenset(name.lower() for name in names if name)


def _list_variants(data: Path) -> frozenset[str]:
    folder = data / "voices" / "!v"
    return frozenset(p.name for p in folder.iterdir()) if folder.is_dir() else frozenset()


_lock = threading.Lock()
_engine: _Espeak | None = None


def _get_engine() -> _Espeak:
    global _engine
    if _engine is None:
        _engine = _Espeak()
    return _engine


def espeak_info() -> EspeakInfo:
    """Version, sample rate and file locations of the espeak-ng in use (loads it if needed)."""
    with _lock:
        return _get_engine().info


def has_voice(voice: str) -> bool:
    """Whether espeak-ng has ``voice``: a language or voice name, optionally ``+variant``.

    Checked against espeak-ng's voice list because selecting an unknown name does not fail:
    espeak-ng quietly falls back to a default voice.
    """
    base, _, variant = voice.partition("+")
    with _lock:
        engine = _get_engine()
        return base.lower() in engine.voices and (not variant or variant in engine.variants)


def synthesize(
    text: str,
    voice: str = "en-us",
    *,
    pitch: int = 50,
    pitch_range: int = 50,
    rate: int = 175,
    volume: int = 100,
    word_gap: int = 0,
) -> tuple[np.ndarray, int]:
    """Speak ``text`` and return ``(samples, sample_rate)``.

    ``samples`` is float32 mono in ``[-1, 1]`` at espeak-ng's rate (22050 Hz). ``voice`` is an
    espeak-ng voice name, optionally with a variant (``"en-us+f2"``). ``pitch`` and
    ``pitch_range`` are 0-100 (50 = the voice's normal), ``rate`` is words per minute
    (:data:`RATE_RANGE`), ``volume`` 0-200 (100 = normal), ``word_gap`` an extra pause between
    words in units of 10 ms. Raises :class:`ValueError` for a setting out of range or an
    unknown voice and :class:`SpeechSynthesisError` when espeak-ng is unavailable or fails.
    """
    checks = {"pitch": (pitch, 0, 100), "pitch_range": (pitch_range, 0, 100),
              "rate": (rate, *RATE_RANGE), "volume": (volume, *VOLUME_RANGE),
              "word_gap": (word_gap, 0, 100)}
    for name, (value, low, high) in checks.items():
        if not low <= value <= high:
            raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    if not text.strip():
        raise ValueError("text to synthesize is empty")
    if not has_voice(voice):
        raise ValueError(f"espeak-ng has no voice {voice!r}; use a language such as 'en-us', "
                         "optionally with a variant: 'en-us+m3', 'en-us+f2'")
    encoded = text.encode("utf-8")
    with _lock:
        engine = _get_engine()
        lib = engine.lib
        status = lib.espeak_SetVoiceByName(voice.encode("utf-8"))
        if status != _EE_OK:
            raise SpeechSynthesisError(f"espeak-ng failed to select voice {voice!r} "
                                       f"(status {status})")
        # Parameters after the voice: selecting a voice resets some of them.
        for parameter, value in ((_RATE, rate), (_VOLUME, volume), (_PITCH, pitch),
                                 (_RANGE, pitch_range), (_WORDGAP, word_gap)):
            lib.espeak_SetParameter(parameter, value, 0)
        lib.espeak_ng_SetRandSeed(0)
        engine.chunks.clear()
        status = lib.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8,
                                  None, None)
        chunks, engine.chunks = engine.chunks, []
    if status != _EE_OK:
        raise SpeechSynthesisError(f"espeak-ng failed to speak {text!r} (status {status})")
    if not chunks:
        raise SpeechSynthesisError(f"espeak-ng produced no audio for {text!r}")
    samples = np.concatenate(chunks).astype(np.float32) / 32768.0
    return samples, engine.sample_rate
