"""Pages: the homepage (rows in context, artwork per tile, reasons), mood queues and page KPIs.

Why a package of its own: a page composes the recommendation service (titles), the decision
service (artwork per tile) and the decision log (one page id that impressions, clicks and plays
join back to); none of those should know about rows. Names are imported on first use so that
importing :mod:`limelight.pages` does not load numpy and the models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from limelight.pages.context import PageContext, page_context
    from limelight.pages.home import HomeService, attached
    from limelight.pages.kpis import PageKpis, page_kpis

_WHERE = {
    "PageContext": "context",
    "page_context": "context",
    "HomeService": "home",
    "attached": "home",
    "PageKpis": "kpis",
    "page_kpis": "kpis",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = ["HomeService", "PageContext", "PageKpis", "attached", "page_context", "page_kpis"]
