"""Tests of the reference-voice corpora (``crema-d``, ``ravdess``, ``mead``, ``voice-table``)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
import shutil
import stat
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import soundfile
from pydantic import ValidationError
from voxcore_voxemoset.voices.config import (
    CremaDConfig,
    MeadConfig,
    RavdessConfig,
    VoiceTableConfig,
)
from voxcore_voxemoset.voices.crema_d import SENTENCES, CremaDCorpus
from voxcore_voxemoset.voices.mead import MeadCorpus
from voxcore_voxemoset.voices.ravdess import RavdessCorpus
from voxcore_voxemoset.voices.splits import speaker_split
from voxcore_voxemoset.voices.table import VoiceTableCorpus
from voxcore_voxemoset.voices.testing import (
    MEAD_SENTENCES,
    write_crema_d,
    write_emobox_split,
    write_mead,
    write_mead_sentences,
    write_ravdess,
)

from voxcore.plugin_api import (
    CANONICAL_EMOTIONS,
    PAPER_EMOTIONS,
    ReferenceVoice,
    UserError,
    VoiceCorpus,
    get_registry,
)
from voxcore.testing import VoiceCorpusSuite

LOGGER = "voxcore_voxemoset.voices"
ALL_EMOTIONS = list(CANONICAL_EMOTIONS)


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three fixture corpora, their EmoBox splits and a voice table, written once."""
    base = tmp_path_factory.mktemp("corpora")
    write_crema_d(base / "CREMA-D")
    write_ravdess(base / "RAVDESS")
    write_mead(base / "MEAD")
    write_mead_sentences(base / "mead-sentences.csv")
    emobox = base / "EmoBox" / "data"
    # EmoBox's CREMA-D and MEAD splits are by utterance (every speaker is in both), its RAVDESS
    # folds by actor: the fixture splits mimic that.
    write_emobox_split(emobox, "cremad", base / "CREMA-D",
                       test=lambda path: path.stem.split("_")[2] in ("ANG", "SAD"))
    write_emobox_split(emobox, "ravdess", base / "RAVDESS",
                       test=lambda path: "Actor_02" in str(path))
    write_emobox_split(emobox, "mead", base / "MEAD", test=lambda path: path.stem == "002")
    table = base / "table" / "voices.csv"
    table.parent.mkdir()
    rows = ["audio,emotion,speaker,transcript"]
    for index, wav in enumerate(sorted((base / "RAVDESS").rglob("*.wav"))):
        shutil.copy(wav, table.parent / f"clip{index:02d}.wav")
        code = wav.stem.split("-")
        emotion = {"01": "neutral", "03": "happy", "04": "sad", "05": "angry", "06": "fearful",
                   "07": "disgusted"}[code[2]]
        rows.append(f"clip{index:02d}.wav,{emotion},spk{code[6]},Kids are talking by the door")
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return {"crema-d": base / "CREMA-D", "ravdess": base / "RAVDESS", "mead": base / "MEAD",
            "mead-sentences": base / "mead-sentences.csv", "emobox": emobox, "table": table}


class _WithTrees:
    trees: dict[str, Path]

    @pytest.fixture(autouse=True)
    def _trees(self, trees: dict[str, Path]) -> None:
        self.trees = trees


# -- the conformance suite over every corpus, with and without EmoBox's splits --------------


class TestCremaD(_WithTrees, VoiceCorpusSuite):
    def build_corpus(self, tmp_path: Path) -> VoiceCorpus:
        return CremaDCorpus(CremaDConfig(root=str(self.trees["crema-d"])))


class TestCremaDEmobox(_WithTrees, VoiceCorpusSuite):
    speaker_disjoint = False  # EmoBox splits CREMA-D by utterance, as the paper uses it

    def build_corpus(self, tmp_path: Path) -> VoiceCorpus:
        return CremaDCorpus(CremaDConfig(root=str(self.trees["crema-d"]),
                                         split_file=str(self.trees["emobox"] / "cremad")))


class TestRavdess(_WithTrees, VoiceCorpusSuite):
    def build_corpus(self, tmp_path: Path) -> VoiceCorpus:
        return RavdessCorpus(RavdessConfig(root=str(self.trees["ravdess"])))


class TestRavdessEmobox(_WithTrees, VoiceCorpusSuite):
    def build_corpus(self, tmp_path: Path) -> VoiceCorpus:
        return RavdessCorpus(RavdessConfig(root=str(self.trees["ravdess"]),
                                           split_file=str(self.trees["emobox"] / "ravdess")))


class TestMead(_WithTrees, VoiceCorpusSuite):
    def build_corpus(self, tmp_path: Path) -> VoiceCorpus:
        return MeadCorpus(MeadConfig(root=str(self.trees["mead"]),
                                     sentences=str(self.trees["mead-sentences"])))


class TestMeadEmobox(_WithTrees, VoiceCorpusSuite):
    speaker_disjoint = False

    def build_corpus(self, tmp_path: Path) -> VoiceCorpus:
        return MeadCorpus(MeadConfig(root=str(self.trees["mead"]),
                                     split_file=str(self.trees["emobox"] / "mead")))


class TestVoiceTable(_WithTrees, VoiceCorpusSuite):
    def build_corpus(self, tmp_path: Path) -> VoiceCorpus:
        return VoiceTableCorpus(VoiceTableConfig(root=str(self.trees["table"]), corpus="mine"))


# -- helpers -------------------------------------------------------------------------------


def by_id(voices: object) -> dict[str, ReferenceVoice]:
    assert isinstance(voices, tuple | list)
    return {voice.id: voice for voice in voices}


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def one_wav(trees: dict[str, Path]) -> Path:
    return sorted((trees["crema-d"] / "AudioWAV").glob("*.wav"))[0]


