"""The ``limelight`` command, run as users run it: a subprocess of ``python -m limelight``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from limelight import Settings
from limelight.auth import KeyRing


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LIMELIGHT_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("LIMELIGHT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "limelight", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def assert_one_error_line(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in done.stderr + done.stdout
    for needle in needles:
        assert needle in lines[0]


def test_help(tmp_path: Path) -> None:
    done = run(tmp_path, "--help")
    assert done.returncode == 0
    for command in ("serve", "data", "import", "keys", "users", "--data-dir"):
        assert command in done.stdout
    assert run(tmp_path, "data", "--help").returncode == 0
    assert "--from" in run(tmp_path, "data", "fetch", "--help").stdout
    assert run(tmp_path, "keys").returncode == 0  # a group alone shows its help


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("import", "events", "missing.jsonl"), ("no such file", "missing.jsonl")),
        (("data", "fetch", "imdb-5m"), ("unknown data set 'imdb-5m'", "movielens-100k")),
        (("data", "load", "imdb-5m"), ("known: movielens-100k",)),
        (("keys", "create", "--scope", "superuser", "--name", "x"), ("scopes must be among",)),
        (("keys", "create", "--name", "x"), ("--scope",)),
        (("keys", "revoke", "nobody"), ("no stored key named 'nobody'",)),
        (("users", "erase", "someone"), ("--yes",)),
        (("users", "export", "someone"), ("someone",)),
        (("serve", "--port", "0"), ("--port",)),
        (("no-such-command",), ("no-such-command",)),
    ],
)
def test_bad_input_is_one_error_line(
    tmp_path: Path, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    assert_one_error_line(run(tmp_path, *args), *needles)


def test_bad_format_and_bad_source(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("")
    assert_one_error_line(
        run(tmp_path, "import", "events", str(events), "--format", "xml"), "jsonl, csv, parquet"
    )
    assert_one_error_line(
        run(tmp_path, "data", "fetch", "movielens-100k", "--from", str(tmp_path / "nope.zip")),
        "no such file or folder",
    )


def test_data_dir_option_wins(tmp_path: Path) -> None:
    chosen = tmp_path / "chosen"
    done = run(tmp_path / "env", "--data-dir", str(chosen), "keys", "create", "--scope", "read",
               "--name", "n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (chosen / "api_keys.json").is_file()
    assert not (tmp_path / "env" / "api_keys.json").exists()


def test_keys_lifecycle(tmp_path: Path) -> None:
    done = run(tmp_path, "keys", "create", "--scope", "admin", "--scope", "read", "--name", "ci")
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert done.stdout == key + "\n"  # only the key, so scripts can capture it
    ring = KeyRing(Settings(data_dir=tmp_path))
    info = ring.lookup(key)
    assert info is not None
    assert (info.name, info.scopes) == ("ci", frozenset({"admin", "read"}))
    listed = run(tmp_path, "keys", "list")
    assert listed.returncode == 0
    assert "ci" in listed.stdout and "admin, read" in listed.stdout
    assert key not in listed.stdout
    revoked = run(tmp_path, "keys", "revoke", "ci")
    assert revoked.returncode == 0, revoked.stderr
    assert KeyRing(Settings(data_dir=tmp_path)).lookup(key) is None


def test_import_events_prints_summary(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = {"event_id": "e1", "type": "play_start", "user_id": "ada",
            "properties": {"item_id": "m1"}}  # fmt: skip
    bad = {"event_id": "e2", "type": "rating", "user_id": "ada", "properties": {"item_id": "m1"}}
    path.write_text(f"{orjson.dumps(good).decode()}\nnot json\n{orjson.dumps(bad).decode()}\n")
    done = run(tmp_path, "import", "events", str(path))
    assert done.returncode == 0, done.stderr
    assert "imported events.jsonl (jsonl)" in done.stdout
    assert "rejected rows" in done.stdout
    assert "is not valid JSON" in done.stdout
    lines = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if "│" in line}
    assert lines["accepted"].rstrip(" │").endswith("1")
    assert lines["rejected"].rstrip(" │").endswith("2")
    assert "first lines" in done.stdout


def _tiny_official(folder: Path) -> None:
    """Two users and three titles in the official ml-100k layout."""
    folder.mkdir()
    (folder / "u.data").write_text(
        "1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t3\t4\t881250951\n2\t1\t2\t881250952\n"
    )
    genres = ["0"] * 19
    toy_story = genres.copy()
    toy_story[3] = toy_story[4] = toy_story[5] = "1"
    drama = genres.copy()
    drama[8] = "1"
    (folder / "u.item").write_text(
        f"1|Toy Story (1995)|01-Jan-1995||http://x|{'|'.join(toy_story)}\n"
        f"2|GoldenEye (1995)|01-Jan-1995||http://x|{'|'.join(drama)}\n"
        f"3|Four Rooms (1995)|01-Jan-1995||http://x|{'|'.join(drama)}\n",
        encoding="latin-1",
    )
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")


def test_data_fetch_load_export_erase(tmp_path: Path) -> None:
    source = tmp_path / "ml-100k"
    _tiny_official(source)
    data_dir = tmp_path / "data"
    fetched = run(data_dir, "data", "fetch", "movielens-100k", "--from", str(source))
    assert fetched.returncode == 0, fetched.stderr
    assert "movielens-100k is ready" in fetched.stdout
    assert (data_dir / "datasets" / "ml-100k" / "ratings.tsv").is_file()
    loaded = run(data_dir, "data", "load", "movielens-100k")
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded movielens-100k" in loaded.stdout
    assert "14" in loaded.stdout  # 4 ratings x 3 events + 2 identify events
    reloaded = run(data_dir, "data", "load", "movielens-100k")
    assert "duplicates" in reloaded.stdout and "14" in reloaded.stdout
    exported = run(data_dir, "users", "export", "1")
    assert exported.returncode == 0, exported.stderr
    body = orjson.loads(exported.stdout)
    assert len(body["core"]["events"]) == 7
    output = tmp_path / "user-1.json"
    assert run(data_dir, "users", "export", "1", "--output", str(output)).returncode == 0
    assert orjson.loads(output.read_bytes()) == body
    erased = run(data_dir, "users", "erase", "1", "--yes")
    assert erased.returncode == 0, erased.stderr
    assert_one_error_line(run(data_dir, "users", "export", "1"), "'1'")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_prints_url_and_serves(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "LIMELIGHT_DATA_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "limelight", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert f"http://127.0.0.1:{port}" in first
        assert f"http://127.0.0.1:{port}/docs" in first
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code
            except httpx.TransportError:
                time.sleep(0.2)
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
