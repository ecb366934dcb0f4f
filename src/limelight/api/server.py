"""Run the API with uvicorn: one worker, one Engine, so SQLite keeps its single writer."""

from __future__ import annotations

import uvicorn

from limelight.api.app import create_app
from limelight.config import Settings


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve until interrupted (SIGINT/SIGTERM shut down gracefully and close the Engine)."""
    uvicorn.run(create_app(settings), host=host, port=port, workers=1, log_level="info")
