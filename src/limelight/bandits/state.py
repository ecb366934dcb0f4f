"""Persist policy state as one JSON file plus one ``.npz`` file, never pickle.

Why this split: the server loads states it did not write itself, so nothing may execute code on
load; JSON carries the structure and numbers (Python's float repr round-trips exactly) and the
``.npz`` (read with ``allow_pickle=False``) carries the arrays bit for bit. Arrays in the JSON
are replaced by ``{"__array__": "a0"}`` references into the ``.npz``.

The random generator's state contains 128-bit integers, which not every JSON library accepts,
so integers outside the signed 64-bit range are written as ``{"__int__": "digits"}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from limelight.bandits.base import Policy, State
from limelight.errors import InvalidInput

_INT64 = 2**63


def _encode_ints(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _encode_ints(item) for key, item in value.items()}
    if isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64:
        return {"__int__": str(value)}
    return value


def _decode_ints(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__int__"}:
            return int(value["__int__"])
        return {key: _decode_ints(item) for key, item in value.items()}
    return value


def rng_to_state(rng: np.random.Generator) -> State:
    """The generator's bit-generator state, JSON-safe."""
    encoded: State = _encode_ints(dict(rng.bit_generator.state))
    return encoded


def rng_from_state(state: State) -> np.random.Generator:
    """A new generator continuing exactly where the saved one stopped."""
    decoded = _decode_ints(state)
    name = decoded.get("bit_generator")
    bit_generator_class = getattr(np.random, str(name), None)
    if not (
        isinstance(bit_generator_class, type)
        and issubclass(bit_generator_class, np.random.BitGenerator)
    ):
        raise InvalidInput(f"unknown bit generator {name!r}", field="rng")
    bit_generator = bit_generator_class()
    bit_generator.state = decoded
    return np.random.Generator(bit_generator)


def split_arrays(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Replace arrays by references, collecting them in ``arrays``."""
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, dict):
        return {str(key): split_arrays(item, arrays) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [split_arrays(item, arrays) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def join_arrays(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Inverse of ``split_arrays``."""
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return arrays[value["__array__"]]
        return {key: join_arrays(item, arrays) for key, item in value.items()}
    if isinstance(value, list):
        return [join_arrays(item, arrays) for item in value]
    return value


def save_state(state: State, folder: Path) -> None:
    """Write ``state.json`` and ``arrays.npz`` into ``folder`` (the JSON last: it marks done)."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    document = split_arrays(state, arrays)
    # Named arrays (``a0``, ``a1``... from ``split_arrays``), typed loosely: numpy's type
    # annotations match a dict of arrays against ``savez``'s ``allow_pickle: bool`` keyword,
    # which no key here is.
    named: dict[str, Any] = dict(arrays)
    np.savez(folder / "arrays.npz", **named)
    temporary = folder / "state.json.tmp"
    temporary.write_text(json.dumps(document, allow_nan=False))
    temporary.replace(folder / "state.json")


def load_state(folder: Path) -> State:
    """Read what ``save_state`` wrote."""
    document = json.loads((folder / "state.json").read_text())
    with np.load(folder / "arrays.npz", allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    state: State = join_arrays(document, arrays)
    return state


def save_policy(policy: Policy, folder: Path) -> None:
    """Persist a policy so that ``load_policy`` continues it exactly."""
    save_state(policy.state(), folder)


def load_policy(folder: Path) -> Policy:
    """The policy saved in ``folder``, of whatever kind it was."""
    return Policy.from_state(load_state(folder))
