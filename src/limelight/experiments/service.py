"""The experiments' Python API; the HTTP routes and the CLI are thin layers over it.

``Experiments(database, settings, personal_data)`` owns definitions, assignment, exposure
logging and analysis, and registers its personal-data hook so that export and erase include
exposures. Reading a variant is what logs an exposure: assignment alone (``assignments``)
records nothing, because a unit that never saw the variant cannot have been changed by it and
would only dilute the effect.

>>> import tempfile
>>> from limelight import Engine, Settings
>>> engine = Engine(Settings(data_dir=tempfile.mkdtemp()))
>>> experiments = Experiments(engine.database, engine.settings, engine.personal_data)
>>> _ = experiments.create({"key": "rows", "variants": [{"key": "a"}, {"key": "b"}],
...                        "metrics": {"primary": ["click_through"]}})
>>> _ = experiments.start("rows")
>>> first = experiments.variant("rows", "ada", context={"device": "tv"})
>>> first.variant == experiments.variant("rows", "ada").variant
True
>>> engine.close()
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection

from limelight.catalog.model import iso
from limelight.config import Settings
from limelight.errors import InvalidInput, NotFound
from limelight.events.model import ANONYMOUS_PREFIX, now_utc
from limelight.experiments import store, targeting
from limelight.experiments.assignment import decide
from limelight.experiments.errors import ExperimentConflict, validated
from limelight.experiments.lifecycle import revised, take_slice
from limelight.experiments.model import (
    Assignment,
    Experiment,
    ExperimentSpec,
    Status,
    Unit,
    epoch,
)
from limelight.experiments.report import Report
from limelight.experiments.reporting import build_report
from limelight.experiments.stats import DEFAULT_TUNING, Design, Plan, sample_size
from limelight.privacy.registry import Identity, PersonalData, PersonalDataHook
from limelight.storage.database import Database

ProfileLookup = Callable[[str], Mapping[str, Any] | None]
"""Finds a person's live profile (``anon:<id>`` for devices), for targeting on ``profile.*``."""
MAX_UNIT = 261
CONTEXT_KEYS = 20


