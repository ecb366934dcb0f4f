"""Progress bars for training and evaluation: one Rich bar per stage, on stderr.

Library code reports progress through :class:`Stages` whether or not anyone watches; with
``enabled=False`` every call is a no-op, so tests and servers stay quiet and pay nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class Stages:
    """A context manager that draws one bar per stage (``stage``) while it is open."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None

    def __enter__(self) -> Stages:
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    @contextmanager
    def stage(self, description: str, total: int | None = 1) -> Iterator[Step]:
        """A bar for one stage; the yielded :class:`Step` advances it. Completed on exit."""
        progress = self._progress
        task = None if progress is None else progress.add_task(description, total=total)
        step = Step(progress, task)
        yield step
        if progress is not None and task is not None:
            progress.update(task, completed=total if total is not None else 1, total=total or 1)


class Step:
    """Advances one stage's bar (a no-op when progress is off)."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress = progress
        self._task = task

    def advance(self, amount: float = 1.0) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)

    def describe(self, description: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=description)
