"""Home page serving: saturation and open-loop latency of ``GET /v1/users/{id}/home`` over HTTP,
and a seeded simulated comparison of personalized vs popularity-only home click-through.

Serving: MovieLens-100K in a SQLite data dir with the models trained (as the demo leaves it),
served by ``limelight serve`` (one uvicorn worker, a subprocess), load from a
separate process (this file run with ``--load``: an asyncio HTTP/1.1 keep-alive client; wrk is
not installed here). Pages are 10 rows x 20 items with every tile's artwork decided by the
``artwork`` point (one ``decide_batch`` per page), cycling through the 943 users.

1. saturation, each person's first page: every one of the 943 users once, by ``--connections``
   connections, in a server that has kept nothing of theirs yet (their candidate pools and steady
   rows are computed inside these pages);
2. saturation, returning people: closed loop, ``--connections`` connections for ``--seconds``
   over the same users again, histories unchanged since their first page (what the server keeps,
   ``LIMELIGHT_KEPT_PEOPLE``, is reused: only the moment's ranking, the top picks' rules, the
   artwork decisions and the log are computed); the same against ``/healthz`` (the server's limit
   on this machine, same worker, same client);
3. latency: open loop (Poisson arrivals) at half the returning saturation rate for
   ``--latency-seconds`` (30: about 2,000 pages, so that the p99 rests on some twenty of them
   rather than the six or seven of a 10-second run); latency is measured from each request's
   *scheduled* time (no coordinated omission).

Targets (issue 5): >= 200 pages/s on one worker (printed for both kinds of page); p99 <= 50 ms
at half saturation. The load generator shares this machine's cores with the server, so the
figures are a lower bound. Pages
are composed one at a time, so at half saturation the server is a single-server queue at 50%
load, whose p99 is a multiple of the page time (printed beside a simulated M/D/1 and M/M/1):
the latency target asks for a page time of 50 ms over that multiple (6-8 ms at the 6.5-8.5x
measured here), the rate target for 5 ms.

Simulation (``--simulate``; "simulated" figures, not MovieLens): 300 seeded users with
Dirichlet genre tastes over a 240-title catalogue, each with a history of 15 plays drawn by
taste x popularity. A user views the first 3 rows x 6 tiles of a page and clicks a tile with
probability ``0.35 * taste[genre] / max(taste) * 0.85**position``. Personalized home (this
package) vs popularity-only home (the popular chart cut into the same
rows); page CTR = pages with >= 1 click / pages.

Reward sweep (``--sweep``, in-process): ``--pages`` pages composed, then every one of their
tiles' reward windows closed at once with the default (no clicks); tiles closed per second
against tiles composed per second in the same process.

Retention (``--retention``, in-process): ``--pages`` pages composed and their windows closed,
then their decisions made 40 days old and deleted by the retention
(``DecisionLog.prune``, 200 rows a transaction): pages deleted per second against pages composed
per second in the same process, and the SQLite file's size before, after, and after as many
pages again (freed pages are reused, so a log under retention stops growing).

Run: ``python benchmarks/home.py [--data-dir DIR] [--seconds 10] [--latency-seconds 30]
[--simulate] [--sweep] [--retention]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

KEY = "bench-read-key-0000000001"


# ----------------------------------------------------------------------------- load generator


async def _request(reader: Any, writer: Any, path: str) -> int:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nX-API-Key: {KEY}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def _closed(port: int, paths: list[str], connections: int, seconds: float) -> dict[str, Any]:
    done = 0
    errors = 0
    stop = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal done, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        index = offset
        while time.perf_counter() < stop:
            status = await _request(reader, writer, paths[index % len(paths)])
            index += connections
            done += 1
            errors += status != 200
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(connections)))
    elapsed = time.perf_counter() - start
    return {"rate": done / elapsed, "requests": done, "errors": errors}


async def _once(port: int, paths: list[str], connections: int) -> dict[str, Any]:
    """Each path once, by ``connections`` connections taking the next path as they free up."""
    errors = 0
    queue = iter(paths)

    async def worker() -> int:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        done = 0
        for path in queue:
            errors += await _request(reader, writer, path) != 200
            done += 1
        writer.close()
        return done

    start = time.perf_counter()
    done = sum(await asyncio.gather(*(worker() for _ in range(connections))))
    elapsed = time.perf_counter() - start
    return {"rate": done / elapsed, "requests": done, "errors": errors}


async def _open(
    port: int, paths: list[str], rate: float, seconds: float, connections: int
) -> dict[str, Any]:
    rng = random.Random(7)
    pool: asyncio.Queue[tuple[Any, Any]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    tasks = []

    async def one(scheduled: float, path: str) -> None:
        nonlocal errors
        connection = await pool.get()
        try:
            status = await _request(*connection, path)
        finally:
            pool.put_nowait(connection)
        latencies.append(time.perf_counter() - scheduled)
        errors += status != 200

    moment = start
    index = 0
    while moment < start + seconds:
        moment += rng.expovariate(rate)
        delay = moment - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(moment, paths[index % len(paths)])))
        index += 1
    await asyncio.gather(*tasks)
    values = sorted(latencies)
    return {
        "rate": rate,
        "requests": len(values),
        "errors": errors,
        "p50_ms": 1e3 * values[len(values) // 2],
        "p99_ms": 1e3 * values[min(len(values) - 1, int(0.99 * len(values)))],
        "mean_ms": 1e3 * statistics.fmean(values),
    }


def load_main(args: argparse.Namespace) -> None:
    paths = json.loads(Path(args.paths).read_text())
    if args.mode == "closed":
        found = asyncio.run(_closed(args.port, paths, args.connections, args.seconds))
    elif args.mode == "once":
        found = asyncio.run(_once(args.port, paths, args.connections))
    else:
        found = asyncio.run(_open(args.port, paths, args.rate, args.seconds, args.connections))
    print(json.dumps(found))


def run_load(port: int, paths: list[str], mode: str, seconds: float, **extra: Any) -> Any:
    """The load generator in its own process (so it does not share the server's GIL)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(paths, handle)
    command = [sys.executable, __file__, "--load", mode, "--paths", handle.name]
    command += ["--port", str(port), "--seconds", str(seconds)]
    for name, value in extra.items():
        command += [f"--{name}", str(value)]
    answer = subprocess.run(command, capture_output=True, text=True, check=False)
    if answer.returncode != 0:
        raise SystemExit(f"load generator failed:\n{answer.stderr}")
    os.unlink(handle.name)
    return json.loads(answer.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- server


def prepare(data_dir: Path) -> None:
    """MovieLens-100K loaded and the recommendation models trained, as the demo leaves it (a
    server without a model answers top picks from the live charts instead, which is cheaper)."""
    from limelight import Engine, Settings
    from limelight.datasets import movielens
    from limelight.recommend.training import TrainingConfig

    if (data_dir / "prepared").exists():
        return
    folder = movielens.fetch(Path("~/.cache/limelight-test-data").expanduser())
    with Engine(Settings(data_dir=data_dir)) as engine:
        movielens.load(engine, movielens.read(folder))
        engine.train(TrainingConfig(validate=False))
    (data_dir / "prepared").write_text("ok")


def serve(data_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIMELIGHT_")}
    env["LIMELIGHT_DATA_DIR"] = str(data_dir)
    env["LIMELIGHT_API_KEYS"] = json.dumps([{"key": KEY, "scopes": ["read"], "name": "bench"}])
    env["OPENBLAS_NUM_THREADS"] = "1"
    process = subprocess.Popen(  # as users run it: `limelight serve` (one worker)
        [sys.executable, "-m", "limelight", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process, port
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not start")


def bench_serving(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="limelight-home-"))
    prepare(data_dir)
    process, port = serve(data_dir)
    try:
        homes = [f"/v1/users/{u}/home?rows=10&per_row=20" for u in range(1, 944)]
        # Each person's first page in this server process: nothing of theirs is kept yet.
        first = run_load(port, homes, "once", 0, connections=args.connections)
        health = run_load(port, ["/healthz"], "closed", args.seconds, connections=args.connections)
        # Returning people, histories unchanged: their candidate pools are kept.
        home = run_load(port, homes, "closed", args.seconds, connections=args.connections)
        half = home["rate"] / 2
        latency = run_load(port, homes, "open", args.latency_seconds, rate=half, connections=64)
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(f"healthz saturation: {health['rate']:.0f} req/s ({health['errors']} errors)")
    print(
        f"home saturation, each person's first page: {first['rate']:.1f} pages/s "
        f"({first['requests']} pages, {first['errors']} errors) = "
        f"{first['rate'] / health['rate']:.3f} x healthz; target 200 pages/s: "
        f"{'met' if first['rate'] >= 200 else 'NOT met'}"
    )
    print(
        f"home saturation, returning people: {home['rate']:.1f} pages/s ({home['errors']} errors)"
        f" = {home['rate'] / health['rate']:.3f} x healthz; target 200 pages/s: "
        f"{'met' if home['rate'] >= 200 else 'NOT met'}"
    )
    print(
        f"open loop at {half:.1f} pages/s: p50 {latency['p50_ms']:.1f} ms, "
        f"p99 {latency['p99_ms']:.1f} ms ({latency['requests']} pages); target p99 <= 50 ms: "
        f"{'met' if latency['p99_ms'] <= 50 else 'NOT met'}"
    )
    # One page at a time (the compute lane) with Poisson arrivals at half the saturation rate
    # is a single-server queue at 50% load: its p99 is a multiple of the page's service time,
    # so the latency target asks for about the same page time as the rate target.
    service_ms = 1e3 / home["rate"]
    print(
        f"page service time at saturation {service_ms:.1f} ms; p99 at half load = "
        f"{latency['p99_ms'] / service_ms:.1f} x that (a single-server queue at 50% load, "
        f"simulated: {queue_p99(constant=True):.1f}x with constant service times, "
        f"{queue_p99(constant=False):.1f}x with exponential ones)"
    )


def queue_p99(*, constant: bool, load: float = 0.5, jobs: int = 200_000) -> float:
    """p99 time in system, in service times, of a FIFO single-server queue with Poisson
    arrivals (M/D/1 when ``constant``, else M/M/1), simulated with a fixed seed."""
    rng = random.Random(11)
    arrival = free = 0.0
    spent = []
    for _ in range(jobs):
        arrival += rng.expovariate(load)
        free = max(arrival, free) + (1.0 if constant else rng.expovariate(1.0))
        spent.append(free - arrival)
    spent.sort()
    return spent[int(0.99 * jobs)]


# ----------------------------------------------------------------------------- reward sweep


def bench_sweep(args: argparse.Namespace) -> None:
    """In one process with the server's GC settings: compose ``--pages`` home pages (every
    tile an artwork decision), then close all their reward windows at once (an hour later:
    every tile unrewarded, the default learned), and compare the rates. A worker keeps up when
    closing a second's tiles takes well under a second. Then, on copies of the same log, the
    same backlog swept in a background thread while pages are composed, unpaced and paced
    (``sweep_share`` 0.5, as the server's sweep runs): pages per second meanwhile."""
    import gc
    import shutil

    from limelight import Engine, Settings
    from limelight.api.server import GC_THRESHOLDS

    source = Path(args.data_dir or tempfile.mkdtemp(prefix="limelight-home-"))
    prepare(source)
    scratch = Path(tempfile.mkdtemp(prefix="limelight-sweep-"))
    work = scratch / "data"
    shutil.copytree(source, work)  # the served pages stay out of the shared data dir
    gc.set_threshold(*GC_THRESHOLDS)
    with Engine(Settings(data_dir=work)) as engine:
        service = _warm_home(engine)
        gc.freeze()
        tiles = 0
        started = time.perf_counter()
        for k in range(args.pages):
            page = service.home(str(k % 943 + 1), rows=10, per_row=20)
            tiles += sum(len(row["items"]) for row in page["rows"])
        serving = time.perf_counter() - started
    copies = {name: scratch / name for name in ("unpaced", "paced")}
    for copy in copies.values():
        shutil.copytree(work, copy)
    with Engine(Settings(data_dir=work)) as engine:
        started = time.perf_counter()
        closed = engine.bandits.close_windows(now=time.time() + 7200)
        sweeping = time.perf_counter() - started
    served_rate, closed_rate = tiles / serving, closed / sweeping
    print(
        f"composed {args.pages} pages ({tiles} tiles) at {args.pages / serving:.1f} pages/s "
        f"= {served_rate:,.0f} tiles/s; closed {closed} reward windows at {closed_rate:,.0f} "
        f"tiles/s = {closed_rate / served_rate:.2f} x the rate pages make them"
    )
    for name, copy in copies.items():
        with Engine(Settings(data_dir=copy)) as engine:
            service = _warm_home(engine)
            done: list[int] = []
            # The windows of the pages composed before now, not of those composed meanwhile.
            window = engine.bandits.point("artwork").reward.window_s
            sweeper = threading.Thread(
                target=_sweep, args=(engine, time.time() + window, name == "paced", done)
            )
            composed = 0
            started = time.perf_counter()
            sweeper.start()
            while sweeper.is_alive():
                service.home(str(composed % 943 + 1), rows=10, per_row=20)
                composed += 1
            elapsed = time.perf_counter() - started
        print(
            f"{name} background sweep: {done[0]} windows in {elapsed:.1f} s "
            f"({done[0] / elapsed:,.0f} tiles/s) while pages were composed at "
            f"{composed / elapsed:.1f} pages/s = {composed / elapsed / (args.pages / serving):.2f} "
            "x the rate without a sweep"
        )
    shutil.rmtree(scratch, ignore_errors=True)


def bench_retention(args: argparse.Namespace) -> None:
    """In one process: compose ``--pages`` pages, close their windows, age their decisions by
    40 days and prune them; the rates compared, and the file's size through it."""
    import shutil

    from sqlalchemy import func, select, update

    from limelight import Engine, Settings
    from limelight.storage.schema import decisions

    source = Path(args.data_dir or tempfile.mkdtemp(prefix="limelight-home-"))
    prepare(source)
    scratch = Path(tempfile.mkdtemp(prefix="limelight-retention-"))
    work = scratch / "data"
    shutil.copytree(source, work)

    def compose(engine: Any, count: int) -> float:
        service = _warm_home(engine)
        started = time.perf_counter()
        for k in range(count):
            service.home(str(k % 943 + 1), rows=10, per_row=20)
        return time.perf_counter() - started

    def size() -> float:  # MB, read with every engine closed (the WAL checkpointed)
        return sum(f.stat().st_size for f in work.glob("limelight.sqlite*")) / 2**20

    first = size()
    with Engine(Settings(data_dir=work)) as engine:
        composing = compose(engine, args.pages)
        engine.decisions.flush()
        engine.bandits.close_windows(now=time.time() + 7200)
        with engine.database.write() as connection:
            rows = connection.execute(select(func.count()).select_from(decisions)).scalar_one()
            pages = connection.execute(
                select(func.count()).select_from(decisions).where(decisions.c.kind == "page")
            ).scalar_one()
            aged = decisions.c.created_at - 40 * 86_400
            connection.execute(update(decisions).values(created_at=aged))
    full = size()
    with Engine(Settings(data_dir=work)) as engine:
        started = time.perf_counter()
        gone = engine.decisions.prune()
        pruning = time.perf_counter() - started
    after = size()
    with Engine(Settings(data_dir=work)) as engine:
        compose(engine, args.pages)
        engine.decisions.flush()
    again = size()
    made, deleted = args.pages / composing, pages * gone / rows / pruning
    print(
        f"retention: {gone} of {rows} decision rows ({pages} pages: each page's row and its "
        f"tiles' batch row) deleted in {pruning:.2f} s = {deleted:.0f} pages/s = "
        f"{deleted / made:.1f} x the rate the same process composes them ({made:.1f} pages/s)"
    )
    print(
        f"retention: the first {pages} pages grew the file by {full - first:.1f} MB "
        f"({(full - first) * 1024 / pages:.0f} KB a page); after the prune "
        f"({after:.0f} MB), {pages} more grew it by {again - after:.1f} MB "
        f"= {(again - after) / max(full - first, 1e-9):.2f} x (freed pages reused)"
    )
    shutil.rmtree(scratch, ignore_errors=True)


def _sweep(engine: Any, now: float, paced: bool, done: list[int]) -> None:
    done.append(engine.bandits.close_windows(now=now, paced=paced))


def _warm_home(engine: Any) -> Any:
    """The engine's home service with its model, catalogue and artwork table loaded."""
    from limelight.pages import home as homes

    service = homes.attached(engine)
    service.warm()
    for user in range(1, 21):
        service.home(str(user), rows=10, per_row=20)
    return service


# ----------------------------------------------------------------------------- simulation


def simulate(seed: int = 7, users: int = 300, titles: int = 240, pages: int = 3) -> None:
    import numpy as np

    from limelight import Engine, Settings
    from limelight.datasets.artwork import variants
    from limelight.pages.home import attached

    genres = ["Comedy", "Horror", "Drama", "Action", "Romance", "Sci-Fi", "Documentary", "Crime"]
    rng = np.random.default_rng(seed)
    genre_of = {f"t{i:03d}": genres[i % len(genres)] for i in range(titles)}
    appeal = rng.pareto(1.5, titles) + 1.0
    tastes = rng.dirichlet([0.3] * len(genres), users)
    base = 1_700_000_000.0
    with Engine(Settings(data_dir=tempfile.mkdtemp(prefix="limelight-sim-"))) as engine:
        engine.upsert_items(
            [
                {
                    "item_id": item,
                    "title": item,
                    "genres": [genre],
                    "release_year": 1950 + i % 70,
                    "artwork": [a.model_dump() for a in variants(item, [genre])],
                }
                for i, (item, genre) in enumerate(genre_of.items())
            ]
        )
        ids = list(genre_of)
        column = np.asarray([genres.index(genre_of[i]) for i in ids])
        batch = []
        for u in range(users):
            weights = tastes[u][column] * appeal
            picks = rng.choice(titles, 15, replace=False, p=weights / weights.sum())
            for k, p in enumerate(picks):
                batch.append(
                    {
                        "event_id": f"s{u}-{k}",
                        "type": "play_start",
                        "user_id": f"u{u}",
                        "timestamp": base + u * 60 + k,
                        "properties": {"item_id": ids[int(p)]},
                    }
                )
        engine.ingest(batch)
        service = attached(engine)
        charts = service.charts.get()

        def clicks(u: int, page_rows: list[list[str]]) -> bool:
            taste = tastes[u] / tastes[u].max()
            for row in page_rows[:3]:
                for position, item in enumerate(row[:6]):
                    chance = 0.35 * taste[genres.index(genre_of[item])] * 0.85**position
                    if rng.random() < chance:
                        return True
            return False

        personal = popular = 0
        for _ in range(pages):
            for u in range(users):
                page = service.home(f"u{u}", at=base + 86_400.0, rows=10, per_row=20)
                personal += clicks(u, [[t["item_id"] for t in r["items"]] for r in page["rows"]])
                chart = [i for i, _ in charts.popular]
                popular += clicks(u, [chart[k * 20 : (k + 1) * 20] for k in range(10)])
        total = pages * users
        print(
            f"simulated page CTR (seed {seed}, {users} users x {pages} pages): personalized "
            f"{personal / total:.3f}, popularity-only {popular / total:.3f}, "
            f"ratio {personal / max(popular, 1):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", choices=["closed", "open", "once"])
    parser.add_argument("--paths")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--latency-seconds", type=float, default=30.0)
    parser.add_argument("--data-dir")
    parser.add_argument("--simulate", action="store_true")
    parser.add_argument("--no-serving", action="store_true")
    parser.add_argument("--sweep", action="store_true", help="also time the reward sweep")
    parser.add_argument("--pages", type=int, default=1000, help="pages for --sweep")
    parser.add_argument("--retention", action="store_true", help="also time the retention")
    args = parser.parse_args()
    if args.load:
        args.mode = args.load
        load_main(args)
        return
    if not args.no_serving:
        bench_serving(args)
    if args.sweep:
        bench_sweep(args)
    if args.retention:
        bench_retention(args)
    if args.simulate:
        simulate()


if __name__ == "__main__":
    main()
