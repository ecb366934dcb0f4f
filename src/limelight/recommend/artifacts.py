"""A trained recommender on disk: JSON metadata, numpy arrays, LightGBM's text model. No pickle.

One version is one folder::

    <version>/
      metadata.json        data window, parameters, metrics, library versions, feature names
      interactions.npz     the training log (ids, codes, weights, times, devices, UTC offsets)
      items.json           item metadata the content source and the features were built from
      sources/<name>.npz   each fitted source's learned arrays (dense, or CSR in three parts)
      ranker.txt           the LightGBM booster as text (``Booster.model_to_string``)

Why no pickle: the server loads these files, and unpickling runs whatever code the file names.
Everything here is read with ``allow_pickle=False`` or as text, so a tampered artifact can at
worst be refused. A source's learned state is every attribute ending in ``_`` (the library's
contract), so a new source is saved without new code as long as its state is arrays, sparse
matrices or JSON values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from limelight.candidates import (
    ALS,
    BPR,
    EASE,
    CandidateSource,
    ContentSimilarity,
    Interactions,
    ItemKNN,
    ItemMeta,
    Popular,
    SequentialNextItem,
    Trending,
)
from limelight.errors import InvalidInput
from limelight.ranking import Ranker

FORMAT = 1
SOURCE_CLASSES: dict[str, type[CandidateSource]] = {
    cls.__name__: cls
    for cls in (Popular, Trending, ItemKNN, ALS, BPR, EASE, SequentialNextItem, ContentSimilarity)
}
_SPARSE_PARTS = ("data", "indices", "indptr", "shape")


@dataclass
class TrainedModel:
    """A fitted ranker with the facts about how it was made."""

    version: str
    ranker: Ranker
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def interactions(self) -> Interactions:
        return self.ranker.interactions_


# ---------------------------------------------------------------------- json helpers


def _plain(value: Any) -> Any:
    """A JSON-ready copy (tuples to lists, numpy scalars to Python)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(_plain(value), indent=2, sort_keys=True), encoding="utf-8")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _params(source: CandidateSource) -> dict[str, Any]:
    return {key: _plain(value) for key, value in source.get_params().items()}


def _restore_params(cls: type[CandidateSource], params: Mapping[str, Any]) -> dict[str, Any]:
    """JSON lists back to tuples where the constructor's default is a tuple."""
    import inspect

    defaults = inspect.signature(cls.__init__).parameters
    out: dict[str, Any] = {}
    for key, value in params.items():
        default = defaults[key].default if key in defaults else None
        out[key] = tuple(value) if isinstance(value, list) and isinstance(default, tuple) else value
    return out


# ---------------------------------------------------------------------- arrays


def _save_npz(path: Path, arrays: Mapping[str, np.ndarray[Any, Any]]) -> None:
    for name, array in arrays.items():
        if array.dtype == object:
            raise InvalidInput(f"{name}: object arrays would need pickle", field=name)
    with path.open("wb") as handle:
        np.savez(handle, allow_pickle=False, **arrays)


def _load_npz(path: Path) -> dict[str, np.ndarray[Any, Any]]:
    with np.load(path, allow_pickle=False) as found:
        return {name: found[name] for name in found.files}


def source_state(source: CandidateSource) -> tuple[dict[str, np.ndarray[Any, Any]], dict[str, Any]]:
    """A fitted source's learned state as arrays (dense, or CSR parts) and JSON values."""
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    values: dict[str, Any] = {}
    for name, value in vars(source).items():
        if not name.endswith("_") or name.startswith("_") or name == "interactions_":
            continue
        if isinstance(value, np.ndarray):
            arrays[name] = value
        elif sp.issparse(value):
            matrix = sp.csr_matrix(value)
            arrays[f"{name}.data"] = matrix.data
            arrays[f"{name}.indices"] = matrix.indices
            arrays[f"{name}.indptr"] = matrix.indptr
            arrays[f"{name}.shape"] = np.asarray(matrix.shape, dtype=np.int64)
        elif value is None or isinstance(value, bool | int | float | str | list | dict):
            values[name] = _plain(value)
        else:
            raise InvalidInput(
                f"{type(source).__name__}.{name} ({type(value).__name__}) cannot be saved",
                field=name,
            )
    return arrays, values


def restore_source(
    cls_name: str,
    params: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray[Any, Any]],
    values: Mapping[str, Any],
    interactions: Interactions,
) -> CandidateSource:
    """A fitted source rebuilt from :func:`source_state`'s output."""
    cls = SOURCE_CLASSES.get(cls_name)
    if cls is None:
        raise InvalidInput(f"unknown source class {cls_name!r} in the artifact", field="sources")
    source = cls(**_restore_params(cls, params))
    sparse: dict[str, dict[str, np.ndarray[Any, Any]]] = {}
    for key, array in arrays.items():
        name, _, part = key.partition(".")
        if part in _SPARSE_PARTS:
            sparse.setdefault(name, {})[part] = array
        else:
            setattr(source, name, array)
    for name, parts in sparse.items():
        matrix = sp.csr_matrix(
            (parts["data"], parts["indices"], parts["indptr"]),
            shape=tuple(int(v) for v in parts["shape"]),
        )
        setattr(source, name, matrix)
    for name, value in values.items():
        setattr(source, name, value)
    source.interactions_ = interactions
    return source


