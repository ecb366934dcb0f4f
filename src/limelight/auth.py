"""API keys and scopes.

Keys come from two places: ``Settings.api_keys`` (for deployments that inject secrets) and the
keys file in the data directory, written by ``limelight keys create``, which stores only SHA-256
hashes. ``admin`` implies ``read`` and ``ingest``; ``ingest`` keys are safe to ship inside apps
because they can only send events.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import orjson

from limelight.config import Scope, Settings
from limelight.errors import InvalidInput

SCOPES: tuple[str, ...] = get_args(Scope)
KEY_PREFIX = "ll_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def grants(scopes: frozenset[str], needed: str) -> bool:
    """Whether a key with ``scopes`` may do what needs ``needed``."""
    return needed in scopes or "admin" in scopes


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What is known about a key, never the key itself."""

    name: str
    scopes: frozenset[str]
    created_at: str | None = None


class KeyRing:
    """Looks up the scopes of an API key. Thread-safe; notices a changed keys file."""

    def __init__(self, settings: Settings) -> None:
        self.path: Path = settings.keys_file
        self._configured = {
            _digest(k.key): KeyInfo(k.name, frozenset(k.scopes)) for k in settings.api_keys
        }
        self._stored: dict[str, KeyInfo] = {}
        self._mtime: float | None = None
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._stored, self._mtime = {}, None
            return
        if mtime == self._mtime:
            return
        data = orjson.loads(self.path.read_bytes())
        self._stored = {
            entry["sha256"]: KeyInfo(
                entry["name"], frozenset(entry["scopes"]), entry.get("created_at")
            )
            for entry in data.get("keys", [])
        }
        self._mtime = mtime

    def lookup(self, key: str) -> KeyInfo | None:
        """The key's info, or None for an unknown key."""
        digest = _digest(key)
        with self._lock:
            self._refresh()
            return self._configured.get(digest) or self._stored.get(digest)

    def infos(self) -> list[KeyInfo]:
        with self._lock:
            self._refresh()
            return [*self._configured.values(), *self._stored.values()]


def create_key(settings: Settings, scopes: list[str], name: str) -> str:
    """Make a new key, store its hash in the keys file and return the key (shown once)."""
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise InvalidInput(
            f"scopes must be among {', '.join(SCOPES)}; got {scopes}", field="scopes"
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    path = settings.keys_file
    path.parent.mkdir(parents=True, exist_ok=True)
    data = orjson.loads(path.read_bytes()) if path.exists() else {"keys": []}
    data["keys"].append(
        {
            "name": name,
            "scopes": sorted(set(scopes)),
            "sha256": _digest(key),
            "created_at": datetime.now(UTC).isoformat(),
        }
    )
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    os.chmod(temporary, 0o600)
    temporary.replace(path)
    return key


def revoke_key(settings: Settings, name: str) -> int:
    """Remove stored keys with this name; returns how many were removed."""
    path = settings.keys_file
    if not path.exists():
        return 0
    data = orjson.loads(path.read_bytes())
    kept = [entry for entry in data["keys"] if entry["name"] != name]
    removed = len(data["keys"]) - len(kept)
    data["keys"] = kept
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    temporary.replace(path)
    return removed
