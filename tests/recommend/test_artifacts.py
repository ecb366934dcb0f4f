"""Artifacts: versioned folders, a round trip that changes no answer, and no pickle anywhere."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from limelight import Engine
from limelight.errors import NotFound
from limelight.recommend import artifacts
from limelight.recommend.registry import ModelStore
from limelight.recommend.training import train
from tests.recommend import world

HISTORIES = [["A1", "A2", "A3"], ["R0", "R5"], ["X"], ["K1", "A4", "R2"], ["unknown-title"]]
#: Opcodes every pickle protocol >= 2 starts with, and the text of numpy's pickled arrays.
PICKLE_MARKS = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"cnumpy", b"ndarray\nq")
PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib", ".npy"}


def _all_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_a_loaded_model_answers_exactly_like_the_trained_one(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    world.load(sqlite_engine)
    model = train(sqlite_engine.database, world.FAST)
    artifacts.save(model, tmp_path / "saved")
    loaded = artifacts.load(tmp_path / "saved")
    before, after = model.ranker, loaded.ranker
    for history in HISTORIES:
        for at, device in ((None, None), (world.NOW, "tv")):
            one = before.recommend_for_history(history, None, n=15, at=at, device=device)
            two = after.recommend_for_history(history, None, n=15, at=at, device=device)
            np.testing.assert_array_equal(one.indices, two.indices)
            np.testing.assert_array_equal(one.scores, two.scores)
    rows = np.arange(before.interactions_.n_users)
    np.testing.assert_array_equal(
        before.recommend(rows, 5).indices, after.recommend(rows, 5).indices
    )
    for name, source in before.sources_.items():
        for item in ("A1", "X", "K0"):
            np.testing.assert_array_equal(
                source.similar_items(item, 5).indices,
                after.sources_[name].similar_items(item, 5).indices,
            )
    assert loaded.version == model.version
    assert loaded.metadata["data_window"] == json.loads(json.dumps(model.metadata["data_window"]))


def test_no_file_of_an_artifact_is_or_holds_a_pickle(sqlite_engine: Engine, tmp_path: Path) -> None:
    world.load(sqlite_engine)
    folder = tmp_path / "saved"
    artifacts.save(train(sqlite_engine.database, world.FAST), folder)
    files = _all_files(folder)
    assert {p.suffix for p in files} == {".json", ".npz", ".txt"}
    assert not {p.suffix for p in files} & PICKLE_SUFFIXES
    for path in files:
        content = path.read_bytes()
        if path.suffix == ".npz":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    with archive.open(member) as stream:
                        major, _minor = np.lib.format.read_magic(stream)  # a plain .npy file
                        read_header = (
                            np.lib.format.read_array_header_1_0
                            if major == 1
                            else np.lib.format.read_array_header_2_0
                        )
                        _shape, _order, dtype = read_header(stream)
                    assert not dtype.hasobject, member  # object arrays are stored as pickles
            with np.load(path, allow_pickle=False) as arrays:  # refuses object arrays
                assert all(arrays[name].dtype != object for name in arrays.files)
        else:
            assert not any(mark in content for mark in PICKLE_MARKS), path
            content.decode("utf-8")
    assert (folder / "ranker.txt").read_text().startswith("tree")


def test_versions_are_written_aside_and_published_by_a_pointer(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    world.load(sqlite_engine)
    store = ModelStore(tmp_path / "models")
    assert store.current() is None and store.versions() == []
    first = train(sqlite_engine.database, world.FAST, now=world.NOW)
    second = train(sqlite_engine.database, world.FAST, now=world.NOW + 60)
    store.write(first)
    store.write(second)
    assert store.versions() == [first.version, second.version]  # they sort by time
    assert store.current() is None  # written is not in use
    store.publish(second.version)
    assert store.current() == second.version
    store.publish(first.version)  # roll back
    assert [i.version for i in store.info() if i.current] == [first.version]
    assert not [p for p in store.root.iterdir() if p.name.startswith(".")]  # no staging left
    with pytest.raises(NotFound):
        store.publish("19990101T000000000000Z")
