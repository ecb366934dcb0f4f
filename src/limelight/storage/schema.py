"""The one schema, in SQLAlchemy Core, shared by SQLite and PostgreSQL.

Times are stored as UTC epoch seconds (float): identical on both engines, cheap to insert and to
compare, and free of timezone round-trips. JSON columns are JSONB on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

Json = JSON().with_variant(JSONB(), "postgresql")

ID = 256  # longest accepted identifier

events = Table(
    "events",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("user_id", String(ID)),
    Column("anonymous_id", String(ID)),
    # person_id is derived (user id, or "anon:<anonymous_id>" until aliased); raw ids stay as sent
    # so that merges can be replayed or undone from the log.
    Column("person_id", String(ID + 5), nullable=False),
    Column("item_id", String(ID)),
    Column("decision_id", String(128)),
    Column("session_id", String(ID)),
    Column("ts", Float, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("context", Json),
    Column("properties", Json),
)
Index("ix_events_person_ts", events.c.person_id, events.c.ts)
Index("ix_events_item", events.c.item_id)
Index("ix_events_decision", events.c.decision_id)
Index("ix_events_ts", events.c.ts)
Index("ix_events_anonymous", events.c.anonymous_id)
# Events that engaged with a served decision (clicks and plays on tiles), by person and arrival:
# a home page's row order reads a person's few of them; partial, so the bulk of a person's
# history (events that carry no decision) is not in it and costs the index nothing.
Index(
    "ix_events_person_engaged",
    events.c.person_id,
    events.c.received_at,
    sqlite_where=events.c.decision_id.is_not(None),
    postgresql_where=events.c.decision_id.is_not(None),
)

identities = Table(
    "identities",
    metadata,
    Column("anonymous_id", String(ID), primary_key=True),
    Column("user_id", String(ID), nullable=False, index=True),
    Column("linked_at", Float, nullable=False),
    Column("event_id", String(128)),
)

profiles = Table(
    "profiles",
    metadata,
    Column("person_id", String(ID + 5), primary_key=True),
    Column("data", Json, nullable=False),
    Column("updated_at", Float, nullable=False),
)

profile_items = Table(
    "profile_items",
    metadata,
    Column("person_id", String(ID + 5), primary_key=True),
    Column("item_id", String(ID), primary_key=True),
    Column("first_at", Float, nullable=False),
    Column("last_at", Float, nullable=False),
    Column("plays", Integer, nullable=False, default=0),
    Column("completions", Integer, nullable=False, default=0),
    Column("progress", Float, nullable=False, default=0.0),
    Column("progress_at", Float),
    Column("clicks", Integer, nullable=False, default=0),
    Column("skips", Integer, nullable=False, default=0),
    Column("rating", Float),
    Column("rating_at", Float),
    sqlite_with_rowid=False,
)
Index("ix_profile_items_item", profile_items.c.item_id)

items = Table(
    "items",
    metadata,
    Column("item_id", String(ID), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("title", Text, nullable=False),
    Column("genres", Json, nullable=False),
    Column("tags", Json, nullable=False),
    Column("release_year", Integer),
    Column("duration_s", Float),
    Column("maturity_rating", String(32)),
    Column("description", Text),
    Column("available_from", Float),
    Column("available_until", Float),
    Column("attributes", Json, nullable=False),
    Column("updated_at", Float, nullable=False),
)
Index("ix_items_kind", items.c.kind)

artwork = Table(
    "artwork",
    metadata,
    Column("item_id", String(ID), primary_key=True),
    Column("artwork_id", String(128), primary_key=True),
    Column("url", Text, nullable=False),
    Column("attributes", Json, nullable=False),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("position", Integer, nullable=False, default=0),
)

# Tables whose rows belong to a person, with the column that names them; the erase hook and the
# export walk this list, and later capabilities append their own tables.
PERSON_TABLES: dict[str, str] = {
    "events": "person_id",
    "profiles": "person_id",
    "profile_items": "person_id",
    "identities": "user_id",
}

# -- experiments (limelight.experiments) -------------------------------------------------------
# Definitions are stored whole as JSON (they are read whole); status and layer are columns so
# that "the running experiments of this layer" is a query. Exposures are per person and are
# exported and erased by the experiments' own personal-data hook, not through PERSON_TABLES.

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_key", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("layer", String(128), nullable=False),
    Column("definition", Json, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
Index("ix_experiments_status_layer", experiments.c.status, experiments.c.layer)

experiment_exposures = Table(
    "experiment_exposures",
    metadata,
    Column("experiment_key", String(64), primary_key=True),
    Column("unit_id", String(ID + 5), primary_key=True),
    Column("variant", String(64), nullable=False),
    Column("first_exposed_at", Float, nullable=False),
    Column("device", String(64)),
    Column("context", Json),
)
Index("ix_experiment_exposures_unit", experiment_exposures.c.unit_id)

experiment_settings = Table(
    "experiment_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Json, nullable=False),
)

# -- decision log (limelight.decisions) --------------------------------------------------------
# Every served list, page and bandit choice gets an id and a row here: context, candidates,
# what was chosen, the probability of choosing it, the policy and the model version. Events
# carry the id back (properties.decision_id), which is how rewards, attribution, off-policy
# evaluation and experiment analysis join to what was served.

decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", String(128), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("point", String(64), nullable=False),
    Column("person_id", String(ID + 5)),
    Column("page_id", String(128)),
    Column("created_at", Float, nullable=False),
    Column("context", Json, nullable=False),
    Column("candidates", Json, nullable=False),
    Column("chosen", Json, nullable=False),
    Column("probabilities", Json),
    Column("policy", String(64)),
    Column("model_version", String(64)),
    Column("explored", Boolean),
    Column("extra", Json),
)
# By kind too: a person's latest home pages are read on their first page, among batch and
# recommendation rows of theirs that are far larger (a prefix still serves export and erasure).
Index("ix_decisions_person", decisions.c.person_id, decisions.c.kind, decisions.c.created_at)
Index("ix_decisions_point", decisions.c.point, decisions.c.created_at)
Index("ix_decisions_page", decisions.c.page_id)
# Retention deletes the oldest rows first, whatever their point (limelight.decisions.retention).
Index("ix_decisions_created", decisions.c.created_at)

# -- bandit decision points and rewards (limelight.bandits) ------------------------------------
# Points are stored whole as JSON (read whole); ``revision`` counts changes of the fields that
# shape the model and ``closed_through`` is the reward-window sweep's watermark. Every reward
# is kept (``bandit_rewards``, late ones with in_window false); ``bandit_learned`` is the
# ledger of what each model learned, one row per (decision, served action): its unique key
# makes learning exactly-once across threads, processes and restarts, and its ``seq`` orders
# the replay of what a crash lost since the last snapshot. Both are erased per person by the
# bandits' personal-data hook.

bandit_points = Table(
    "bandit_points",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("definition", Json, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("closed_through", Float),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

bandit_rewards = Table(
    "bandit_rewards",
    metadata,
    Column("reward_id", String(512), primary_key=True),
    Column("decision_id", String(128), nullable=False),
    Column("point", String(64), nullable=False),
    Column("person_id", String(ID + 5)),
    Column("action_id", String(ID)),
    Column("value", Float, nullable=False),
    Column("source", String(16), nullable=False),
    Column("event_id", String(128)),
    Column("received_at", Float, nullable=False),
    Column("in_window", Boolean, nullable=False),
)
Index("ix_bandit_rewards_decision", bandit_rewards.c.decision_id)
Index("ix_bandit_rewards_person", bandit_rewards.c.person_id)
Index("ix_bandit_rewards_point", bandit_rewards.c.point, bandit_rewards.c.received_at)

bandit_learned = Table(
    "bandit_learned",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", String(128), nullable=False),
    Column("action_id", String(ID), nullable=False),
    Column("point", String(64), nullable=False),
    Column("person_id", String(ID + 5)),
    Column("value", Float, nullable=False),
    Column("rule", String(16), nullable=False),
    Column("learned_at", Float, nullable=False),
    # How many (decision, action) pairs the row stands for: 1, or a page's unrewarded tiles
    # learned with the default in one row (see limelight.bandits.rewards).
    Column("pairs", Integer, nullable=False, server_default="1"),
    sqlite_autoincrement=True,
)
Index(
    "uq_bandit_learned_decision_action",
    bandit_learned.c.decision_id,
    bandit_learned.c.action_id,
    unique=True,
)
Index("ix_bandit_learned_point", bandit_learned.c.point, bandit_learned.c.seq)
Index("ix_bandit_learned_person", bandit_learned.c.person_id)

#: Change counters of derived state that processes cache (``name`` -> ``value``). A writer bumps
#: one when it changes what the counter covers, so that a cache in another process can tell
#: whether a foreign commit touched its data (``PRAGMA data_version`` only says that something
#: changed somewhere in the file).
generations = Table(
    "generations",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)