def _when(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def _unit(unit_id: str) -> str:
    if not isinstance(unit_id, str) or not 0 < len(unit_id) <= MAX_UNIT:
        raise InvalidInput(f"a unit id has 1 to {MAX_UNIT} characters", field="unit_id")
    return unit_id


def _kept_context(context: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The scalar part of a request context, bounded: what an exposure row keeps."""
    if not context:
        return None
    kept = {
        str(key)[:64]: value[:256] if isinstance(value, str) else value
        for key, value in list(context.items())[:CONTEXT_KEYS]
        if isinstance(value, str | int | float | bool)
    }
    return kept or None


class Experiments:
    """Create, run and analyse experiments; read variants (which logs exposures)."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        personal_data: PersonalData,
        *,
        profile_lookup: ProfileLookup | None = None,
        cache_ttl_s: float = 1.0,
    ) -> None:
        self.database = database
        self.settings = settings
        self.profile_lookup = profile_lookup
        self.cache_ttl_s = cache_ttl_s
        self._definitions: dict[str, tuple[float, Experiment | None]] = {}
        self._holdout: tuple[float, float] | None = None
        personal_data.register(
            PersonalDataHook(name="experiments", export=self._export, erase=self._erase)
        )

    # -- definitions -------------------------------------------------------------------------

    def create(self, spec: ExperimentSpec | Mapping[str, Any]) -> Experiment:
        """Save a new experiment as a draft."""
        checked = validated(ExperimentSpec, spec)
        now = _when(now_utc())
        experiment = Experiment.model_validate(
            {**checked.model_dump(), "status": "draft", "created_at": now, "updated_at": now}
        )
        with self.database.write() as connection:
            if not store.insert(self.database, connection, experiment):
                raise ExperimentConflict(f"experiment {checked.key!r} already exists", field="key")
        self._forget(checked.key)
        return experiment

    def get(self, key: str) -> Experiment:
        with self.database.read() as connection:
            found = store.load(connection, key)
        if found is None:
            raise NotFound(f"no experiment {key!r}", field="key")
        return found

    def list(self, status: Status | None = None) -> list[Experiment]:
        with self.database.read() as connection:
            return store.load_all(connection, status)

    def update(self, key: str, changes: Mapping[str, Any]) -> Experiment:
        """Change fields of an experiment; what may change depends on its status.

        Drafts may change anything but the key. Running experiments may change how they are
        described, targeted, ramped (``traffic_percent``, keeping the units already in) and
        analysed; stopped ones only how they are described and analysed.
        """
        with self.database.write() as connection:
            current = self._locked(connection, key)
            updated = revised(current, changes, _when(now_utc()))
            if current.status == "running" and updated.traffic_percent != current.traffic_percent:
                buckets = take_slice(self.database, connection, current, updated.traffic_percent)
                updated = updated.model_copy(update={"buckets": buckets})
            store.save(self.database, connection, updated)
        self._forget(key)
        return updated

    def delete(self, key: str) -> int:
        """Delete a draft or stopped experiment and its exposures; returns exposures removed."""
        with self.database.write() as connection:
            current = self._locked(connection, key)
            if current.status == "running":
                raise ExperimentConflict(f"stop experiment {key!r} before deleting it")
            removed = store.remove(connection, key)
        self._forget(key)
        return removed

    def start(self, key: str, *, at: float | None = None) -> Experiment:
        """Start a draft: take a free slice of its layer and begin assigning units."""
        moment = now_utc() if at is None else at
        with self.database.write() as connection:
            current = self._locked(connection, key)
            if current.status != "draft":
                raise ExperimentConflict(
                    f"experiment {key!r} is {current.status}; only a draft can start"
                )
            stop = epoch(current.stop_at)
            if stop is not None and stop <= moment:
                raise InvalidInput("stop_at is already past", field="stop_at")
            buckets = take_slice(self.database, connection, current, current.traffic_percent)
            started = current.model_copy(
                update={
                    "status": "running",
                    "buckets": buckets,
                    "started_at": _when(moment),
                    "updated_at": _when(moment),
                }
            )
            store.save(self.database, connection, started)
        self._forget(key)
        return started

    def stop(self, key: str, *, at: float | None = None) -> Experiment:
        """Stop assigning (the layer's slice is freed); the analysis window ends here."""
        moment = now_utc() if at is None else at
        with self.database.write() as connection:
            current = self._locked(connection, key)
            if current.status != "running":
                raise ExperimentConflict(f"experiment {key!r} is {current.status}, not running")
            stopped = current.model_copy(
                update={
                    "status": "stopped",
                    "stopped_at": _when(moment),
                    "updated_at": _when(moment),
                }
            )
            store.save(self.database, connection, stopped)
        self._forget(key)
        return stopped

    def holdout(self) -> float:
        """The global holdout: the percentage of units kept out of every experiment."""
        with self.database.read() as connection:
            return store.holdout_percent(connection)

    def set_holdout(self, percent: float) -> float:
        """Set the global holdout. Units already exposed stay in their experiments."""
        if not isinstance(percent, int | float) or not 0 <= percent <= 50:
            raise InvalidInput("the holdout is a percentage from 0 to 50", field="percent")
        with self.database.write() as connection:
            store.set_holdout_percent(self.database, connection, float(percent))
        self._holdout = None
        return float(percent)

    # -- assignment --------------------------------------------------------------------------

    def variant(
        self,
        experiment_key: str,
        unit_id: str,
        *,
        context: Mapping[str, Any] | None = None,
        profile: Mapping[str, Any] | None = None,
        at: float | None = None,
    ) -> Assignment | None:
        """The unit's variant, logging its first exposure; ``None`` when it is not in the test.

        A unit once exposed keeps its variant for the life of the experiment, whatever later
        changes to targeting, traffic or the holdout say. ``context`` (device, platform, ...)
        feeds targeting and is kept with the first exposure; ``profile`` is read by targeting
        on ``profile.*`` fields (looked up when not given and a lookup was configured).
        """
        unit_id = _unit(unit_id)
        moment = now_utc() if at is None else at
        experiment = self._definition(experiment_key)
        if not experiment.serving_at(moment):
            return None
        with self.database.read() as connection:
            row = store.exposure(connection, experiment.key, unit_id)
        if row is not None:
            return self._assignment(experiment, row)
        index = decide(
            experiment,
            unit_id,
            holdout_percent=self._holdout_percent(),
            attributes=self._attributes(experiment, unit_id, context, profile),
        ).variant
        if index is None:
            return None
        kept = _kept_context(context)
        device = kept.get("device") if kept else None
        row = {
            "experiment_key": experiment.key,
            "unit_id": unit_id,
            "variant": experiment.variants[index].key,
            "first_exposed_at": moment,
            "device": str(device)[:64] if device is not None else None,
            "context": kept,
        }
        with self.database.write() as connection:
            if not store.record_exposure(self.database, connection, row):
                row = store.exposure(connection, experiment.key, unit_id) or row
        return self._assignment(experiment, row)

    def assignments(
        self,
        unit_id: str,
        *,
        context: Mapping[str, Any] | None = None,
        profile: Mapping[str, Any] | None = None,
        at: float | None = None,
        unit: Unit | None = None,
    ) -> builtins.list[Assignment]:
        """The unit's variants in every experiment serving now, without logging exposures.

        Units already exposed are listed with ``exposed_at``; others are listed when they
        would be assigned given ``context`` and ``profile``. ``unit`` keeps only the
        experiments whose unit is a ``user`` or a ``device``.
        """
        unit_id = _unit(unit_id)
        moment = now_utc() if at is None else at
        with self.database.read() as connection:
            running = store.load_all(connection, "running")
            exposed = {
                row["experiment_key"]: row for row in store.exposures_of(connection, [unit_id])
            }
        holdout = self._holdout_percent()
        found: builtins.list[Assignment] = []
        for experiment in running:
            if not experiment.serving_at(moment) or unit not in (None, experiment.unit):
                continue
            if experiment.key in exposed:
                stored = self._assignment(experiment, exposed[experiment.key])
                found.extend([stored] if stored is not None else [])
                continue
            attributes = self._attributes(experiment, unit_id, context, profile)
            index = decide(
                experiment, unit_id, holdout_percent=holdout, attributes=attributes
            ).variant
            if index is not None:
                variant = experiment.variants[index]
                found.append(
                    Assignment(
                        experiment=experiment.key,
                        variant=variant.key,
                        parameters=variant.parameters,
                        unit_id=unit_id,
                    )
                )
        return found

    # -- analysis ----------------------------------------------------------------------------

    def analyse(self, key: str, *, at: float | None = None) -> Report:
        """The experiment's report as of ``at`` (default now, or its stop if earlier)."""
        experiment = self.get(key)
        with self.database.read() as connection:
            return build_report(connection, experiment, at=now_utc() if at is None else at)

    @staticmethod
    def power(
        *,
        kind: Literal["proportion", "mean"],
        baseline: float,
        mde: float,
        standard_deviation: float | None = None,
        alpha: float = 0.05,
        target_power: float = 0.8,
        variants: int = 2,
        daily_units: float | None = None,
        traffic_percent: float = 100.0,
        sequential: bool = False,
        sequential_tuning: float = DEFAULT_TUNING,
    ) -> Plan:
        """Units per variant (and days, given ``daily_units``) to detect a relative ``mde``.

        ``baseline`` is the control's rate (``proportion``) or mean (``mean``, which also
        needs its ``standard_deviation``). The plan is for the relative lift, the scale the
        report tests on, and for the sequential test when ``sequential`` (it needs more units
        in exchange for being safe to read every day).
        """
        try:
            if kind == "proportion":
                design = Design.proportion(baseline, mde)
            else:
                if standard_deviation is None:
                    raise InvalidInput(
                        "a mean metric needs its standard deviation", field="standard_deviation"
                    )
                design = Design.mean(baseline, standard_deviation, mde)
            if variants < 2:
                raise InvalidInput("an experiment has at least two variants", field="variants")
            return sample_size(
                design,
                alpha=alpha,
                target_power=target_power,
                variants=variants,
                daily_units=daily_units,
                traffic=traffic_percent / 100.0,
                sequential_tuning=sequential_tuning if sequential else None,
            )
        except ValueError as error:
            raise InvalidInput(str(error)) from None

    # -- internals ---------------------------------------------------------------------------

    def _locked(self, connection: Connection, key: str) -> Experiment:
        found = store.load(connection, key, for_update=True)
        if found is None:
            raise NotFound(f"no experiment {key!r}", field="key")
        return found

    def _definition(self, key: str) -> Experiment:
        """The experiment, cached for ``cache_ttl_s`` (other processes' changes show up then)."""
        cached = self._definitions.get(key)
        if cached is None or time.monotonic() - cached[0] > self.cache_ttl_s:
            with self.database.read() as connection:
                cached = (time.monotonic(), store.load(connection, key))
            self._definitions[key] = cached
        if cached[1] is None:
            raise NotFound(f"no experiment {key!r}", field="key")
        return cached[1]

    def _holdout_percent(self) -> float:
        if self._holdout is None or time.monotonic() - self._holdout[0] > self.cache_ttl_s:
            self._holdout = (time.monotonic(), self.holdout())
        return self._holdout[1]

    def _forget(self, key: str) -> None:
        self._definitions.pop(key, None)

    def _attributes(
        self,
        experiment: Experiment,
        unit_id: str,
        context: Mapping[str, Any] | None,
        profile: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        if (
            profile is None
            and self.profile_lookup is not None
            and targeting.needs_profile(experiment.targeting)
        ):
            person = unit_id if experiment.unit == "user" else f"{ANONYMOUS_PREFIX}{unit_id}"
            profile = self.profile_lookup(person)
        return {"context": dict(context or {}), "profile": dict(profile or {})}

    @staticmethod
    def _assignment(experiment: Experiment, row: Mapping[str, Any]) -> Assignment | None:
        variant = next((v for v in experiment.variants if v.key == row["variant"]), None)
        if variant is None:
            return None
        return Assignment(
            experiment=experiment.key,
            variant=variant.key,
            parameters=variant.parameters,
            unit_id=str(row["unit_id"]),
            exposed_at=_when(float(row["first_exposed_at"])),
            device=row.get("device"),
        )

    # -- personal data -----------------------------------------------------------------------

    @staticmethod
    def _ids(identity: Identity) -> builtins.list[str]:
        return sorted({identity.user_id, *identity.devices, *identity.person_ids})

    def _export(self, connection: Connection, identity: Identity) -> dict[str, Any]:
        exposures = store.exposures_of(connection, self._ids(identity))
        for row in exposures:
            row["first_exposed_at"] = iso(float(row["first_exposed_at"]))
        return {"exposures": exposures}

    def _erase(self, connection: Connection, identity: Identity) -> int:
        return store.erase_units(connection, self._ids(identity))
