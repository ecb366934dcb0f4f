"""Ingest throughput against the raw limit of the same database, measured in the same run.

For each batch size, batches are interleaved: a raw ``executemany`` of the batch's rows
(pre-serialized, sqlite3 straight, one transaction per batch, same WAL and synchronous setting)
into the ``events`` table, then the same events through ``Engine.ingest`` (validation, identity,
idempotency and live profile updates) into the same table of the same database. Interleaving
keeps the two on equal footing as the table grows and as the machine's load changes.

HTTP ingest posts the same batches to ``POST /v1/events`` on a real server (one uvicorn
worker, another process) and is compared with the raw limit at the same batch size.

    .venv/bin/python benchmarks/ingest.py            # defaults: 100k events per measurement
    .venv/bin/python benchmarks/ingest.py --events 20000 --no-http
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

from limelight import Engine, Settings

TYPES = [
    ("impression", 0.40),
    ("click", 0.10),
    ("play_start", 0.12),
    ("play_progress", 0.10),
    ("play_complete", 0.08),
    ("skip", 0.06),
    ("rating", 0.05),
    ("search", 0.04),
    ("add_to_list", 0.03),
    ("identify", 0.02),
]
GENRES = ["Drama", "Comedy", "Action", "Thriller", "Romance", "Sci-Fi", "Horror", "Family", "Crime"]
DEVICES = ["tv", "mobile", "web", "tablet"]
ZONES = ["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC"]


def make_events(n: int, users: int, items: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    kinds, weights = zip(*TYPES, strict=True)
    start = time.time() - 30 * 86_400
    out = []
    for _ in range(n):
        kind = rng.choices(kinds, weights)[0]
        user = f"user{rng.randrange(users)}"
        body: dict[str, Any] = {
            "event_id": uuid.UUID(int=rng.getrandbits(128)).hex,
            "type": kind,
            "user_id": user,
            "timestamp": start + rng.uniform(0, 30 * 86_400),
            "context": {
                "device": rng.choice(DEVICES),
                "timezone": rng.choice(ZONES),
                "session_id": f"s{rng.randrange(users * 3)}",
            },
        }
        properties: dict[str, Any] = {}
        if kind == "search":
            properties["query"] = rng.choice(["space", "heist", "love", "dragons"])
        elif kind == "identify":
            body["traits"] = {"plan": rng.choice(["basic", "premium"])}
        else:
            properties["item_id"] = f"item{rng.randrange(items)}"
            if kind == "impression":
                properties["position"] = rng.randrange(20)
                properties["page_id"] = f"p{rng.getrandbits(40)}"
            if kind == "play_progress":
                properties["progress"] = round(rng.random(), 3)
            if kind == "rating":
                properties["rating"] = rng.randint(1, 5)
        body["properties"] = properties
        out.append(body)
    return out


def raw_rows(batch: list[dict[str, Any]], received_at: float) -> list[tuple[Any, ...]]:
    """The same rows the engine stores, as sqlite3 parameters (ids made distinct)."""
    rows = []
    for body in batch:
        properties = body["properties"]
        if "traits" in body:
            properties = {**properties, "traits": body["traits"]}
        rows.append(
            (
                body["event_id"] + "-raw",
                body["type"],
                body["user_id"],
                None,
                body["user_id"],
                properties.get("item_id"),
                None,
                body["context"]["session_id"],
                float(body["timestamp"]),
                received_at,
                orjson.dumps(body["context"]).decode(),
                orjson.dumps(properties).decode(),
            )
        )
    return rows


RAW_INSERT = (
    "INSERT INTO events (event_id, type, user_id, anonymous_id, person_id, item_id, decision_id,"
    " session_id, ts, received_at, context, properties) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)


def catalogue(items: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "item_id": f"item{i}",
            "title": f"Title {i}",
            "genres": rng.sample(GENRES, 2),
            "tags": [f"t{i % 50}"],
        }
        for i in range(items)
    ]


def measure_in_process(n: int, batch_size: int, seed: int) -> tuple[float, float]:
    """(raw rows/s, engine events/s) at this batch size, interleaved on one SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder))
        events = make_events(n, users=max(100, n // 20), items=2000, seed=seed)
        with Engine(settings) as engine:
            engine.upsert_items(catalogue(2000, seed))
            raw = sqlite3.connect(settings.data_dir / "limelight.sqlite", isolation_level=None)
            raw.execute("PRAGMA journal_mode=WAL")
            raw.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
            raw_time = engine_time = 0.0
            for start in range(0, n, batch_size):
                batch = events[start : start + batch_size]
                rows = raw_rows(batch, time.time())
                began = time.perf_counter()
                raw.execute("BEGIN IMMEDIATE")
                raw.executemany(RAW_INSERT, rows)
                raw.execute("COMMIT")
                raw_time += time.perf_counter() - began
                began = time.perf_counter()
                result = engine.ingest(batch)
                engine_time += time.perf_counter() - began
                assert result.accepted == len(batch), result.rejected[:3]
            raw.close()
    return n / raw_time, n / engine_time


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure_http(n: int, batch_size: int, seed: int) -> tuple[float, float]:
    """(raw rows/s, HTTP events/s): batches posted one after another to one uvicorn worker."""
    key = "bench-" + uuid.uuid4().hex
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder))
        events = make_events(n, users=max(100, n // 20), items=2000, seed=seed)
        with Engine(settings) as engine:
            engine.upsert_items(catalogue(2000, seed))
        port = free_port()
        env = {
            **os.environ,
            "LIMELIGHT_DATA_DIR": folder,
            "LIMELIGHT_API_KEYS": orjson.dumps([{"key": key, "scopes": ["ingest"]}]).decode(),
        }
        code = (
            "from limelight import Settings; from limelight.api.server import serve; "
            f"serve(Settings(), '127.0.0.1', {port})"
        )
        server = subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = httpx.Client(
                base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}
            )
            for _ in range(200):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            raw = sqlite3.connect(
                Path(folder) / "limelight.sqlite", isolation_level=None, timeout=30
            )
            raw.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
            raw_time = http_time = 0.0
            for start in range(0, n, batch_size):
                batch = events[start : start + batch_size]
                rows = raw_rows(batch, time.time())
                began = time.perf_counter()
                raw.execute("BEGIN IMMEDIATE")
                raw.executemany(RAW_INSERT, rows)
                raw.execute("COMMIT")
                raw_time += time.perf_counter() - began
                body = orjson.dumps({"batch": batch})
                began = time.perf_counter()
                response = client.post(
                    "/v1/events", content=body, headers={"Content-Type": "application/json"}
                )
                http_time += time.perf_counter() - began
                assert response.status_code == 200, response.text[:300]
            raw.close()
            client.close()
        finally:
            server.terminate()
            server.wait(10)
    return n / raw_time, n / http_time


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    version = sys.version.split()[0]
    print(f"sqlite {sqlite3.sqlite_version}, python {version}, {args.events} events per run")
    row("measurement", "batch", "raw rows/s", "limelight ev/s", "ratio", "target")
    for batch_size, target in ((500, None), (5000, 0.50)):
        raw, ours = measure_in_process(args.events, batch_size, args.seed)
        goal = f"{target:.0%}" if target else ""
        row("Engine.ingest (profiles updated)", batch_size, raw, ours, ours / raw, goal)
    if not args.no_http:
        raw, ours = measure_http(args.events, 500, args.seed)
        row("HTTP POST /v1/events (1 worker)", 500, raw, ours, ours / raw, "35%")


def row(name: str, batch: object, raw: object, ours: object, ratio: object, goal: str) -> None:
    """One line of the table (numbers formatted, headers passed through)."""

    def cell(value: object, spec: str) -> str:
        return format(value, spec) if isinstance(value, int | float) else str(value)

    print(
        f"{name:34} {cell(batch, ''):>6} {cell(raw, ',.0f'):>11} {cell(ours, ',.0f'):>15}"
        f" {cell(ratio, '.1%'):>7} {goal:>7}"
    )


if __name__ == "__main__":
    main()
