"""Throughput of the bandit policies and the decision service, side by side with Vowpal Wabbit.

Simulated, not measured on real traffic: every stream comes from the seeded artwork simulator
(``limelight.bandits.simulator``, default size: 2,000 users, 20 titles with 3-5 artworks each,
9 context terms and 2 action terms per candidate). Every figure of one table is measured in the
same run on the same machine, so read the ratios, not the absolute rates; each rate is the
median of ``--trials`` alternating trials.

Tables:

1. **Policies in-process** (no service, no database): decisions plus updates per second on the
   same stream, and the click rate over its last 20% (expected click probability of the chosen
   artworks). Vowpal Wabbit ``cb_explore_adf`` (epsilon 0.05, ``-q ca``) runs on the same
   stream with the same actions and features, when the ``vowpalwabbit`` package is installed.
   Issue 4's target: LinUCB and Thompson sampling at >= 50% of VW's rate with an equal or better
   click rate.
2. **decide vs decide_many**: decisions per second through ``DecisionService`` (validation,
   logging in the decision log included), one call per decision against pages of ``--page``
   decisions per call, on a model that has already learned.
3. **The whole loop through the service**: pages of decisions, clicks sent as events through
   ``Engine.ingest``, rewards from those events, defaults when the windows close.
4. With ``--http``: ``POST /v1/decisions`` against ``POST /v1/decisions/batch`` on a real server
   (uvicorn in a subprocess, one worker), from one client.

    .venv/bin/python benchmarks/bandits.py                  # about 2-3 minutes on 2 cores
    .venv/bin/python benchmarks/bandits.py --quick --http   # smaller streams, plus HTTP
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: threads only add overhead

import gc
import importlib
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from limelight import Engine, Settings
from limelight.api.server import GC_THRESHOLDS
from limelight.bandits import Policy
from limelight.bandits.points import DecisionPointSpec, build_policy
from limelight.bandits.service import DecisionRequest, DecisionService
from limelight.bandits.simulator import ArtworkSimulator, Round
from limelight.bandits.vw import VowpalWabbit, available

POLICIES: dict[str, dict[str, Any]] = {
    "linucb-shared": {"name": "linucb", "params": {"shared": True, "alpha": 0.3}},
    "thompson-shared": {"name": "thompson", "params": {"shared": True, "scale": 0.15}},
    "linucb": {"name": "linucb", "params": {"alpha": 0.3}},
    "epsilon-greedy-shared": {"name": "epsilon-greedy", "params": {"shared": True}},
}
VW_POLICY = {"name": "vw", "params": {"interactions": "ca"}}


def spec(name: str, policy: dict[str, Any], *, epsilon: float | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "policy": policy,
        "exploration": {"floor": 0.01, "epsilon": epsilon},
        "reward": {"window_s": 60.0},
        "seed": 1,
    }


def policy_of(definition: dict[str, Any]) -> Policy:
    return build_policy(DecisionPointSpec.model_validate(definition))


def median_rate(trials: int, run: Callable[[], tuple[int, float]]) -> float:
    rates = []
    for _ in range(trials):
        gc.collect()
        count, seconds = run()
        rates.append(count / seconds)
    return statistics.median(rates)


# -- 1. policies in-process ----------------------------------------------------------------


def play_policy(policy: Policy, rounds: list[Round]) -> tuple[float, float]:
    """Decisions plus updates per second, and the click rate of the last 20%."""
    expected = np.zeros(len(rounds))
    start = time.perf_counter()
    for step, situation in enumerate(rounds):
        decision = policy.rank(situation.context, situation.actions)
        index = next(i for i, a in enumerate(situation.actions) if a.id == decision.chosen)
        click = float(situation.draw < situation.probabilities[index])
        policy.learn_one(situation.context, situation.actions[index], click, decision.probability)
        expected[step] = situation.probabilities[index]
    seconds = time.perf_counter() - start
    tail = expected[-len(rounds) // 5 :]
    return len(rounds) / seconds, float(tail.mean())


def play_raw_vw(rounds: list[Round], seed: int = 1) -> tuple[float, float]:
    """Vowpal Wabbit by itself: predict the pmf, sample, learn; the same examples as ours."""
    vw = importlib.import_module("vowpalwabbit")
    workspace = vw.Workspace(
        "--cb_explore_adf --epsilon 0.05 -q ca --cb_type mtr --quiet --random_seed 1"
    )
    rng = random.Random(seed)
    expected = np.zeros(len(rounds))
    start = time.perf_counter()
    for step, situation in enumerate(rounds):
        # As lean as a caller can be: the example text built once (the label goes on the
        # chosen action's line for learning), the draw an inverse-CDF pick in plain floats.
        lines = VowpalWabbit.example(situation.context, situation.actions, {})
        pmf = workspace.predict(lines)
        point = rng.random() * sum(pmf)
        index, total = len(pmf) - 1, 0.0
        for position, mass in enumerate(pmf):
            total += mass
            if point < total:
                index = position
                break
        click = float(situation.draw < situation.probabilities[index])
        lines[index + 1] = f"0:{-click!r}:{float(pmf[index])!r} {lines[index + 1]}"
        workspace.learn(lines)
        expected[step] = situation.probabilities[index]
    seconds = time.perf_counter() - start
    workspace.finish()
    return len(rounds) / seconds, float(expected[-len(rounds) // 5 :].mean())


def _player(definition: dict[str, Any], rounds: list[Round]) -> Callable[[], tuple[float, float]]:
    """A fresh policy of ``definition`` playing ``rounds``, each time it is called."""
    return lambda: play_policy(policy_of(definition), rounds)


def table_policies(rounds: list[Round], trials: int) -> list[str]:
    uniform = float(np.mean([r.probabilities.mean() for r in rounds[-len(rounds) // 5 :]]))
    oracle = float(np.mean([r.probabilities.max() for r in rounds[-len(rounds) // 5 :]]))
    players = {
        name: _player(spec(name, definition), rounds) for name, definition in POLICIES.items()
    }
    if available():
        players["vw (our wrapper)"] = _player(spec("vw", VW_POLICY, epsilon=0.05), rounds)
        players["vw cb_explore_adf (raw)"] = lambda: play_raw_vw(rounds)
    rates: dict[str, list[float]] = {name: [] for name in players}
    clicks: dict[str, float] = {}
    for _ in range(trials):  # alternating, so that load from elsewhere hits every row alike
        for name, play in players.items():
            gc.collect()
            rate, clicks[name] = play()  # the same seeds: the same choices in every trial
            rates[name].append(rate)
    rows = [(name, statistics.median(rates[name]), clicks[name]) for name in players]
    reference = rows[-1][1] if available() else None
    lines = [
        f"### 1. Policies in-process: {len(rounds):,} decisions + updates each",
        "",
        "| policy | decisions+updates/s | vs raw VW | click rate (last 20%) | vs uniform |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, rate, click_rate in rows:
        versus = f"{rate / reference:.2f}x" if reference else "-"
        lines.append(
            f"| {name} | {rate:,.0f} | {versus} | {click_rate:.4f} | {click_rate / uniform:.2f}x |"
        )
    lines.append(f"| uniform (expected) | - | - | {uniform:.4f} | 1.00x |")
    lines.append(f"| oracle (expected) | - | - | {oracle:.4f} | {oracle / uniform:.2f}x |")
    if not available():
        lines.append("")
        lines.append("Vowpal Wabbit is not installed here (pip install 'vowpalwabbit>=9.11,<10').")
    return lines


# -- 2. decide vs decide_many --------------------------------------------------------------


def warm(service: DecisionService, name: str, rounds: list[Round]) -> None:
    """Teach the point on ``rounds`` (decisions in pages, a reward each, one transaction per
    page through the events path) so that models and vocabularies are at their working size."""
    for start in range(0, len(rounds), 500):
        block = rounds[start : start + 500]
        results = service.decide_many(name, [DecisionRequest(r.context, r.actions) for r in block])
        outcomes = []
        for situation, result in zip(block, results, strict=True):
            index = [a.id for a in situation.actions].index(result.action)
            outcomes.append(float(situation.draw < situation.probabilities[index]))
        for result, value in zip(results, outcomes, strict=True):
            service.reward(result.decision_id, value, reward_id=f"warm-{result.decision_id}")


def table_decide(
    engine: Engine, service: DecisionService, rounds: list[Round], page: int, trials: int
) -> list[str]:
    warmup, measured = rounds[:1000], rounds[1000:]
    lines = [
        f"### 2. decide vs decide_many: {len(measured):,} decisions per trial, pages of {page}",
        "",
        "| point's policy | decide/s | decide_many/s | decide_many / decide |",
        "|---|---:|---:|---:|",
    ]
    definitions = dict(POLICIES)
    if available():
        definitions["vw"] = VW_POLICY
    for name, definition in definitions.items():
        epsilon = 0.05 if definition["name"] in ("vw",) else None
        service.configure(spec(name, definition, epsilon=epsilon))
        warm(service, name, warmup)

        def one_by_one(name: str = name) -> tuple[int, float]:
            start = time.perf_counter()
            for situation in measured:
                service.decide(name, situation.context, situation.actions)
            seconds = time.perf_counter() - start
            engine.decisions.flush()
            return len(measured), seconds

        def in_pages(name: str = name) -> tuple[int, float]:
            start = time.perf_counter()
            for first in range(0, len(measured), page):
                block = measured[first : first + page]
                service.decide_many(name, [DecisionRequest(r.context, r.actions) for r in block])
            seconds = time.perf_counter() - start
            engine.decisions.flush()
            return len(measured), seconds

        single_rates, page_rates = [], []
        for _ in range(trials):  # alternating, so that load from elsewhere hits both alike
            single_rates.append(median_rate(1, one_by_one))
            page_rates.append(median_rate(1, in_pages))
        single, paged = statistics.median(single_rates), statistics.median(page_rates)
        lines.append(f"| {name} | {single:,.0f} | {paged:,.0f} | {paged / single:.1f}x |")
    return lines


# -- 3. the whole loop ---------------------------------------------------------------------


def table_loop(
    engine: Engine, service: DecisionService, rounds: list[Round], page: int
) -> list[str]:
    lines = [
        f"### 3. The loop through the service: {len(rounds):,} decisions in pages of {page}, "
        "clicks as events through Engine.ingest",
        "",
        "| point's policy | decisions/s (decide_many + ingest + window close) "
        "| click rate (last 20%) | vs uniform |",
        "|---|---:|---:|---:|",
    ]
    tail = rounds[-len(rounds) // 5 :]
    uniform = float(np.mean([r.probabilities.mean() for r in tail]))
    clock = [time.time() + 3600.0]
    service.clock = lambda: clock[0]
    service.close_windows()  # what table 2 left open is not this table's work
    definitions = {
        "linucb-shared": POLICIES["linucb-shared"],
        "thompson-shared": POLICIES["thompson-shared"],
        "uniform": {"name": "uniform", "params": {}},
    }
    for name, definition in definitions.items():
        point_name = f"loop-{name}"
        service.configure(spec(point_name, definition))
        expected = np.zeros(len(rounds))
        clicks = 0
        start = time.perf_counter()
        for first in range(0, len(rounds), page):
            block = rounds[first : first + page]
            results = service.decide_many(
                point_name,
                [DecisionRequest(r.context, r.actions, person_id=f"u{r.user}") for r in block],
            )
            events = []
            for offset, (situation, result) in enumerate(zip(block, results, strict=True)):
                index = [a.id for a in situation.actions].index(result.action)
                expected[first + offset] = situation.probabilities[index]
                if situation.draw < situation.probabilities[index]:
                    clicks += 1
                    events.append(
                        {
                            "event_id": f"{point_name}-{clicks}",
                            "type": "click",
                            "user_id": f"u{situation.user}",
                            "properties": {
                                "item_id": f"t{situation.title}",
                                "decision_id": result.decision_id,
                            },
                        }
                    )
            if events:
                engine.ingest(events)
            clock[0] += 61
            service.close_windows()
        seconds = time.perf_counter() - start
        rate = float(expected[-len(tail) :].mean())
        lines.append(
            f"| {name} | {len(rounds) / seconds:,.0f} | {rate:.4f} | {rate / uniform:.2f}x |"
        )
    return lines


# -- 4. over HTTP --------------------------------------------------------------------------

_SERVE = (
    "import sys\n"
    "from limelight.api.server import serve\n"
    "from limelight.config import Settings\n"
    "serve(Settings(), '127.0.0.1', int(sys.argv[1]))\n"
)


def table_http(rounds: list[Round], page: int, trials: int) -> list[str]:
    import httpx
    import orjson

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="limelight-bandits-http-")
    key = "benchmark-admin-key-0001"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIMELIGHT_")}
    env["LIMELIGHT_DATA_DIR"] = folder
    env["LIMELIGHT_API_KEYS"] = orjson.dumps([{"key": key, "scopes": ["admin"]}]).decode()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start")
                time.sleep(0.2)
            definition = spec("artwork", POLICIES["linucb-shared"])
            client.put("/v1/decision-points/artwork", json=definition).raise_for_status()

            def body(situation: Round) -> dict[str, Any]:
                return {
                    "context": dict(situation.context),
                    "actions": [
                        {"id": a.id, "features": dict(a.features)} for a in situation.actions
                    ],
                }

            measured = rounds[: max(page * 4, 1000)]

            def single() -> tuple[int, float]:
                start = time.perf_counter()
                for situation in measured:
                    response = client.post(
                        "/v1/decisions", json={"point": "artwork", **body(situation)}
                    )
                    response.raise_for_status()
                return len(measured), time.perf_counter() - start

            def paged() -> tuple[int, float]:
                start = time.perf_counter()
                for first in range(0, len(measured), page):
                    block = [body(s) for s in measured[first : first + page]]
                    response = client.post(
                        "/v1/decisions/batch", json={"point": "artwork", "requests": block}
                    )
                    response.raise_for_status()
                return len(measured), time.perf_counter() - start

            one = median_rate(trials, single)
            many = median_rate(trials, paged)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return [
        f"### 4. Over HTTP (one client, one server worker, linucb-shared, {len(measured):,} "
        "decisions per trial)",
        "",
        "| route | decisions/s | ratio |",
        "|---|---:|---:|",
        f"| POST /v1/decisions | {one:,.0f} | 1.0x |",
        f"| POST /v1/decisions/batch ({page} per call) | {many:,.0f} | {many / one:.1f}x |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=20_000, help="stream of table 1")
    parser.add_argument("--loop", type=int, default=6_000, help="stream of table 3")
    parser.add_argument("--page", type=int, default=200)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--http", action="store_true", help="also measure over HTTP")
    parser.add_argument("--quick", action="store_true", help="smaller streams (a smoke run)")
    parser.add_argument("--out", type=Path, help="also write the tables to this Markdown file")
    args = parser.parse_args()
    if args.quick:
        args.decisions, args.loop, args.trials = 4_000, 2_000, 1
    # As ``limelight serve`` runs: a young generation sized for a server's many short-lived
    # objects (the decision log buffer keeps thousands of records alive, which the default
    # thresholds would walk again and again).
    gc.set_threshold(*GC_THRESHOLDS)
    simulator = ArtworkSimulator(seed=0)
    stream = simulator.rounds(args.decisions, seed=1)
    report = [
        "## Bandit throughput (simulated artwork stream; ratios measured in the same run)",
        "",
        f"Python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}.",
        "",
    ]
    report += [*table_policies(stream, args.trials), ""]
    print("\n".join(report), flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="limelight-bandits-") as folder,
        Engine(Settings(data_dir=Path(folder))) as engine,
    ):
        # The engine's own service (already listening to ingested events); the tables close
        # reward windows themselves, so no background sweep.
        service = engine.bandits
        service.sweep = "off"
        rounds = simulator.rounds(1000 + 2000 * (1 if args.quick else 2), seed=2)
        second = [*table_decide(engine, service, rounds, args.page, args.trials), ""]
        print("\n".join(second), flush=True)
        third = [*table_loop(engine, service, simulator.rounds(args.loop, seed=3), args.page), ""]
        print("\n".join(third), flush=True)
    report += second + third
    if args.http:
        fourth = table_http(simulator.rounds(2000, seed=4), args.page, args.trials)
        print("\n".join(fourth), flush=True)
        report += fourth
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(report) + "\n")


if __name__ == "__main__":
    main()
