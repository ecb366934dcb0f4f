"""One progress seam for fetch, load and import, so library code stays quiet unless asked.

Bars go to stderr: stdout is kept for results that scripts capture (tables, keys, JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

Advance = Callable[[int], None]


def _ignore(_steps: int) -> None:
    return None


@contextmanager
def progress_bar(
    description: str, total: int | None, *, enabled: bool, in_bytes: bool = False
) -> Iterator[Advance]:
    """Yield ``advance(n)``; draws a Rich bar on stderr only when ``enabled``.

    The bar is completed when the block ends normally, whatever was counted.
    """
    if not enabled:
        yield _ignore
        return
    columns = (
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn() if in_bytes else MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=total)

        def advance(steps: int) -> None:
            bar.advance(task, steps)

        yield advance
        if total is not None:
            bar.update(task, completed=total)


@contextmanager
def status(message: str, *, enabled: bool) -> Iterator[None]:
    """A spinner for a step of unknown length (a download), on stderr when ``enabled``."""
    if not enabled:
        yield
        return
    with Console(stderr=True).status(message):
        yield