# -- CREMA-D -------------------------------------------------------------------------------


def test_crema_d_parses_every_field_of_the_file_name(trees: dict[str, Path]) -> None:
    voices = by_id(CremaDCorpus(CremaDConfig(root=str(trees["crema-d"]),
                                             emotions=ALL_EMOTIONS)).voices())
    voice = voices["crema-d/1001_IEO_ANG_HI"]
    assert voice.audio == trees["crema-d"] / "AudioWAV" / "1001_IEO_ANG_HI.wav"
    assert (voice.speaker, voice.emotion, voice.corpus) == ("crema-d/1001", "anger", "crema-d")
    assert voice.transcript == "It's eleven o'clock"
    assert voices["crema-d/1002_DFA_NEU_XX"].transcript == "Don't forget a jacket"
    assert voices["crema-d/1003_TSI_HAP_XX"].emotion == "enjoyment"
    assert {v.emotion for v in voices.values()} == {
        "anger", "disgust", "fear", "enjoyment", "neutral", "sadness"}
    assert len(voices) == 24 and {v.speaker for v in voices.values()} == {
        f"crema-d/100{n}" for n in range(1, 5)}


def test_crema_d_reads_the_audiowav_folder_itself(trees: dict[str, Path]) -> None:
    inside = CremaDCorpus(CremaDConfig(root=str(trees["crema-d"] / "AudioWAV"))).voices()
    above = CremaDCorpus(CremaDConfig(root=str(trees["crema-d"]))).voices()
    assert inside == above


@pytest.mark.parametrize("code", sorted(SENTENCES))
def test_crema_d_transcribes_every_sentence_code(trees: dict[str, Path], tmp_path: Path,
                                                 code: str) -> None:
    shutil.copy(one_wav(trees), tmp_path / f"1050_{code}_SAD_XX.wav")
    [voice] = CremaDCorpus(CremaDConfig(root=str(tmp_path))).voices()
    assert voice.transcript == SENTENCES[code]
    assert SENTENCES["WSI"] == "We'll stop in a couple of minutes"


def test_crema_d_levels_filter(trees: dict[str, Path]) -> None:
    high = CremaDCorpus(CremaDConfig(root=str(trees["crema-d"]), levels=["HI"])).voices()
    assert {v.id.split("_")[-1] for v in high} == {"HI"}
    assert {v.speaker for v in high} == {"crema-d/1001"}
    both = CremaDCorpus(CremaDConfig(root=str(trees["crema-d"]), levels=["HI", "LO"])).voices()
    assert {v.speaker for v in both} == {"crema-d/1001", "crema-d/1004"}
    with pytest.raises(ValidationError):
        CremaDConfig(levels=["XY"])  # type: ignore[list-item]


# -- RAVDESS -------------------------------------------------------------------------------


def test_ravdess_parses_every_field_of_the_file_name(trees: dict[str, Path]) -> None:
    voices = by_id(RavdessCorpus(RavdessConfig(root=str(trees["ravdess"]),
                                               emotions=ALL_EMOTIONS)).voices())
    assert len(voices) == 24
    voice = voices["ravdess/03-01-05-02-01-01-02"]  # actor 02, angry, strong, statement 01
    assert voice.audio.parent == trees["ravdess"] / "Audio_Speech_Actors_01-24" / "Actor_02"
    assert (voice.speaker, voice.emotion) == ("ravdess/Actor_02", "anger")
    assert voice.transcript == "Kids are talking by the door"
    assert voices["ravdess/03-01-03-01-02-01-01"].transcript == "Dogs are sitting by the door"
    assert voices["ravdess/03-01-03-01-02-01-01"].emotion == "enjoyment"
    assert voices["ravdess/03-01-01-01-01-01-01"].emotion == "neutral"
    assert {v.emotion for v in voices.values()} == {
        "neutral", "enjoyment", "sadness", "anger", "fear", "disgust"}


def test_ravdess_reads_actor_folders_with_or_without_the_zip_folder(
        trees: dict[str, Path]) -> None:
    with_zip = RavdessCorpus(RavdessConfig(root=str(trees["ravdess"]))).voices()
    without = RavdessCorpus(RavdessConfig(
        root=str(trees["ravdess"] / "Audio_Speech_Actors_01-24"))).voices()
    assert [(v.id, v.split) for v in with_zip] == [(v.id, v.split) for v in without]


def test_ravdess_maps_calm_and_surprised_and_skips_song_files(trees: dict[str, Path],
                                                              tmp_path: Path) -> None:
    actor = tmp_path / "Actor_05"
    actor.mkdir()
    wav = one_wav(trees)
    for name in ("03-01-02-01-01-01-05", "03-01-08-02-01-02-05", "03-02-05-01-01-01-05"):
        shutil.copy(wav, actor / f"{name}.wav")
    voices = RavdessCorpus(RavdessConfig(root=str(tmp_path), emotions=ALL_EMOTIONS)).voices()
    assert {v.id: v.emotion for v in voices} == {"ravdess/03-01-02-01-01-01-05": "calm",
                                                 "ravdess/03-01-08-02-01-02-05": "surprise"}


def test_ravdess_intensity_filter(trees: dict[str, Path]) -> None:
    strong = RavdessCorpus(RavdessConfig(root=str(trees["ravdess"]),
                                         intensities=["strong"])).voices()
    assert strong and {v.id.split("/")[1].split("-")[3] for v in strong} == {"02"}
    normal = RavdessCorpus(RavdessConfig(root=str(trees["ravdess"]),
                                         intensities=["normal"])).voices()
    assert {v.id.split("/")[1].split("-")[3] for v in normal} == {"01"}


