"""One typed settings object, read from the environment (prefix ``LIMELIGHT_``).

Everything that differs between a laptop demo and a production cluster lives here, so that
backends are chosen by settings and never by editing code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Scope = Literal["ingest", "read", "admin"]


class ApiKey(BaseModel):
    """An API key and what it may do. ``admin`` implies ``read`` and ``ingest``."""

    key: str = Field(min_length=16)
    scopes: frozenset[Scope]
    name: str = "configured"


def _default_affinity_weights() -> dict[str, float]:
    # Why these: a finished title says more than a started one; a skip is a mild "not this".
    return {
        "click": 0.5,
        "play_start": 1.0,
        "play_progress": 0.0,
        "play_complete": 2.0,
        "add_to_list": 1.5,
        "skip": -1.0,
        "rating": 1.0,  # multiplied by (rating - rating_midpoint)
    }


class Settings(BaseSettings):
    """Limelight settings. Every field can be set as ``LIMELIGHT_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="LIMELIGHT_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"), description="Where the SQLite file, artifacts and data sets live."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; defaults to a SQLite file in data_dir. "
        "Use postgresql+psycopg://user@host/db for PostgreSQL.",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"

    api_keys: list[ApiKey] = Field(default_factory=list)
    max_batch: int = Field(default=1000, ge=1, le=100_000)
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_future_skew_s: float = Field(default=86_400.0, ge=0)
    #: Threads that compose pages, queues and recommendations (``limelight.api.compute``):
    #: CPU-bound Python gains nothing from more than one per worker process.
    compute_threads: int = Field(default=1, ge=1, le=64)
    #: People whose serving state a server keeps between their requests (a history's candidate
    #: pool, a home page's steady rows), least recently seen dropped first; each costs about
    #: 130 KB on MovieLens-100K. 0 keeps none: every request computes everything again.
    kept_people: int = Field(default=1024, ge=0, le=10_000_000)
    #: Decisions (served lists, pages, bandit choices) older than this many days are deleted
    #: by the decision log's writer, except those whose reward windows are still open; KPIs and
    #: off-policy evaluation reach back this far. A home page logs about 60 KB. 0 keeps all.
    decision_retention_days: float = Field(default=30.0, ge=0)

    affinity_half_life_days: float = Field(default=30.0, gt=0)
    affinity_weights: dict[str, float] = Field(default_factory=_default_affinity_weights)
    rating_midpoint: float = 3.0

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def resolved_database_url(self) -> str:
        """The database URL in use: the configured one, or the default SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'limelight.sqlite').resolve()}"

    @property
    def keys_file(self) -> Path:
        """File of generated API keys (hashed), managed by ``limelight keys``."""
        return self.data_dir / "api_keys.json"