# ---------------------------------------------------------------------- interactions


def _save_interactions(folder: Path, log: Interactions) -> None:
    devices = sorted({d for d in log.devices or () if d is not None})
    codes = {name: code for code, name in enumerate(devices)}
    device_codes = np.fromiter(
        (-1 if d is None else codes[d] for d in (log.devices or ())),
        dtype=np.int64,
        count=len(log) if log.devices is not None else 0,
    )
    zoned = {} if log.offsets is None else {"offsets": log.offsets}
    _save_npz(
        folder / "interactions.npz",
        {
            **zoned,
            "user_ids": np.asarray(log.user_ids, dtype=str),
            "item_ids": np.asarray(log.item_ids, dtype=str),
            "users": log.users,
            "items": log.items,
            "weights": log.weights,
            "timestamps": log.timestamps,
            "device_codes": device_codes,
            "device_names": np.asarray(devices, dtype=str),
            "has_devices": np.asarray([log.devices is not None]),
        },
    )
    write_json(
        folder / "items.json",
        {
            item: {
                "genres": list(meta.genres),
                "tags": list(meta.tags),
                "release_year": meta.release_year,
                "text": meta.text,
            }
            for item, meta in log.metadata.items()
        },
    )


def _load_interactions(folder: Path) -> Interactions:
    arrays = _load_npz(folder / "interactions.npz")
    devices: tuple[str | None, ...] | None = None
    if bool(arrays["has_devices"][0]):
        names = [str(name) for name in arrays["device_names"]]
        devices = tuple(None if c < 0 else names[c] for c in arrays["device_codes"])
    metadata = {
        item: ItemMeta(
            genres=tuple(meta["genres"]),
            tags=tuple(meta["tags"]),
            release_year=meta["release_year"],
            text=meta["text"],
        )
        for item, meta in read_json(folder / "items.json").items()
    }
    return Interactions(
        tuple(str(u) for u in arrays["user_ids"]),
        tuple(str(i) for i in arrays["item_ids"]),
        arrays["users"].astype(np.int64),
        arrays["items"].astype(np.int64),
        arrays["weights"].astype(np.float64),
        arrays["timestamps"].astype(np.float64),
        devices,
        metadata,
        arrays["offsets"].astype(np.float64) if "offsets" in arrays else None,
    )


# ---------------------------------------------------------------------- the whole model


def save(model: TrainedModel, folder: Path) -> None:
    """Write ``model`` into ``folder`` (which must not exist yet)."""
    ranker = model.ranker
    folder.mkdir(parents=True)
    (folder / "sources").mkdir()
    _save_interactions(folder, ranker.interactions_)
    sources: dict[str, Any] = {}
    for name, source in ranker.sources_.items():
        arrays, values = source_state(source)
        _save_npz(folder / "sources" / f"{name}.npz", arrays)
        sources[name] = {"class": type(source).__name__, "params": _params(source), "state": values}
    (folder / "ranker.txt").write_text(ranker.booster_.model_to_string(), encoding="utf-8")
    params = {key: _plain(v) for key, v in ranker.get_params().items() if key != "sources"}
    metadata = {
        **model.metadata,
        "format": FORMAT,
        "version": model.version,
        "ranker": {
            "params": params,
            "feature_names": ranker.feature_names_,
            "columns": [bool(c) for c in ranker.columns_],
            "base_column": int(getattr(ranker, "base_column_", -1)),
            "training_summary": ranker.training_summary_,
        },
        "sources": sources,
        # Feature columns follow the sources' order; JSON objects are written with sorted keys.
        "source_order": list(ranker.sources_),
    }
    write_json(folder / "metadata.json", metadata)


def load(folder: Path) -> TrainedModel:
    """Read a model written by :func:`save`; recommendations are identical to the saved one's."""
    import lightgbm

    metadata = read_json(folder / "metadata.json")
    if metadata.get("format") != FORMAT:
        raise InvalidInput(f"unsupported artifact format {metadata.get('format')!r}")
    interactions = _load_interactions(folder)
    sources: dict[str, CandidateSource] = {}
    prototypes: dict[str, CandidateSource] = {}
    for name in metadata["source_order"]:
        entry = metadata["sources"][name]
        arrays = _load_npz(folder / "sources" / f"{name}.npz")
        source = restore_source(
            entry["class"], entry["params"], arrays, entry["state"], interactions
        )
        sources[name] = source
        prototypes[name] = source.clone()
    info = metadata["ranker"]
    params = dict(info["params"])
    params["exclude_features"] = tuple(params.get("exclude_features", ()))
    ranker = Ranker(sources=prototypes, **params)
    ranker.sources_ = sources
    ranker.builder_ = ranker._builder(sources, interactions, Ranker._devices(interactions))
    ranker.booster_ = lightgbm.Booster(
        model_str=(folder / "ranker.txt").read_text(encoding="utf-8")
    )
    ranker.feature_names_ = list(info["feature_names"])
    ranker.columns_ = np.asarray(info["columns"], dtype=bool)
    ranker.base_column_ = int(info["base_column"])
    ranker.training_summary_ = dict(info["training_summary"])
    ranker.interactions_ = interactions
    return TrainedModel(str(metadata["version"]), ranker, metadata)


__all__ = ["SOURCE_CLASSES", "TrainedModel", "load", "read_json", "save", "write_json"]
