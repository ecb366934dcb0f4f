"""``limelight experiments ...`` run as users run it: a subprocess on a temporary data dir.

Once the sub-app is wired into ``limelight``, the commands run as ``python -m limelight
experiments``; until then as ``python -m limelight.experiments.cli``, the same Typer app.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from limelight import Engine, Settings
from limelight.experiments.attach import attached
from tests.experiments.builders import definition


def _command() -> list[str]:
    from limelight import cli

    wired = any(group.name == "experiments" for group in cli.app.registered_groups)
    if wired:
        return [sys.executable, "-m", "limelight", "experiments"]
    return [sys.executable, "-m", "limelight.experiments.cli"]


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LIMELIGHT_")}
    env.update(LIMELIGHT_DATA_DIR=str(data_dir), COLUMNS="200")
    return subprocess.run(
        [*_command(), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def assert_one_error_line(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in done.stderr + done.stdout
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_create_list_show_start_report_stop(tmp_path: Path) -> None:
    file = tmp_path / "home-rows.json"
    file.write_bytes(orjson.dumps(definition(layer="home", traffic_percent=50)))
    created = run(tmp_path, "create", str(file))
    assert created.returncode == 0, created.stderr
    assert "created experiment 'home-rows' (draft)" in created.stdout

    listed = run(tmp_path, "list")
    assert listed.returncode == 0 and "home-rows" in listed.stdout and "draft" in listed.stdout
    shown = orjson.loads(run(tmp_path, "show", "home-rows").stdout)
    assert shown["key"] == "home-rows" and shown["status"] == "draft"

    started = run(tmp_path, "start", "home-rows")
    assert started.returncode == 0, started.stderr
    assert "buckets 0-5000" in started.stdout
    assert "running" in run(tmp_path, "list", "--status", "running").stdout

    # units read their variants through the library, as the server would
    with Engine(Settings(data_dir=tmp_path)) as engine:
        service = attached(engine)
        exposed = [service.variant("home-rows", f"user-{n}") for n in range(300)]
    assert 100 < sum(found is not None for found in exposed) < 200  # half the traffic

    text = run(tmp_path, "report", "home-rows", "--plots", str(tmp_path / "plots"))
    assert text.returncode == 0, text.stderr
    assert "primary metric click_through" in text.stdout
    assert "sample ratio: ok" in text.stdout
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "home-rows-exposures.png",
        "home-rows-lift.png",
    ]
    as_json = run(tmp_path, "report", "home-rows", "--format", "json")
    body = orjson.loads(as_json.stdout)
    assert sum(body["exposures"].values()) == sum(found is not None for found in exposed)

    changes = tmp_path / "changes.json"
    changes.write_bytes(orjson.dumps({"hypothesis": "rows matter"}))
    assert run(tmp_path, "update", "home-rows", str(changes)).returncode == 0
    assert run(tmp_path, "stop", "home-rows").returncode == 0
    assert "stopped" in run(tmp_path, "list").stdout
    deleted = run(tmp_path, "delete", "home-rows", "--yes")
    assert deleted.returncode == 0 and "deleted experiment 'home-rows'" in deleted.stdout


_MOUNTED = """
import sys
from limelight import cli
from limelight.experiments.cli import experiments_app
if not any(group.name == "experiments" for group in cli.app.registered_groups):
    cli.app.add_typer(experiments_app, name="experiments")
cli.main(sys.argv[1:])
"""


def test_the_sub_app_mounts_under_limelight(tmp_path: Path) -> None:
    """Mounted as ``app.add_typer(experiments_app, name="experiments")``, it reads the root's
    ``--data-dir`` and its errors follow ``limelight``'s one-line rule."""
    elsewhere = tmp_path / "elsewhere"

    def limelight(*args: str) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("LIMELIGHT_")}
        env.update(LIMELIGHT_DATA_DIR=str(tmp_path / "unused"))
        command = [sys.executable, "-c", _MOUNTED, "--data-dir", str(elsewhere), *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)

    done = limelight("experiments", "holdout", "3")
    assert done.returncode == 0, done.stderr
    assert (elsewhere / "limelight.sqlite").exists() and not (tmp_path / "unused").exists()
    assert_one_error_line(limelight("experiments", "show", "nope"), "no experiment 'nope'")
    assert "report" in limelight("experiments").stdout


def test_power_and_holdout(tmp_path: Path) -> None:
    planned = run(tmp_path, "power", "--baseline", "0.1", "--mde", "0.1", "--daily-units", "1000")
    assert planned.returncode == 0, planned.stderr
    # +10% on a 10% rate, relative lift, 80% power: the stats package's sample_size, by day
    assert "units per variant: 16,232" in planned.stdout
    assert "units in total:    32,464" in planned.stdout
    assert "days:              33" in planned.stdout
    assert "global holdout: 0%" in run(tmp_path, "holdout").stdout
    assert "global holdout: 5%" in run(tmp_path, "holdout", "5").stdout
    assert "global holdout: 5%" in run(tmp_path, "holdout").stdout


def test_bad_input_is_one_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(orjson.dumps(definition(traffic_percent=0)))
    assert_one_error_line(run(tmp_path, "create", str(bad)), "traffic_percent")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert_one_error_line(run(tmp_path, "create", str(broken)), "not valid JSON")
    assert_one_error_line(run(tmp_path, "create", str(tmp_path / "nope.json")), "no such file")
    text = tmp_path / "exp.txt"
    text.write_text("key: x")
    assert_one_error_line(run(tmp_path, "create", str(text)), ".yaml, .yml or .json")
    assert_one_error_line(run(tmp_path, "show", "missing"), "no experiment 'missing'")
    assert_one_error_line(run(tmp_path, "start", "missing"), "no experiment 'missing'")
    assert_one_error_line(run(tmp_path, "report", "x", "--format", "xml"), "text or json")
    assert_one_error_line(run(tmp_path, "list", "--status", "paused"), "--status")
    assert_one_error_line(run(tmp_path, "power", "--baseline", "2", "--mde", "0.1"), "between 0")
    assert_one_error_line(run(tmp_path, "holdout", "90"), "0 to 50")
    good = tmp_path / "good.json"
    good.write_bytes(orjson.dumps(definition()))
    run(tmp_path, "create", str(good))
    assert_one_error_line(run(tmp_path, "create", str(good)), "already exists")
    assert_one_error_line(run(tmp_path, "delete", "home-rows"), "--yes")


@pytest.mark.skipif(importlib.util.find_spec("yaml") is None, reason="PyYAML is not installed")
def test_yaml_files(tmp_path: Path) -> None:
    file = tmp_path / "home-rows.yaml"
    file.write_text(
        "key: home-rows\n"
        "start_at: 2030-01-01\n"
        "variants:\n  - key: control\n  - key: treatment\n    weight: 2\n"
        "targeting:\n  device: {in: [tv]}\n  profile.counts.play_start: {gte: 5}\n"
        "metrics:\n  primary: [click_through]\n"
    )
    assert run(tmp_path, "create", str(file)).returncode == 0
    shown = orjson.loads(run(tmp_path, "show", "home-rows").stdout)
    assert shown["start_at"] == "2030-01-01T00:00:00Z"
    assert shown["variants"][1] == {
        "key": "treatment",
        "weight": 2.0,
        "parameters": {},
        "description": "",
    }
    assert shown["targeting"] == {
        "device": {"in": ["tv"]},
        "profile.counts.play_start": {"gte": 5},
    }
    broken = tmp_path / "broken.yaml"
    broken.write_text("key: [unclosed\n")
    assert_one_error_line(run(tmp_path, "create", str(broken)), "not valid YAML")