def test_ravdess_only_songs_says_so(trees: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "Actor_01").mkdir()
    shutil.copy(one_wav(trees), tmp_path / "Actor_01" / "03-02-05-01-01-01-01.wav")
    with pytest.raises(UserError, match="only song files"):
        RavdessCorpus(RavdessConfig(root=str(tmp_path))).voices()


# -- MEAD ----------------------------------------------------------------------------------


def test_mead_parses_every_part_of_the_path(trees: dict[str, Path]) -> None:
    voices = by_id(MeadCorpus(MeadConfig(root=str(trees["mead"]),
                                         emotions=ALL_EMOTIONS)).voices())
    assert len(voices) == 24
    voice = voices["mead/W009_angry_level_3_002"]
    assert voice.audio == trees["mead"] / "W009" / "audio" / "angry" / "level_3" / "002.wav"
    assert (voice.speaker, voice.emotion, voice.transcript) == ("mead/W009", "anger", None)
    assert voices["mead/M003_neutral_level_1_002"].emotion == "neutral"
    assert {v.emotion for v in voices.values()} == {
        "anger", "disgust", "fear", "enjoyment", "sadness", "neutral"}


def test_mead_maps_contempt_and_surprised(trees: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "MEAD"
    for emotion in ("contempt", "surprised"):
        folder = root / "M011" / "audio" / emotion / "level_2"
        folder.mkdir(parents=True)
        shutil.copy(one_wav(trees), folder / "005.wav")
    voices = MeadCorpus(MeadConfig(root=str(root), emotions=ALL_EMOTIONS)).voices()
    assert {v.id: v.emotion for v in voices} == {"mead/M011_contempt_level_2_005": "contempt",
                                                 "mead/M011_surprised_level_2_005": "surprise"}


def test_mead_reads_one_speaker_folder(trees: dict[str, Path]) -> None:
    voices = MeadCorpus(MeadConfig(root=str(trees["mead"] / "M003"))).voices()
    assert {v.speaker for v in voices} == {"mead/M003"} and len(voices) == 5


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_mead_transcripts_from_a_sentences_file(trees: dict[str, Path], tmp_path: Path,
                                                suffix: str) -> None:
    sentences = write_mead_sentences(tmp_path / f"sentences{suffix}")
    voices = by_id(MeadCorpus(MeadConfig(root=str(trees["mead"]),
                                         sentences=str(sentences))).voices())
    assert voices["mead/W009_angry_level_3_002"].transcript == MEAD_SENTENCES[2]
    assert voices["mead/M003_angry_level_1_001"].transcript == MEAD_SENTENCES[1]


def test_mead_sentences_by_level_and_canonical_emotion_names(trees: dict[str, Path],
                                                            tmp_path: Path) -> None:
    root = tmp_path / "MEAD"
    for level, number in [(1, "002"), (3, "002"), (3, "003")]:
        folder = root / "M003" / "audio" / "angry" / f"level_{level}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(one_wav(trees), folder / f"{number}.wav")
    rows = [{"emotion": "anger", "number": 2, "text": "for every level"},
            {"emotion": "angry", "level": "level_3", "number": "002", "text": "level three"}]
    sentences = tmp_path / "sentences.json"
    sentences.write_text(json.dumps(rows), encoding="utf-8")
    voices = by_id(MeadCorpus(MeadConfig(root=str(root), sentences=str(sentences))).voices())
    assert voices["mead/M003_angry_level_3_002"].transcript == "level three"
    assert voices["mead/M003_angry_level_1_002"].transcript == "for every level"
    assert voices["mead/M003_angry_level_3_003"].transcript is None


@pytest.mark.parametrize(("content", "message"), [
    ("emotion,number\nangry,1\n", "no column text"),
    ("emotion,level,number,text\nbored,,1,hi\n", "unknown emotion 'bored'"),
    ("emotion,level,number,text\nangry,,one,hi\n", "must be whole numbers"),
    ("emotion,level,number,text\nangry,,1,\n", "no text"),
])
def test_mead_sentences_file_errors(trees: dict[str, Path], tmp_path: Path, content: str,
                                   message: str) -> None:
    sentences = tmp_path / "sentences.csv"
    sentences.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match=message):
        MeadCorpus(MeadConfig(root=str(trees["mead"]), sentences=str(sentences))).voices()
    with pytest.raises(UserError, match="sentences file .* does not exist"):
        MeadCorpus(MeadConfig(root=str(trees["mead"]),
                              sentences=str(tmp_path / "nope.csv"))).voices()


def test_mead_levels_filter(trees: dict[str, Path]) -> None:
    strong = MeadCorpus(MeadConfig(root=str(trees["mead"]), levels=[3])).voices()
    assert strong and all("_level_3_" in v.id for v in strong)
    with pytest.raises(ValidationError, match="levels are 1, 2 and 3"):
        MeadConfig(levels=[4])


def test_mead_m4a_only_tree_says_how_to_convert(tmp_path: Path) -> None:
    root = tmp_path / "MEAD"
    for emotion, level, number in [("angry", 1, "001"), ("neutral", 1, "002")]:
        folder = root / "M003" / "audio" / emotion / f"level_{level}"
        folder.mkdir(parents=True)
        (folder / f"{number}.m4a").write_bytes(b"\0" * 400)
    with pytest.raises(UserError) as caught:
        MeadCorpus(MeadConfig(root=str(root))).voices()
    message = str(caught.value)
    assert "2 .m4a files but no .wav copies" in message
    assert "cannot decode .m4a" in message
    assert f"cd {shlex.quote(str(root.absolute()))} && find . -name '*.m4a' -exec sh -c" \
        in message
    assert "ffmpeg -nostdin -loglevel error -n -i \"$1\" -ac 1 \"${1%.m4a}.wav\"" in message


