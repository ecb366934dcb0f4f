"""Run the API with uvicorn: one worker, one Engine, so SQLite keeps its single writer."""

from __future__ import annotations

import gc

import uvicorn
from threadpoolctl import threadpool_limits

from limelight.api.app import create_app
from limelight.config import Settings

#: The server allocates many short-lived containers per request (parsed JSON, events) while it
#: holds many long-lived ones (the profile cache). CPython's default gen-0 threshold (700) makes
#: it walk those again and again; a server process can afford a larger young generation.
GC_THRESHOLDS = (50_000, 20, 50)


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve until interrupted (SIGINT/SIGTERM shut down gracefully and close the Engine)."""
    # Per-request linear algebra is small: BLAS threads only add hand-off latency and fight
    # the server's own threads for the cores.
    threadpool_limits(limits=1)
    gc.set_threshold(*GC_THRESHOLDS)
    gc.freeze()  # what was loaded at start-up (modules, settings) is never garbage
    # Nor is what warming up built (the model, the catalogue, the charts): frozen too, so no
    # collection walks it again (on MovieLens-100K a full collection during start-up walked
    # 149k objects in 91 ms; one in the middle of serving stalls every page queued behind it).
    app = create_app(settings, on_ready=gc.freeze)
    uvicorn.run(app, host=host, port=port, workers=1, log_level="info")
