"""The compute lane: CPU-bound answers (home pages, queues, recommendations) queue for it.

Composing a page is pure Python work that holds the GIL. In one worker process, eight pages on
eight threads at once finish no sooner than one after another, but every one of them is slower
(the threads take turns every few milliseconds and evict each other's caches) and the tail
stretches. Measured with ``benchmarks/home.py`` on MovieLens-100K: 87 pages/s with one
connection against 58 with eight, before this lane. So these routes wait, first come first
served (anyio's capacity limiter is fair), for one of ``LIMELIGHT_COMPUTE_THREADS`` threads
(default 1), while the event loop stays free to accept requests and answer health checks, and
ingest keeps the ordinary thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
from fastapi import FastAPI, Request

T = TypeVar("T")


def open_lane(app: FastAPI, threads: int) -> None:
    """Give the app its lane (inside the lifespan: a limiter belongs to the running loop)."""
    app.state.compute = anyio.CapacityLimiter(threads)


async def compute(request: Request, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``func(*args, **kwargs)`` on the lane's threads and wait for its answer."""
    limiter: anyio.CapacityLimiter = request.app.state.compute
    return await anyio.to_thread.run_sync(partial(func, *args, **kwargs), limiter=limiter)
