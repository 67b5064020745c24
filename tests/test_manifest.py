"""Tests of voxcore.data: reading, writing and serving JSONL manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voxcore.data import DatasetError, ManifestDataset, read_manifest, write_manifest
from voxcore.errors import UserError
from voxcore.interfaces import Dataset, Sample


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def _write_lines(path: Path, *lines: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    _touch(tmp_path / "data" / "audio" / "a.wav")
    _touch(tmp_path / "data" / "images" / "a.png")
    _touch(tmp_path / "elsewhere" / "b.wav")
    return tmp_path


# -- round trip --------------------------------------------------------------------------------

def test_round_trip_keeps_every_field_and_writes_relative_paths(root: Path) -> None:
    samples = [
        Sample("a", root / "data" / "audio" / "a.wav", root / "data" / "images" / "a.png",
               transcript="a circle on the left", speaker="m3",
               labels={"mood": "fear", "shape": "circle"}),
        Sample("b", root / "elsewhere" / "b.wav", None),
        Sample("c", None, None, transcript="only text"),
    ]
    manifest = root / "data" / "train.jsonl"
    write_manifest(manifest, samples)

    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert records[0] == {"id": "a", "audio": "audio/a.wav", "image": "images/a.png",
                          "transcript": "a circle on the left", "speaker": "m3",
                          "labels": {"mood": "fear", "shape": "circle"}}
    # Outside the manifest's folder: kept absolute, so moving the folder cannot break it.
    assert records[1]["audio"] == (root / "elsewhere" / "b.wav").as_posix()
    assert read_manifest(manifest) == samples


def test_relative_paths_are_resolved_from_the_manifest_folder(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = {"id": "a", "audio": "audio/a.wav", "image": "./images/../images/a.png"}
    manifest = _write_lines(root / "data" / "m.jsonl", line)
    monkeypatch.chdir(root / "elsewhere")
    (sample,) = read_manifest(Path("..") / "data" / "m.jsonl")
    assert sample.audio == root / "data" / "audio" / "a.wav"
    assert sample.image == root / "data" / "images" / "a.png"
    assert sample.audio.is_absolute()
    assert sample.labels == {} and sample.transcript is None and sample.speaker is None
    assert read_manifest(manifest) == [sample]


def test_blank_lines_are_skipped_and_line_numbers_count_them(root: Path) -> None:
    manifest = _write_lines(root / "m.jsonl", {"id": "a"}, "", "   ", {"id": "a"})
    with pytest.raises(DatasetError, match=r"line 4: duplicate id 'a' \(first on line 1\)"):
        read_manifest(manifest)


def test_write_is_atomic_and_leaves_no_temporary_files(root: Path) -> None:
    manifest = root / "out" / "m.jsonl"
    write_manifest(manifest, [Sample("a", None, None)])
    write_manifest(manifest, [Sample("b", None, None)])
    assert [p.name for p in manifest.parent.iterdir()] == ["m.jsonl"]
    assert [s.id for s in read_manifest(manifest)] == ["b"]


def test_write_rejects_duplicate_ids_and_non_string_labels(root: Path) -> None:
    with pytest.raises(DatasetError, match="duplicate id 'a'"):
        write_manifest(root / "m.jsonl", [Sample("a", None, None), Sample("a", None, None)])
    with pytest.raises(DatasetError, match="labels of 'a' must map strings to strings"):
        write_manifest(root / "m.jsonl", [Sample("a", None, None, labels={"n": 3})])  # type: ignore[dict-item]
    assert not (root / "m.jsonl").exists()


# -- errors ------------------------------------------------------------------------------------

def test_missing_manifest_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"manifest .*nope\.jsonl does not exist") as info:
        read_manifest(tmp_path / "nope.jsonl")
    assert isinstance(info.value, UserError) and isinstance(info.value, ValueError)


def test_directory_instead_of_manifest(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="is not a file"):
        read_manifest(tmp_path)


@pytest.mark.parametrize(("line", "message"), [
    ('{"id": "a",', r"line 2: not valid JSON \(Expecting property name"),
    ('["a"]', "line 2: expected a JSON object, got an array"),
    ('"a"', r'line 2: expected a JSON object, got a string \("a"\)'),
    ('{"audio": null}', "line 2: missing required field 'id'"),
    ('{"id": 7}', r"line 2: 'id' must be a non-empty string, got a number \(7\)"),
    ('{"id": ""}', "line 2: 'id' must be a non-empty string"),
    ('{"id": "b", "audio": 3}', r"line 2: 'audio' must be a non-empty string or null, got a "
                                r"number \(3\)"),
    ('{"id": "b", "image": ""}', "line 2: 'image' must be a non-empty string or null"),
    ('{"id": "b", "transcript": ["x"]}', "line 2: 'transcript' must be a string or null, got an "
                                         "array"),
    ('{"id": "b", "speaker": true}', r"line 2: 'speaker' must be a string or null, got a boolean"),
    ('{"id": "b", "labels": ["x"]}', "line 2: 'labels' must be an object of strings, got an "
                                     "array"),
    ('{"id": "b", "labels": {"mood": 1}}', r"line 2: label 'mood' must be a string, got a "
                                           r"number \(1\)"),
    ('{"id": "b", "label": {}, "wav": "x"}', "line 2: unknown field\\(s\\) 'label', 'wav'; allowed "
                                             "fields: id, audio, image, transcript, speaker, "
                                             "labels"),
    ('{"id": "a"}', r"line 2: duplicate id 'a' \(first on line 1\)"),
])
def test_bad_line_is_reported_with_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    manifest = _write_lines(tmp_path / "bad.jsonl", {"id": "a"}, line)
    with pytest.raises(DatasetError, match=message) as info:
        read_manifest(manifest)
    assert str(manifest) in str(info.value)
    assert "1 problem:" in str(info.value)


def test_every_bad_line_is_reported_at_once(tmp_path: Path) -> None:
    manifest = _write_lines(tmp_path / "bad.jsonl", "{", {"id": "a", "x": 1}, "[]", {"id": "ok"})
    with pytest.raises(DatasetError) as info:
        read_manifest(manifest)
    message = str(info.value)
    assert "has 3 problems:" in message
    assert all(f"line {n}:" in message for n in (1, 2, 3)) and "line 4" not in message


def test_missing_files_are_all_counted_and_at_most_ten_listed(root: Path) -> None:
    lines = [{"id": f"s{i}", "audio": f"audio/missing{i}.wav", "image": "images/a.png"}
             for i in range(12)]
    lines.append({"id": "img", "audio": "audio/a.wav", "image": "images/gone.png"})
    manifest = _write_lines(root / "data" / "m.jsonl", *lines)
    with pytest.raises(DatasetError) as info:
        read_manifest(manifest)
    message = str(info.value)
    assert "references 13 missing files:" in message
    assert f"line 1: audio {root / 'data' / 'audio' / 'missing0.wav'}" in message
    assert "missing9.wav" in message and "missing10.wav" not in message
    assert "... and 3 more" in message
    assert len(read_manifest(manifest, check_files=False)) == 13


# -- the dataset -------------------------------------------------------------------------------

def test_manifest_dataset_serves_samples_and_label_values(root: Path) -> None:
    manifest = _write_lines(
        root / "data" / "m.jsonl",
        {"id": "a", "audio": "audio/a.wav", "labels": {"mood": "fear", "shape": "star"}},
        {"id": "b", "labels": {"mood": "anger"}},
        {"id": "c", "labels": {"mood": "fear"}},
    )
    dataset = ManifestDataset(manifest)
    assert isinstance(dataset, Dataset)
    assert len(dataset) == 3
    assert dataset[0].audio == root / "data" / "audio" / "a.wav"
    assert dataset[-1].id == "c"
    assert [s.id for s in dataset.samples] == ["a", "b", "c"]
    assert dataset.label_values("mood") == ["anger", "fear"]
    assert dataset.label_values("shape") == ["star"]
    with pytest.raises(DatasetError, match="no sample .* has label 'colour'; labels present: "
                                           "mood, shape"):
        dataset.label_values("colour")
    with pytest.raises(IndexError):
        dataset[3]


def test_manifest_dataset_reports_manifest_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        ManifestDataset(tmp_path / "missing.jsonl")
