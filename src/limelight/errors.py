"""Typed errors. The API maps each to an HTTP status; the CLI prints its message on one line."""

from __future__ import annotations


class LimelightError(Exception):
    """Base class of every error Limelight raises on purpose."""

    status: int = 400
    title: str = "Bad request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(LimelightError):
    """Input that cannot be accepted; ``field`` names the offending field."""

    status = 422
    title = "Invalid input"


class InvalidEvent(InvalidInput):
    """An event that fails validation."""


class NotFound(LimelightError):
    """A resource that does not exist."""

    status = 404
    title = "Not found"


class UnknownUser(NotFound):
    """A user with no profile and no events."""


class UnknownItem(NotFound):
    """An item that is not in the catalogue."""


class NotFitted(LimelightError):
    """A model used before ``fit``."""

    status = 409
    title = "Model not fitted"


class DatasetError(LimelightError):
    """A data set that cannot be fetched or read."""

    status = 400
    title = "Data set error"
