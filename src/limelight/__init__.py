"""Limelight: a self-hosted personalization engine for media and streaming services."""

from limelight.catalog.model import Artwork, Item
from limelight.config import Settings
from limelight.engine import Engine
from limelight.errors import (
    InvalidEvent,
    InvalidInput,
    LimelightError,
    NotFitted,
    NotFound,
    UnknownItem,
    UnknownUser,
)
from limelight.events.model import IngestResult, Rejection

__version__ = "0.1.0"

__all__ = [
    "Artwork",
    "Engine",
    "IngestResult",
    "InvalidEvent",
    "InvalidInput",
    "Item",
    "LimelightError",
    "NotFitted",
    "NotFound",
    "Rejection",
    "Settings",
    "UnknownItem",
    "UnknownUser",
    "__version__",
]
