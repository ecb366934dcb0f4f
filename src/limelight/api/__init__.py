"""The HTTP API (FastAPI): a thin layer over ``limelight.Engine``; see ``create_app``."""

from limelight.api.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
