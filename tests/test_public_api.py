"""The public surface is exactly what ``__all__`` says (httpx's habit)."""

from __future__ import annotations

import limelight


def test_all_is_exact() -> None:
    public = {name for name in dir(limelight) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(limelight, name)).__name__ == "module"}
    assert set(limelight.__all__) == (public - modules) | {"__version__"}


def test_version_matches_package_metadata() -> None:
    from importlib.metadata import version

    assert limelight.__version__ == version("limelight")
