"""The public datasets, built through the registry as a recipe does, on release-shaped trees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from voxcore_datasets.testing import (
    write_flickr8k_tree,
    write_manifest_tree,
    write_spokencoco_tree,
    write_voxemoset_tree,
)

from voxcore.plugin_api import Dataset, DatasetError, get_registry


def build(name: str, config: dict[str, Any]) -> Any:
    return get_registry("dataset").get(name).build(config)


def error_of(name: str, config: dict[str, Any]) -> str:
    with pytest.raises(DatasetError) as caught:
        build(name, config)
    return str(caught.value)


def check_files(dataset: Any) -> None:
    assert isinstance(dataset, Dataset)
    for index in range(len(dataset)):
        sample = dataset[index]
        assert sample.audio is not None and sample.audio.is_absolute() and sample.audio.is_file()
        assert sample.image is not None and sample.image.is_absolute() and sample.image.is_file()


# -- spokencoco --------------------------------------------------------------------------------


def test_spokencoco_reads_the_release_json(tmp_path: Path) -> None:
    config = write_spokencoco_tree(tmp_path)
    train = build("spokencoco", config)
    assert len(train) == 4
    check_files(train)
    first = train[0]
    assert first.id == "m00spk0-HIT0000_100000_700000"
    assert first.audio == Path(config["root"]).absolute() / "wavs/train/0" / f"{first.id}.wav"
    assert first.image == (Path(config["image_root"]).absolute()
                           / "train2014/COCO_train2014_000000100000.jpg")
    assert (first.transcript, first.speaker) == ("A RED SQUARE", "m00spk0")
    val = build("spokencoco", {**config, "split": "val"})
    assert {s.image.parent.name for s in val.samples} == {"val2014"}
    assert len(val) == 4


def test_spokencoco_first_caption_and_limit(tmp_path: Path) -> None:
    config = write_spokencoco_tree(tmp_path, images_per_split=3, captions_per_image=3)
    first = build("spokencoco", {**config, "captions": "first"})
    assert [s.id.split("_")[-1] for s in first.samples] == ["700000", "700010", "700020"]
    limited = build("spokencoco", {**config, "limit": 4})
    assert [s.id for s in limited.samples] == [s.id for s in build("spokencoco",
                                                                    config).samples[:4]]


def test_spokencoco_karpathy_split(tmp_path: Path) -> None:
    config = write_spokencoco_tree(tmp_path, images_per_split=4, captions_per_image=1)
    config["karpathy_json"] = str(tmp_path / "karpathy" / "dataset_coco.json")
    images = {split: [s.image.name for s in build("spokencoco",
                                                  {**config, "split": split}).samples]
              for split in ("train", "val", "test")}
    # train2014 images alternate train/restval (both train); val2014 ones alternate val/test
    assert images["train"] == [f"COCO_train2014_{100000 + i:012d}.jpg" for i in range(4)]
    assert images["val"] == [f"COCO_val2014_{100000 + i:012d}.jpg" for i in (4, 6)]
    assert images["test"] == [f"COCO_val2014_{100000 + i:012d}.jpg" for i in (5, 7)]


def test_spokencoco_test_split_needs_karpathy(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="karpathy_json"):
        build("spokencoco", {**write_spokencoco_tree(tmp_path), "split": "test"})


def test_spokencoco_missing_folders_and_files(tmp_path: Path) -> None:
    config = write_spokencoco_tree(tmp_path)
    message = error_of("spokencoco", {**config, "root": str(tmp_path / "nope")})
    assert "SpokenCOCO folder" in message and "nope" in message and "csail.mit.edu" in message
    message = error_of("spokencoco", {**config, "image_root": str(tmp_path / "nococo")})
    assert "nococo" in message and "cocodataset.org" in message
    (Path(config["root"]) / "SpokenCOCO_val.json").unlink()
    message = error_of("spokencoco", {**config, "split": "val"})
    assert "SpokenCOCO_val.json does not exist" in message
    message = error_of("spokencoco", {**config, "karpathy_json": str(tmp_path / "k.json")})
    assert "Karpathy split file" in message and "caption_datasets.zip" in message


def test_spokencoco_reports_every_bad_entry(tmp_path: Path) -> None:
    config = write_spokencoco_tree(tmp_path)
    file = Path(config["root"]) / "SpokenCOCO_train.json"
    data = json.loads(file.read_text())
    entries = data["data"]
    del entries[0]["captions"][1]["wav"]
    entries.append({"captions": entries[1]["captions"]})
    entries.append({"image": "train2014/x.jpg", "captions": []})
    entries.append("junk")
    file.write_text(json.dumps(data))
    message = error_of("spokencoco", config)
    assert f"SpokenCOCO file {file} has 4 problems" in message
    assert "data[0] caption 1: missing 'wav'" in message
    assert "data[2]: missing 'image'" in message
    assert "data[3] (train2014/x.jpg): missing or empty 'captions'" in message
    assert "data[4]: expected an object" in message


def test_spokencoco_malformed_json_and_missing_wav(tmp_path: Path) -> None:
    config = write_spokencoco_tree(tmp_path)
    file = Path(config["root"]) / "SpokenCOCO_train.json"
    text = file.read_text()
    file.write_text(text[:-10])
    message = error_of("spokencoco", config)
    assert f"{file} is not valid JSON" in message and "line 1" in message
    file.write_text(text)
    wav = build("spokencoco", config)[1].audio
    wav.unlink()
    message = error_of("spokencoco", config)
    assert f"{file} references 1 missing file" in message
    assert f"data[0] caption 1: audio {wav}" in message
    assert len(build("spokencoco", {**config, "check_files": False})) == 4


def test_spokencoco_duplicate_uttid(tmp_path: Path) -> None:
    config = write_spokencoco_tree(tmp_path)
    file = Path(config["root"]) / "SpokenCOCO_val.json"
    data = json.loads(file.read_text())
    data["data"][1]["captions"][0]["uttid"] = data["data"][0]["captions"][0]["uttid"]
    file.write_text(json.dumps(data))
    message = error_of("spokencoco", {**config, "split": "val"})
    assert "data[1] caption 0: duplicate uttid" in message and "first at data[0]" in message


# -- flickr8k-audio ----------------------------------------------------------------------------


def test_flickr8k_reads_the_releases(tmp_path: Path) -> None:
    config = write_flickr8k_tree(tmp_path)
    test = build("flickr8k-audio", config)  # the default split is test
    assert len(test) == 4
    check_files(test)
    sample = test[0]
    assert sample.id == "1000268205_0004cb0e_0"
    assert sample.image.name == "1000268205_0004cb0e.jpg"
    assert sample.image.parent.name == "Flicker8k_Dataset"
    assert sample.transcript == "A purple square ."
    assert sample.speaker == "2"
    assert test[1].transcript == "A plain purple picture ."  # caption #1 of the same image
    train = build("flickr8k-audio", {**config, "split": "train"})
    assert {s.image.name for s in train.samples} == {
        "1000268201_0000cb0e.jpg", "1000268202_0001cb0e.jpg"}
    assert len(build("flickr8k-audio", {**config, "split": "dev", "limit": 1})) == 1


def test_flickr8k_without_speaker_file(tmp_path: Path) -> None:
    config = write_flickr8k_tree(tmp_path)
    (Path(config["audio_root"]) / "wav2spk.txt").unlink()
    assert {s.speaker for s in build("flickr8k-audio", config).samples} == {None}


def test_flickr8k_reports_bad_lines_and_missing_files(tmp_path: Path) -> None:
    config = write_flickr8k_tree(tmp_path)
    index = Path(config["audio_root"]) / "wav2capt.txt"
    lines = index.read_text().splitlines()
    lines[6] = "garbage line"
    lines.append("1000268205_0004cb0e_9.wav 1000268205_0004cb0e.jpg #9")
    lines.append(lines[7])
    index.write_text("\n".join(lines) + "\n")
    message = error_of("flickr8k-audio", config)
    assert f"Flickr audio index {index} has 3 problems" in message
    assert "line 7: expected 'WAVNAME IMAGE.jpg #N', got 'garbage line'" in message
    assert "line 13: caption 1000268205_0004cb0e.jpg#9 is not in Flickr8k.token.txt" in message
    assert "line 14: duplicate wav '1000268204_0003cb0e_1.wav' (first on line 8)" in message
    index.write_text("\n".join(lines[:6] + lines[7:12]) + "\n")
    (Path(config["audio_root"]) / "wavs" / "1000268205_0004cb0e_1.wav").unlink()
    message = error_of("flickr8k-audio", config)
    assert f"{index} references 1 missing file" in message
    assert "line 9: audio" in message and "1000268205_0004cb0e_1.wav" in message


def test_flickr8k_missing_text_files(tmp_path: Path) -> None:
    config = write_flickr8k_tree(tmp_path)
    text = Path(config["text_root"])
    (text / "Flickr_8k.devImages.txt").unlink()
    message = error_of("flickr8k-audio", {**config, "split": "dev"})
    assert "Flickr_8k.devImages.txt does not exist" in message and "Flickr8k_text" in message
    tokens = text / "Flickr8k.token.txt"
    tokens.write_text(tokens.read_text() + "no tab here\n")
    message = error_of("flickr8k-audio", config)
    assert f"Flickr8k caption file {tokens} has 1 problem:" in message
    assert "line 31: expected 'IMAGE.jpg#N<TAB>caption'" in message
    message = error_of("flickr8k-audio", {**config, "image_root": str(tmp_path / "Flickr8k")})
    assert "Flickr8k image folder" in message and "does not exist" in message


# -- voxemoset ---------------------------------------------------------------------------------


def test_voxemoset_paper5_merges_and_drops(tmp_path: Path) -> None:
    config = write_voxemoset_tree(tmp_path)
    train = build("voxemoset", config)
    check_files(train)
    emotions = [s.labels["emotion"] for s in train.samples]
    assert emotions == ["enjoyment", "enjoyment", "anger", "disgust", "fear", "sadness"]
    assert train.label_values("emotion") == ["anger", "disgust", "enjoyment", "fear", "sadness"]
    assert train[0].image.parts[-3:-1] == ("image", "amusement")
    assert train[0].transcript and train[0].speaker


def test_voxemoset_emoset8_raw_split_and_limit(tmp_path: Path) -> None:
    config = write_voxemoset_tree(tmp_path, per_emotion=2)
    eight = build("voxemoset", {**config, "emotion_classes": "emoset8", "split": "test"})
    assert len(eight) == 16 and len(eight.label_values("emotion")) == 8
    assert len(build("voxemoset", {**config, "emotion_classes": "raw"})) == 16
    limited = build("voxemoset", {**config, "limit": 3})
    assert [s.labels["emotion"] for s in limited.samples] == ["enjoyment"] * 3


def test_voxemoset_reports_bad_labels_and_rows(tmp_path: Path) -> None:
    config = write_voxemoset_tree(tmp_path, emotions=("fear", "sadness", "anger", "awe"))
    manifest = Path(config["root"]) / "voxemoset_train.jsonl"
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    rows[0]["labels"]["emotion"] = "joy"
    del rows[1]["labels"]
    rows[2]["image"] = None
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    message = error_of("voxemoset", config)
    assert f"VoxEmoset file {manifest} has 3 problems" in message
    assert "line 1: unknown emotion 'joy'; expected one of amusement" in message
    assert "line 2: no labels.emotion" in message
    assert "line 3: no 'image'" in message
    assert "emotion_classes: raw" in message
    message = error_of("voxemoset", {**config, "emotion_classes": "emoset8"})
    assert "line 1: unknown emotion 'joy'" in message
    rows[0]["labels"]["emotion"] = "enjoyment"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert "line 1: unknown emotion 'enjoyment'" in error_of(
        "voxemoset", {**config, "emotion_classes": "emoset8"})


def test_voxemoset_corrupt_lines_and_missing_files(tmp_path: Path) -> None:
    config = write_voxemoset_tree(tmp_path, emotions=("fear", "sadness"))
    manifest = Path(config["root"]) / "voxemoset_train.jsonl"
    good = manifest.read_text()
    manifest.write_text(good + '{"id": "x", "audio": \n{"audio": "a.wav"}\n')
    message = error_of("voxemoset", config)
    assert f"manifest {manifest} has 2 problems" in message
    assert "line 3: not valid JSON" in message and "line 4: missing required field 'id'" in message
    manifest.write_text(good)
    image = build("voxemoset", config)[1].image
    image.unlink()
    message = error_of("voxemoset", config)
    assert f"{manifest} references 1 missing file" in message
    assert f"line 2: image {image}" in message
    message = error_of("voxemoset", {**config, "split": "val"})
    assert "voxemoset_val.jsonl does not exist" in message and "README" in message


# -- manifest ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_manifest_reads_csv_and_jsonl_per_split(tmp_path: Path, fmt: str) -> None:
    config = write_manifest_tree(tmp_path, fmt=fmt)
    train = build("manifest", config)
    check_files(train)
    assert [s.id for s in train.samples] == ["train0", "train1", "train2"]
    sample = train[1]
    assert sample.audio == (tmp_path / "audio" / "train1.wav").absolute()
    assert (sample.transcript, sample.speaker) == ("a blue square", "s1")
    assert sample.labels == {"emotion": "anger"}
    test = build("manifest", {**config, "split": "test", "limit": 2})
    assert [s.id for s in test.samples] == ["test0", "test1"]


def test_manifest_split_column_and_renamed_columns(tmp_path: Path) -> None:
    write_manifest_tree(tmp_path, splits=("train",))
    table = tmp_path / "metadata.tsv"
    table.write_text("file_name\twav\tsentence\tsplit\tmood\n"
                     "images/train0.png\taudio/train0.wav\thello\ttrain\tfear\n"
                     "images/train1.png\taudio/train1.wav\tworld\ttest\t\n")
    config = {"path": str(table), "split_column": "split", "labels": ["mood"],
              "columns": {"id": None, "image": "file_name", "audio": "wav",
                          "transcript": "sentence", "speaker": None}}
    train = build("manifest", config)
    assert [(s.id, s.transcript, dict(s.labels)) for s in train.samples] == [
        ("metadata-0", "hello", {"mood": "fear"})]
    test = build("manifest", {**config, "split": "test"})
    assert [(s.id, s.transcript, dict(s.labels)) for s in test.samples] == [
        ("metadata-1", "world", {})]


def test_manifest_reports_every_bad_row(tmp_path: Path) -> None:
    write_manifest_tree(tmp_path, splits=("train",))
    table = tmp_path / "bad.csv"
    table.write_text("id,audio,image,transcript\n"
                     "a,audio/train0.wav,images/train0.png,ok\n"
                     "b,audio/train1.wav,,no image\n"
                     "a,audio/train2.wav,images/train2.png,again\n"
                     "c,audio/train0.wav,images/train0.png,x,extra\n")
    message = error_of("manifest", {"path": str(table)})
    assert f"manifest {table} has 3 problems" in message
    assert "line 3: no 'image' (column 'image')" in message
    assert "line 4: duplicate id 'a' (first at line 2)" in message
    assert "line 5: more fields than the header's 4" in message
    lines = tmp_path / "bad.jsonl"
    lines.write_text('{"id": "a", "audio": "audio/train0.wav", "image": "images/none.png"}\n'
                     "[1, 2]\n{broken\n"
                     '{"id": "b", "audio": 3.5, "image": ["x"]}\n')
    message = error_of("manifest", {"path": str(lines)})
    assert "line 2: expected a JSON object" in message and "line 3: not valid JSON" in message
    assert "line 4: 'image' must be a string" in message
    lines.write_text('{"id": "a", "audio": "audio/train0.wav", "image": "images/none.png"}\n')
    message = error_of("manifest", {"path": str(lines)})
    assert f"{lines} references 1 missing file" in message and "line 1: image" in message


def test_manifest_config_and_path_errors(tmp_path: Path) -> None:
    config = write_manifest_tree(tmp_path)
    message = error_of("manifest", {**config, "split": "dev"})
    assert "dev.csv does not exist" in message and "split 'dev'" in message
    (tmp_path / "data.txt").write_text("x\n")
    assert "format: csv" in error_of("manifest", {"path": str(tmp_path / "data.txt")})
    (tmp_path / "empty.csv").write_text("")
    assert "header line" in error_of("manifest", {"path": str(tmp_path / "empty.csv")})
    with pytest.raises(ValidationError, match="not both"):
        build("manifest", {**config, "split_column": "split"})
    with pytest.raises(ValidationError, match="columns.image is None"):
        build("manifest", {**config, "columns": {"image": None}})
    with pytest.raises(ValidationError, match="extra"):
        build("manifest", {**config, "colums": {}})
