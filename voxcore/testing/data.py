"""Conformance suites for datasets (:class:`voxcore.interfaces.Dataset`) and dataset builders
(:class:`voxcore.interfaces.DatasetBuilder`).

Subclass :class:`DatasetSuite` and override :meth:`DatasetSuite.build_dataset` (a small one,
made in ``tmp_path``); subclass :class:`DatasetBuilderSuite` and override
:meth:`DatasetBuilderSuite.build_builder` (with a small config).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from voxcore.interfaces import Dataset, DatasetBuilder, Sample

__all__ = ["DatasetBuilderSuite", "DatasetSuite"]


class DatasetSuite:
    """Checks every dataset must pass: a sized sequence of samples with distinct ids whose
    files exist, the same on every read, and an error for an index past the end."""

    def build_dataset(self, tmp_path: Path) -> Dataset:
        """A small dataset (its files made under ``tmp_path``)."""
        raise NotImplementedError(f"{type(self).__name__} must override build_dataset()")

    def test_is_a_dataset_of_samples(self, tmp_path: Path) -> None:
        dataset = self.build_dataset(tmp_path)
        assert isinstance(dataset, Dataset)
        assert len(dataset) > 0, "the test dataset must not be empty"
        samples = [dataset[i] for i in range(len(dataset))]
        assert all(isinstance(s, Sample) for s in samples)
        ids = [s.id for s in samples]
        assert len(set(ids)) == len(ids), "sample ids must be distinct"

    def test_files_exist_and_reads_repeat(self, tmp_path: Path) -> None:
        dataset = self.build_dataset(tmp_path)
        for index in range(len(dataset)):
            sample = dataset[index]
            for path in (sample.audio, sample.image):
                assert path is None or Path(path).is_file(), f"{sample.id}: {path} is missing"
            assert dataset[index] == sample, "reading a sample twice gave two answers"

    def test_index_past_the_end_raises(self, tmp_path: Path) -> None:
        dataset = self.build_dataset(tmp_path)
        with pytest.raises(IndexError):
            dataset[len(dataset)]


class DatasetBuilderSuite:
    """Checks every dataset builder must pass: it writes into the folder it is given (created
    if missing) and leaves no temporary files behind."""

    def build_builder(self) -> DatasetBuilder:
        """A builder with a small config."""
        raise NotImplementedError(f"{type(self).__name__} must override build_builder()")

    def test_builds_into_a_new_folder(self, tmp_path: Path) -> None:
        builder = self.build_builder()
        assert isinstance(builder, DatasetBuilder)
        out = tmp_path / "new" / "dataset"
        builder.build(out)
        assert out.is_dir() and any(out.iterdir()), "build() wrote nothing"
        leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
        assert not leftovers, f"temporary files left behind: {leftovers}"