def test_the_m4a_conversion_command_keeps_the_layout(trees: dict[str, Path],
                                                     tmp_path: Path) -> None:
    """Runs the command of the error message with a stand-in ``ffmpeg`` (it copies a wav to
    the output path it is given), then reads the tree."""
    root = tmp_path / "MEAD dir"  # a space, to check the quoting
    for emotion, level in [("angry", 3), ("sad", 1)]:
        folder = root / "W009" / "audio" / emotion / f"level_{level}"
        folder.mkdir(parents=True)
        (folder / "004.m4a").write_bytes(b"\0" * 400)
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    fake = bin_folder / "ffmpeg"
    fake.write_text(f"#!/bin/sh\nfor last; do :; done\ncp '{one_wav(trees)}' \"$last\"\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(UserError) as caught:
        MeadCorpus(MeadConfig(root=str(root))).voices()
    command = str(caught.value).split("needs ffmpeg): ", 1)[1]
    environment = {**os.environ, "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["sh", "-c", command], check=True, env=environment)
    voices = MeadCorpus(MeadConfig(root=str(root))).voices()
    assert {v.id for v in voices} == {"mead/W009_angry_level_3_004", "mead/W009_sad_level_1_004"}
    assert all(v.audio.suffix == ".wav" and v.audio.with_suffix(".m4a").exists() for v in voices)


def test_mead_prefers_wav_copies_and_reports_m4a_left_without(trees: dict[str, Path],
                                                              tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture
                                                              ) -> None:
    root = copy_tree(trees["mead"], tmp_path / "MEAD")
    for wav in list(root.rglob("*.wav")):
        wav.with_suffix(".m4a").write_bytes(b"\0" * 400)
    lone = root / "M003" / "audio" / "sad" / "level_1" / "009.m4a"
    lone.write_bytes(b"\0" * 400)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        voices = MeadCorpus(MeadConfig(root=str(root))).voices()
    assert len(voices) == 20 and all(v.audio.suffix == ".wav" for v in voices)
    [record] = caplog.records
    assert "1 .m4a files without a .wav copy (e.g. M003/audio/sad/level_1/009.m4a)" in \
        record.getMessage()
    assert "ffmpeg" in record.getMessage()


# -- voice-table ---------------------------------------------------------------------------


def test_voice_table_reads_every_column(trees: dict[str, Path], tmp_path: Path) -> None:
    wav = one_wav(trees)
    shutil.copy(wav, tmp_path / "a.wav")
    (tmp_path / "sub").mkdir()
    shutil.copy(wav, tmp_path / "sub" / "b.flac.wav")
    table = tmp_path / "voices.jsonl"
    table.write_text("\n".join(json.dumps(row) for row in [
        {"audio": "a.wav", "emotion": "Happy", "speaker": "0011", "transcript": "Hello there",
         "split": "test"},
        {"audio": "sub/b.flac.wav", "emotion": "sadness", "speaker": "0012", "transcript": ""},
    ]) + "\n", encoding="utf-8")
    voices = by_id(VoiceTableCorpus(VoiceTableConfig(root=str(table), corpus="esd")).voices())
    first = voices["esd/a"]
    assert (first.audio, first.emotion, first.speaker, first.corpus, first.split,
            first.transcript) == (tmp_path / "a.wav", "enjoyment", "esd/0011", "esd", "test",
                                  "Hello there")
    second = voices["esd/sub/b.flac"]
    assert (second.emotion, second.transcript, second.split) == ("sadness", None, "train")


def test_voice_table_counts_bad_rows_in_one_warning(trees: dict[str, Path], tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    wav = one_wav(trees)
    for name in ("good.wav", "twin.wav"):
        shutil.copy(wav, tmp_path / name)
    (tmp_path / "twin.m4a").write_bytes(b"\0" * 400)
    (tmp_path / "lone.m4a").write_bytes(b"\0" * 400)
    (tmp_path / "empty.wav").write_bytes(b"")
    table = tmp_path / "voices.csv"
    table.write_text("audio,emotion,speaker,split\n"
                     "good.wav,angry,s1,\n"
                     "twin.m4a,fear,s2,\n"
                     "lone.m4a,fear,s2,\n"
                     "missing.wav,fear,s2,\n"
                     "empty.wav,fear,s2,\n"
                     "good.wav,bored,s1,\n"
                     "good.wav,angry,,\n"
                     "good.wav,angry,s1,valid\n"
                     "good.wav,angry,s1,test\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        voices = VoiceTableCorpus(VoiceTableConfig(root=str(table))).voices()
    assert {v.id: v.audio.name for v in voices} == {"voice-table/good": "good.wav",
                                                     "voice-table/twin": "twin.wav"}
    [record] = caplog.records
    message = record.getMessage()
    for part in ("1 .m4a files without a .wav copy", "1 rows whose audio file does not exist",
                 "1 empty audio files", "1 rows with an emotion voxcore does not know",
                 "1 rows without audio, emotion or speaker",
                 "1 rows whose split is not train or test", "1 rows repeating an audio file"):
        assert part in message


@pytest.mark.parametrize(("name", "content", "message"), [
    ("voices.csv", "audio,emotion\na.wav,angry\n", "has no column speaker"),
    ("voices.txt", "audio,emotion,speaker\n", "neither .csv nor .jsonl"),
    ("voices.jsonl", "{not json\n", "line 1 is not JSON"),
    ("voices.csv", "audio,emotion,speaker\n", "it has no rows"),
    ("voices.csv", "audio,emotion,speaker\nmissing.wav,angry,s1\n", "none of its 1 rows"),
])
def test_voice_table_errors(tmp_path: Path, name: str, content: str, message: str) -> None:
    table = tmp_path / name
    table.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match=message):
        VoiceTableCorpus(VoiceTableConfig(root=str(table))).voices()
    with pytest.raises(UserError, match="voice table .* does not exist"):
        VoiceTableCorpus(VoiceTableConfig(root=str(tmp_path / "nope.csv"))).voices()


# -- EmoBox split files --------------------------------------------------------------------


def test_emobox_split_files_decide_the_split(trees: dict[str, Path]) -> None:
    voices = CremaDCorpus(CremaDConfig(root=str(trees["crema-d"]),
                                       split_file=str(trees["emobox"] / "cremad"))).voices()
    assert {v.id: v.split for v in voices} == {
        v.id: "test" if v.emotion in ("anger", "sadness") else "train" for v in voices}
    mead = MeadCorpus(MeadConfig(root=str(trees["mead"]),
                                 split_file=str(trees["emobox"] / "mead"))).voices()
    # EmoBox names MEAD's .m4a files; their .wav copies match.
    assert {v.split for v in mead if v.id.endswith("_002")} == {"test"}
    assert {v.split for v in mead if v.id.endswith("_001")} == {"train"}
    ravdess = RavdessCorpus(RavdessConfig(root=str(trees["ravdess"]),
                                          split_file=str(trees["emobox"] / "ravdess"))).voices()
    assert {v.speaker for v in ravdess if v.split == "test"} == {"ravdess/Actor_02"}


def test_emobox_split_file_as_folder_fold_folder_or_file(trees: dict[str, Path]) -> None:
    folder = trees["emobox"] / "ravdess"
    def splits(split_file: Path) -> list[tuple[str, str]]:
        return [(v.id, v.split) for v in RavdessCorpus(RavdessConfig(
            root=str(trees["ravdess"]), split_file=str(split_file))).voices()]
    expected = splits(folder)
    assert splits(folder / "fold_1") == expected
    assert splits(folder / "fold_1" / "ravdess_test_fold_1.jsonl") == expected
    assert splits(folder / "fold_1" / "ravdess_train_fold_1.json") == expected


def test_emobox_json_files_alone_and_other_folds(trees: dict[str, Path],
                                                 tmp_path: Path) -> None:
    emobox = tmp_path / "EmoBox"
    write_emobox_split(emobox, "ravdess", trees["ravdess"],
                       test=lambda path: "Actor_03" in str(path), fold=2)
    for jsonl in emobox.rglob("*.jsonl"):
        jsonl.unlink()
    voices = RavdessCorpus(RavdessConfig(root=str(trees["ravdess"]),
                                         split_file=str(emobox / "ravdess"), fold=2)).voices()
    assert {v.speaker for v in voices if v.split == "test"} == {"ravdess/Actor_03"}
    with pytest.raises(UserError, match=r"has no folder fold_1 \(it has: fold_2\)"):
        RavdessCorpus(RavdessConfig(root=str(trees["ravdess"]),
                                    split_file=str(emobox / "ravdess"))).voices()


def test_emobox_lines_as_published(tmp_path: Path, trees: dict[str, Path]) -> None:
    """Two lines copied from EmoBox's data/cremad/fold_1 files (github.com/emo-box/EmoBox)."""
    audio = tmp_path / "CREMA-D" / "AudioWAV"
    audio.mkdir(parents=True)
    for name in ("1052_WSI_ANG_XX", "1077_IEO_ANG_MD", "1001_DFA_ANG_XX"):
        shutil.copy(one_wav(trees), audio / f"{name}.wav")
    fold = tmp_path / "cremad" / "fold_1"
    fold.mkdir(parents=True)
    (fold / "cremad_test_fold_1.jsonl").write_text(
        '{"key": "cremad-1052-WSI-ANG-XX", "dataset": "cremad", "wav": "downloads/cremad/'
        'AudioWAV/1052_WSI_ANG_XX.wav", "type": "raw", "sample_rate": 16000, "num_frame": '
        '36837.0, "task": "category", "length": 2.3023125, "emo": "ANG", "channel": 1}\n',
        encoding="utf-8")
    (fold / "cremad_train_fold_1.jsonl").write_text(
        '{"key": "cremad-1077-IEO-ANG-MD", "dataset": "cremad", "wav": "downloads/cremad/'
        'AudioWAV/1077_IEO_ANG_MD.wav", "type": "raw", "sample_rate": 16000, "num_frame": '
        '27761.0, "task": "category", "length": 1.7350625, "emo": "ANG", "channel": 1}\n',
        encoding="utf-8")
    voices = CremaDCorpus(CremaDConfig(root=str(tmp_path / "CREMA-D"),
                                       split_file=str(tmp_path / "cremad"))).voices()
    assert {v.id: v.split for v in voices} == {"crema-d/1052_WSI_ANG_XX": "test",
                                               "crema-d/1077_IEO_ANG_MD": "train"}


def test_emobox_leaves_out_unlisted_files_and_warns(trees: dict[str, Path], tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    emobox = tmp_path / "EmoBox"
    write_emobox_split(emobox, "cremad", trees["crema-d"],
                       test=lambda path: path.stem.startswith("1002"))
    test_file = emobox / "cremad" / "fold_1" / "cremad_test_fold_1.jsonl"
    lines = test_file.read_text(encoding="utf-8").splitlines()
    extra = json.loads(lines[0])
    extra["wav"] = "downloads/cremad/AudioWAV/1090_WSI_SAD_XX.wav"
    train_file = emobox / "cremad" / "fold_1" / "cremad_train_fold_1.jsonl"
    train_lines = train_file.read_text(encoding="utf-8").splitlines()
    unlisted = json.loads(train_lines[0])["wav"].rsplit("/", 1)[1]
    both = json.loads(lines[1])["wav"].rsplit("/", 1)[1]
    train_file.write_text("\n".join([*train_lines[1:], lines[1]]) + "\n", encoding="utf-8")
    test_file.write_text("\n".join([*lines, json.dumps(extra)]) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        voices = by_id(CremaDCorpus(CremaDConfig(root=str(trees["crema-d"]),
                                                 split_file=str(emobox / "cremad"),
                                                 emotions=ALL_EMOTIONS)).voices())
    assert f"crema-d/{Path(unlisted).stem}" not in voices and len(voices) == 23
    assert voices[f"crema-d/{Path(both).stem}"].split == "test"
    [record] = caplog.records
    message = record.getMessage()
    assert f"1 files in neither EmoBox split file (e.g. {unlisted})" in message
    assert f"1 files in both EmoBox split files (taken as test) (e.g. {both})" in message
    assert ("1 entries of the EmoBox split files with no file here (e.g. downloads/cremad/"
            "AudioWAV/1090_WSI_SAD_XX.wav)") in message


def test_emobox_split_of_another_corpus_is_an_error(trees: dict[str, Path]) -> None:
    with pytest.raises(UserError, match="none of the 24 entries of the split files") as caught:
        CremaDCorpus(CremaDConfig(root=str(trees["crema-d"]),
                                  split_file=str(trees["emobox"] / "ravdess"))).voices()
    assert "'1001_IEO_ANG_HI'" in str(caught.value)


@pytest.mark.parametrize(("setup", "message"), [
    ("missing", "split_file .* does not exist"),
    ("bad-name", "is not named like an EmoBox split file"),
    ("no-train", "cremad_train_fold_1.jsonl does not exist; both the train and the test file"),
    ("no-wav", "line 1: no 'wav' path"),
    ("bad-json", "is not valid JSON"),
    ("empty-fold", "holds no <dataset>_test_fold_1.jsonl or .json"),
])
def test_emobox_split_file_errors(trees: dict[str, Path], tmp_path: Path, setup: str,
                                  message: str) -> None:
    fold = tmp_path / "cremad" / "fold_1"
    fold.mkdir(parents=True)
    test_file = fold / "cremad_test_fold_1.jsonl"
    train_file = fold / "cremad_train_fold_1.jsonl"
    good = '{"key": "k", "wav": "downloads/cremad/AudioWAV/1001_IEO_ANG_HI.wav", "emo": "ANG"}\n'
    split_file = tmp_path / "cremad"
    if setup == "missing":
        split_file = tmp_path / "nope"
    elif setup == "bad-name":
        split_file = tmp_path / "split.jsonl"
        split_file.write_text(good, encoding="utf-8")
    elif setup == "no-train":
        test_file.write_text(good, encoding="utf-8")
    elif setup == "no-wav":
        test_file.write_text('{"key": "k"}\n', encoding="utf-8")
        train_file.write_text(good, encoding="utf-8")
    elif setup == "bad-json":
        (fold / "cremad_test_fold_1.json").write_text("{", encoding="utf-8")
        (fold / "cremad_train_fold_1.json").write_text("{}", encoding="utf-8")
        split_file = fold / "cremad_train_fold_1.json"
    with pytest.raises(UserError, match=message):
        CremaDCorpus(CremaDConfig(root=str(trees["crema-d"]),
                                  split_file=str(split_file))).voices()


# -- the speaker-disjoint split ------------------------------------------------------------


def test_speaker_split_is_a_seeded_hash_order() -> None:
    speakers = [f"crema-d/{1001 + n}" for n in range(91)]
    split = speaker_split(speakers, 0.2, seed=0)
    assert sum(s == "test" for s in split.values()) == 18  # round(0.2 * 91)
    ordered = sorted(speakers, key=lambda s: hashlib.sha256(f"0:{s}".encode()).hexdigest())
    assert {s for s, where in split.items() if where == "test"} == set(ordered[:18])
    assert split == speaker_split(reversed(speakers), 0.2, seed=0)
    assert split != speaker_split(speakers, 0.2, seed=1)
    assert speaker_split(["a"], 0.5, seed=0) == {"a": "train"}
    assert sorted(speaker_split(["a", "b"], 0.01, seed=0).values()) == ["test", "train"]
    assert sorted(speaker_split(["a", "b"], 0.99, seed=0).values()) == ["test", "train"]


def test_fallback_split_is_speaker_disjoint_stable_and_seeded(trees: dict[str, Path]) -> None:
    root = str(trees["crema-d"])
    voices = CremaDCorpus(CremaDConfig(root=root, emotions=ALL_EMOTIONS)).voices()
    split_of = {v.speaker: v.split for v in voices}
    assert sorted(split_of.values()) == ["test", "train", "train", "train"]  # round(0.2*4)=1
    assert split_of == speaker_split(split_of, 0.2, seed=0)
    # Filters do not move a speaker to another split.
    for voice in CremaDCorpus(CremaDConfig(root=root, emotions=["fear"], levels=["XX", "LO"],
                                           limit_per_emotion=1)).voices():
        assert voice.split == split_of[voice.speaker]
    seeds = {tuple(sorted(s for s, split in speaker_split(split_of, 0.2, seed=seed).items()
                          if split == "test")) for seed in range(10)}
    assert len(seeds) > 1
    half = CremaDCorpus(CremaDConfig(root=root, test_fraction=0.5, seed=3)).voices()
    assert len({v.speaker for v in half if v.split == "test"}) == 2


def test_voice_table_split_column_wins_over_the_speaker_split(trees: dict[str, Path],
                                                              tmp_path: Path) -> None:
    wav = one_wav(trees)
    lines = ["audio,emotion,speaker,split"]
    for index in range(6):
        shutil.copy(wav, tmp_path / f"{index}.wav")
        lines.append(f"{index}.wav,angry,s{index % 3},{'test' if index == 0 else ''}")
    table = tmp_path / "voices.csv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    voices = by_id(VoiceTableCorpus(VoiceTableConfig(root=str(table))).voices())
    assert voices["voice-table/0"].split == "test"
    by_speaker = speaker_split({"voice-table/s0", "voice-table/s1", "voice-table/s2"}, 0.2, 0)
    for index in range(1, 6):
        voice = voices[f"voice-table/{index}"]
        assert voice.split == by_speaker[voice.speaker]


# -- filters -------------------------------------------------------------------------------


def test_default_emotions_are_the_papers_five(trees: dict[str, Path]) -> None:
    assert CremaDConfig().emotions == list(PAPER_EMOTIONS)
    for corpus in (CremaDCorpus(CremaDConfig(root=str(trees["crema-d"]))),
                   RavdessCorpus(RavdessConfig(root=str(trees["ravdess"]))),
                   MeadCorpus(MeadConfig(root=str(trees["mead"])))):
        assert {v.emotion for v in corpus.voices()} == set(PAPER_EMOTIONS)


def test_emotions_filter_accepts_corpus_words_and_rejects_unknown(trees: dict[str, Path]) -> None:
    config = CremaDConfig(root=str(trees["crema-d"]), emotions=["Happy", "neutral", "enjoyment"])
    assert config.emotions == ["enjoyment", "neutral"]
    voices = CremaDCorpus(config).voices()
    assert Counter(v.emotion for v in voices) == {"enjoyment": 4, "neutral": 4}
    with pytest.raises(ValidationError, match="unknown emotion 'bored'"):
        CremaDConfig(emotions=["bored"])
    with pytest.raises(ValidationError, match="at least one emotion"):
        CremaDConfig(emotions=[])


def test_limit_per_emotion_takes_speakers_in_turn(trees: dict[str, Path]) -> None:
    voices = MeadCorpus(MeadConfig(root=str(trees["mead"]), limit_per_emotion=2,
                                   test_fraction=0.5)).voices()
    counts = Counter((v.split, v.emotion) for v in voices)
    assert set(counts.values()) == {2} and len(counts) == 10
    for split in ("train", "test"):
        for emotion in PAPER_EMOTIONS:
            speakers = [v.speaker for v in voices if (v.split, v.emotion) == (split, emotion)]
            assert len(set(speakers)) == 2
    assert voices == MeadCorpus(MeadConfig(root=str(trees["mead"]), limit_per_emotion=2,
                                           test_fraction=0.5)).voices()


def test_filters_that_leave_nothing_are_an_error(trees: dict[str, Path]) -> None:
    with pytest.raises(UserError, match="no utterance .* is left after the filters"):
        CremaDCorpus(CremaDConfig(root=str(trees["crema-d"]), emotions=["neutral"],
                                  levels=["HI"])).voices()


def test_configs_forbid_unknown_fields() -> None:
    for config in (CremaDConfig, RavdessConfig, MeadConfig, VoiceTableConfig):
        with pytest.raises(ValidationError, match="extra"):
            config(rooot="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        CremaDConfig(test_fraction=1.0)
    with pytest.raises(ValidationError):
        VoiceTableConfig(corpus="a/b")


# -- errors --------------------------------------------------------------------------------

CORPORA = {
    "crema-d": (CremaDCorpus, CremaDConfig, "AudioWAV/1001_DFA_ANG_XX.wav"),
    "ravdess": (RavdessCorpus, RavdessConfig, "Actor_01/03-01-05-01-01-01-01.wav"),
    "mead": (MeadCorpus, MeadConfig, "M003/audio/angry/level_1/001.wav"),
}


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_a_missing_folder_names_it_and_the_layout(tmp_path: Path, name: str) -> None:
    corpus, config, example = CORPORA[name]
    missing = tmp_path / "not-here"
    with pytest.raises(UserError) as caught:
        corpus(config(root=str(missing))).voices()
    message = str(caught.value)
    assert f"{name}: the corpus folder {missing} does not exist" in message
    assert example in message
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(UserError, match="is not a folder"):
        corpus(config(root=str(afile))).voices()


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_an_empty_folder_names_it_and_the_layout(tmp_path: Path, name: str) -> None:
    corpus, config, example = CORPORA[name]
    with pytest.raises(UserError) as caught:
        corpus(config(root=str(tmp_path))).voices()
    message = str(caught.value)
    found = ("no folder in {} has an audio/ folder" if name == "mead"
             else "found no usable file in {}").format(tmp_path)
    assert message.startswith(f"{name}: ") and found in message
    assert example in message


@pytest.mark.parametrize(("name", "other"), [("crema-d", "ravdess"), ("ravdess", "mead"),
                                             ("mead", "crema-d"), ("crema-d", "mead")])
def test_another_corpus_layout_is_an_error_with_the_layout(trees: dict[str, Path], name: str,
                                                           other: str) -> None:
    corpus, config, example = CORPORA[name]
    root = trees[other] / "AudioWAV" if other == "crema-d" and name == "mead" else trees[other]
    with pytest.raises(UserError) as caught:
        corpus(config(root=str(root))).voices()
    assert str(root) in str(caught.value) and example in str(caught.value)


def test_a_wrong_layout_lists_what_it_found(tmp_path: Path) -> None:
    for name in ("take1.wav", "1001-DFA-ANG-XX.wav", "1001_XYZ_ANG_XX.wav"):
        (tmp_path / name).write_bytes(b"\0" * 100)
    with pytest.raises(UserError) as caught:
        CremaDCorpus(CremaDConfig(root=str(tmp_path))).voices()
    message = str(caught.value)
    assert "none of its 3 audio files is usable: 3 files not named <ActorID>_<SentenceCode>" \
        in message
    assert "1001-DFA-ANG-XX.wav" in message


def test_unparseable_and_empty_files_are_counted_in_one_warning(
        trees: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = copy_tree(trees["crema-d"], tmp_path / "CREMA-D")
    for name in ("take1.wav", "1001_DFA_XYZ_XX.wav", "1001_DFA_ANG_XY.wav", "1001_ZZZ_ANG_XX.wav"):
        (root / "AudioWAV" / name).write_bytes(b"\0" * 100)
    (root / "AudioWAV" / "1076_MTI_SAD_XX.wav").write_bytes(b"RIFF" + b"\0" * 40)
    (root / "AudioWAV" / "._1001_DFA_ANG_XX.wav").write_bytes(b"\0" * 100)  # macOS metadata
    (root / "AudioWAV" / "notes.txt").write_text("ignored")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        voices = CremaDCorpus(CremaDConfig(root=str(root), emotions=ALL_EMOTIONS)).voices()
    assert len(voices) == 24
    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith(f"crema-d ({root.absolute()}): left out ")
    assert "4 files not named <ActorID>_<SentenceCode>_<EmotionCode>_<Level>.wav (e.g. " \
           "1001_DFA_ANG_XY.wav, 1001_DFA_XYZ_XX.wav, 1001_ZZZ_ANG_XX.wav)" in message
    assert "1 empty files (e.g. 1076_MTI_SAD_XX.wav)" in message


def test_ravdess_and_mead_count_unparseable_names(trees: dict[str, Path], tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    ravdess = copy_tree(trees["ravdess"], tmp_path / "RAVDESS")
    actor = ravdess / "Audio_Speech_Actors_01-24" / "Actor_01"
    for name in ("01-01-05-01-01-01-01.wav", "03-01-09-01-01-01-01.wav", "03-01-05-01-01.wav"):
        (actor / name).write_bytes(b"\0" * 100)
    mead = copy_tree(trees["mead"], tmp_path / "MEAD")
    (mead / "M003" / "audio" / "bored" / "level_1").mkdir(parents=True)
    (mead / "M003" / "audio" / "angry" / "level_x").mkdir()
    (mead / "M003" / "audio" / "angry" / "level_1" / "take.wav").write_bytes(b"\0" * 100)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert len(RavdessCorpus(RavdessConfig(root=str(ravdess),
                                               emotions=ALL_EMOTIONS)).voices()) == 24
        assert len(MeadCorpus(MeadConfig(root=str(mead), emotions=ALL_EMOTIONS)).voices()) == 24
    first, second = (record.getMessage() for record in caplog.records)
    assert "3 files not named 03-01-<emotion>-<intensity>-<statement>-<repetition>-<actor>.wav" \
        in first
    assert "1 folders of unknown emotions (e.g. M003/audio/bored)" in second
    assert "1 folders not named level_<n> (e.g. M003/audio/angry/level_x)" in second
    assert "1 files not named <nnn>.wav (e.g. M003/audio/angry/level_1/take.wav)" in second


def test_listing_does_not_decode_audio_and_is_fast(tmp_path: Path) -> None:
    """8,190 files (CREMA-D has 7,442) that are not audio at all: listing reads no audio (it
    would fail), and takes about half a second (the bound leaves room for a busy machine)."""
    folder = tmp_path / "AudioWAV"
    folder.mkdir()
    payload = b"\0" * 64
    for actor in range(1001, 1092):
        for sentence in SENTENCES:
            for emotion in ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD"):
                for level in ("LO", "MD", "HI", "XX") if sentence == "IEO" else ("XX",):
                    (folder / f"{actor}_{sentence}_{emotion}_{level}.wav").write_bytes(payload)
    listed = len(list(folder.iterdir()))
    start = time.perf_counter()
    voices = CremaDCorpus(CremaDConfig(root=str(tmp_path), emotions=ALL_EMOTIONS)).voices()
    elapsed = time.perf_counter() - start
    assert len(voices) == listed > 1000
    assert elapsed < 10.0, f"listing {listed} files took {elapsed:.2f} s"


# -- registration --------------------------------------------------------------------------


def test_every_corpus_is_registered(trees: dict[str, Path]) -> None:
    registry = get_registry("voice_corpus")
    assert {"crema-d", "ravdess", "mead", "voice-table"} <= set(registry.names())
    roots = {"crema-d": {"root": str(trees["crema-d"])},
             "ravdess": {"root": str(trees["ravdess"])},
             "mead": {"root": str(trees["mead"])},
             "voice-table": {"root": str(trees["table"])}}
    for name, config in roots.items():
        corpus = registry.build(name, config)
        assert isinstance(corpus, VoiceCorpus)
        voices = corpus.voices()
        assert voices and all(v.id.startswith(f"{name}/") for v in voices)
    with pytest.raises(ValidationError, match="rooot"):
        registry.build("crema-d", {"rooot": "x"})


def test_fixture_speech_is_short_real_audio(trees: dict[str, Path]) -> None:
    files = sorted(trees["crema-d"].rglob("*.wav"))
    for path in files:
        info = soundfile.info(str(path))
        assert (info.samplerate, info.channels) == (16_000, 1)
        assert 0.3 < info.duration < 2.5
