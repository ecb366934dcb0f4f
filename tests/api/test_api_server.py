"""What only a real server shows: concurrent duplicates, and a crash in mid-stream.

Each test starts ``limelight.api.server.serve`` in a subprocess on 127.0.0.1, configured only
through ``LIMELIGHT_*`` variables, on the SQLite file or PostgreSQL database of the backend.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from limelight import Engine, Settings
from limelight.storage.schema import events

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

USERS = [f"viewer-{n}" for n in range(10)]
KINDS = ["play_start", "click", "add_to_list", "play_complete"]


def batch_of(prefix: str, size: int = 200) -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"{prefix}-{n}",
            "type": KINDS[n % len(KINDS)],
            "user_id": USERS[n % len(USERS)],
            "properties": {"item_id": f"film-{n % 7}"},
        }
        for n in range(size)
    ]


def stored_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Events per person and type, straight from the events table."""
    query = select(events.c.person_id, events.c.type, func.count()).group_by(
        events.c.person_id, events.c.type
    )
    found: dict[str, dict[str, int]] = {}
    with engine.database.read() as connection:
        for person_id, kind, n in connection.execute(query):
            found.setdefault(person_id, {})[kind] = n
    return found


def assert_profiles_match_events(engine: Engine) -> None:
    """Every profile counts exactly the events stored for its person, no more, no less."""
    stored = stored_counts(engine)
    for person_id in USERS:
        expected = stored.get(person_id, {})
        if expected:
            assert engine.profile(person_id)["counts"] == expected, person_id


def test_the_same_batch_sent_concurrently_is_stored_once(
    live_server, api_settings: Settings, keys
) -> None:
    live_server.start()
    batch = batch_of("dup")
    senders = 8
    barrier = threading.Barrier(senders)

    def send(_: int) -> dict[str, Any]:
        with httpx.Client(base_url=live_server.url, headers=keys.bearer("ingest"), timeout=60) as c:
            assert c.get("/healthz").status_code == 200  # connection open before the race
            barrier.wait()
            response = c.post("/v1/events", json={"batch": batch})
        assert response.status_code == 200, response.text
        return dict(response.json())

    with ThreadPoolExecutor(senders) as pool:
        answers = list(pool.map(send, range(senders)))
    assert sum(answer["accepted"] for answer in answers) == len(batch)
    assert sum(answer["duplicates"] for answer in answers) == len(batch) * (senders - 1)

    expected = Counter((event["user_id"], event["type"]) for event in batch)
    with Engine(api_settings) as engine:
        assert engine.event_count() == len(batch)
        for user in USERS:
            counts = {kind: n for (who, kind), n in expected.items() if who == user}
            assert engine.profile(user)["counts"] == counts
        assert_profiles_match_events(engine)
    with httpx.Client(base_url=live_server.url, headers=keys.bearer("read")) as c:
        profile = c.get(f"/v1/users/{USERS[0]}/profile").json()
    assert sum(profile["counts"].values()) == len(batch) // len(USERS)


def test_acknowledged_events_survive_a_crash(live_server, api_settings: Settings, keys) -> None:
    live_server.start()
    acknowledged: list[str] = []
    refused: list[str] = []
    cut_off = threading.Event()  # set when a request failed because the server was gone
    stop = threading.Event()

    def stream() -> None:
        with httpx.Client(base_url=live_server.url, headers=keys.bearer("ingest"), timeout=30) as c:
            for n in range(100_000):
                if stop.is_set():
                    return
                batch = batch_of(f"crash-{n}")
                try:
                    response = c.post("/v1/events", json=batch)
                except httpx.TransportError:
                    cut_off.set()
                    return
                if response.status_code != 200:
                    refused.append(response.text)
                    return
                acknowledged.extend(event["event_id"] for event in batch)

    streamer = threading.Thread(target=stream)
    streamer.start()
    time.sleep(1.0)
    live_server.kill()
    streamer.join(timeout=60)
    stop.set()
    assert not streamer.is_alive()
    assert refused == []
    assert cut_off.is_set(), "the stream had stopped before the crash"
    assert len(acknowledged) >= 200, "no batch was acknowledged before the crash"

    live_server.start()  # same database, fresh process
    with Engine(api_settings) as engine:
        with engine.database.read() as connection:
            stored = set(connection.execute(select(events.c.event_id)).scalars())
        missing = set(acknowledged) - stored
        assert not missing, f"{len(missing)} acknowledged events were lost"
        # Nothing half-applied: whatever was stored is whole batches, each profile agrees.
        assert len(stored) % 200 == 0
        assert_profiles_match_events(engine)
    with httpx.Client(base_url=live_server.url, headers=keys.bearer("ingest")) as c:
        resent = c.post("/v1/events", json=batch_of("crash-0"))
    assert resent.json()["accepted"] == 0  # idempotent across the restart
