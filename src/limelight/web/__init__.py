"""The dashboard: server-rendered pages under ``/ui`` over the same ``Engine`` as the API.

Why a function and not a router: besides its routes, the dashboard needs a session signer in
``app.state`` and handlers that answer browsers with a login redirect or an HTML error page
instead of problem+json. ``install_web(app)`` does all three, so ``create_app`` grows by one
call. Nothing is imported here at module level: ``limelight.web.session`` imports the API's
dependencies, whose package imports the app factory, which imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["install_web"]


def install_web(app: FastAPI) -> None:
    """Add the dashboard's routes, its session signer and its HTML error handlers to ``app``."""
    from limelight.web.experiments import router as experiments
    from limelight.web.routes import install

    install(app)
    app.include_router(experiments)
