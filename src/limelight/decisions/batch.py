"""Many decisions logged as one row: the artwork of every tile of a page.

Why: a home page decides the artwork of ~200 tiles. One log row per tile is ~40,000 rows a
second at 200 pages a second, which is the whole write capacity of a SQLite file and most of a
Python process's time; the tiles of one page also share nearly everything (context, person,
page, policy, model version, the features of each artwork). So the decision service logs them
as one *batch* row, and each tile keeps a decision id of its own, ``<batch id>~<k>``, which
events and rewards carry as usual.

Readers never see the packing: :class:`~limelight.decisions.DecisionLog` resolves a member id to
the member's own :class:`DecisionRecord` (the same record a single decision would have logged),
and :func:`expand` turns batch rows read straight from the table into their members.

Layout of a batch row (``kind`` ``"batch"``; shared columns as for one decision):

- ``context``: the context every member shares; ``extra["context"][k]``: what member ``k`` adds;
- ``candidates``: ``{"kind": member kind, "features": [features, ...], "actions": [[id,
  feature number], ...], "lists": [[positions], ...]}``: each distinct candidate once (ids may
  repeat across members with other features: artwork ids are per title), its features as a
  number into ``features``, which holds each distinct feature mapping once (a page's 700-odd
  artwork variants have a few dozen: inline they were two thirds of the row, and decoding them
  most of the cost of closing its reward windows); each member's candidates as positions in
  ``actions``. Rows written before ``features`` existed hold ``[id, features]`` pairs;
  :func:`candidate_features` reads both;
- ``chosen`` and ``probabilities``: one list per member;
- ``extra``: ``{"members": n, "context": [...], "explored": [...], "policy": [...],
  "extra": [...]}``, one entry per member (``policy`` ``None`` means the row's policy);
  ``extra["extra"]`` may instead be columnar, ``{"same": {...}, "each": {key: [...]}}``: what
  every member shares once, and one list per varying key (a page's members are all alike).

A page whose every tile the policy served is written in the *columnar* layout
(``candidates["layout"] == "columnar"``, :func:`columnar_record`), built from the decision's
arrays and serialized straight from numpy, with no Python list per tile (building those was a
tenth of a page's time): ``candidates`` holds ``action_ids`` and ``action_features`` (parallel,
one entry per distinct candidate) and ``lists`` padded with ``-1`` to the widest member;
``extra["policy"]`` is None (every member has the row's policy); ``extra["extra"]`` may add
``"padded": {key: [[...]]}`` (rows cut to the member's candidate count: ``distribution``) and
``"ranked": {key: [[...]]}`` (positions into the member's candidates, ``-1`` padded, read as
their ids: ``ranking``). Readers see the same members whatever the layout
(:func:`member`, :func:`member_positions`, :func:`action_id`, :func:`candidate_features`).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from limelight.decisions.record import DecisionRecord

BATCH_KIND = "batch"
SEPARATOR = "~"
#: ``candidates["layout"]`` of a row written by :func:`columnar_record`.
COLUMNAR = "columnar"


def member_id(batch_id: str, index: int) -> str:
    """The decision id of member ``index`` of a batch."""
    return f"{batch_id}{SEPARATOR}{index}"


def member_ids(batch_id: str, count: int) -> list[str]:
    """The decision ids of members ``0 .. count - 1`` of a batch."""
    head = batch_id + SEPARATOR
    return [head + str(index) for index in range(count)]


def split_member(decision_id: str) -> tuple[str, int] | None:
    """``(batch id, index)`` when ``decision_id`` has the form of a member id, else None."""
    base, found, tail = decision_id.rpartition(SEPARATOR)
    if not found or not base or not tail.isdigit() or (len(tail) > 1 and tail[0] == "0"):
        return None
    return base, int(tail)


def members_by_batch(
    decision_ids: Iterable[str], found: Container[str] = ()
) -> dict[str, list[tuple[str, int]]]:
    """The member ids among ``decision_ids`` (those not in ``found``) by batch id:
    ``{batch id: [(member id, index), ...]}``, for reading each batch row once."""
    bases: dict[str, list[tuple[str, int]]] = {}
    for decision_id in decision_ids:
        if decision_id not in found:
            parts = split_member(decision_id)
            if parts is not None:
                bases.setdefault(parts[0], []).append((decision_id, parts[1]))
    return bases


def batch_record(
    *,
    batch_id: str,
    member_kind: str,
    point: str,
    person_id: str | None,
    page_id: str | None,
    created_at: float,
    policy: str | None,
    model_version: str | None,
    context: Mapping[str, Any],
    actions: Sequence[tuple[str, int]],
    features: Sequence[Mapping[str, Any]],
    lists: Sequence[Sequence[int]],
    chosen: Sequence[Sequence[str]],
    probabilities: Sequence[Sequence[float]],
    explored: Sequence[bool],
    member_context: Sequence[Mapping[str, Any] | None],
    member_extra: Sequence[Mapping[str, Any] | None] | Mapping[str, Any],
    member_policy: Sequence[str | None] | None = None,
) -> DecisionRecord:
    """One log row for ``len(lists)`` decisions (see the module docstring): ``actions`` are
    ``(id, number)`` with ``features[number]`` the action's features."""
    count = len(lists)
    extras: dict[str, Any] | list[Mapping[str, Any] | None]
    if isinstance(member_extra, Mapping):  # columnar: what all share, a list per varying key
        extras = dict(member_extra)
        sizes = [(f"member_extra.each.{k}", len(c)) for k, c in extras.get("each", {}).items()]
    else:
        extras = list(member_extra)
        sizes = [("member_extra", len(extras))]
    _check_members(
        count,
        ("chosen", len(chosen)),
        ("probabilities", len(probabilities)),
        ("explored", len(explored)),
        ("member_context", len(member_context)),
        *sizes,
    )
    return _batch_row(
        count,
        batch_id=batch_id,
        point=point,
        person_id=person_id,
        page_id=page_id,
        created_at=created_at,
        policy=policy,
        model_version=model_version,
        context=context,
        candidates={
            "kind": member_kind,
            "features": list(features),
            "actions": list(actions),
            "lists": list(lists),
        },
        chosen=chosen,
        probabilities=list(probabilities),
        member_context=member_context,
        explored=list(explored),
        member_policy=list(member_policy) if member_policy is not None else [None] * count,
        member_extra=extras,
    )


def columnar_record(
    *,
    batch_id: str,
    member_kind: str,
    point: str,
    person_id: str | None,
    page_id: str | None,
    created_at: float,
    policy: str | None,
    model_version: str | None,
    context: Mapping[str, Any],
    action_ids: Sequence[str],
    action_features: np.ndarray,
    features: Sequence[Mapping[str, Any]],
    lists: np.ndarray,
    chosen: Sequence[Sequence[str]],
    probabilities: np.ndarray,
    explored: np.ndarray,
    member_context: Sequence[Mapping[str, Any] | None],
    member_same: Mapping[str, Any],
    padded: Mapping[str, np.ndarray],
    ranked: Mapping[str, np.ndarray],
) -> DecisionRecord:
    """One log row for ``lists.shape[0]`` decisions in the columnar layout (the module
    docstring): ``lists`` is members x width of positions into ``action_ids``, ``-1`` past a
    member's candidates; ``probabilities`` and ``explored`` have one entry per member;
    ``padded`` and ``ranked`` columns are members x width too. The arrays stay arrays: the
    log serializes them as they are (``Packed``)."""
    count = int(lists.shape[0])
    _check_members(
        count,
        ("chosen", len(chosen)),
        ("probabilities", int(probabilities.shape[0])),
        ("explored", int(explored.shape[0])),
        ("member_context", len(member_context)),
        *((f"padded.{key}", int(column.shape[0])) for key, column in padded.items()),
        *((f"ranked.{key}", int(column.shape[0])) for key, column in ranked.items()),
    )
    if len(action_ids) != int(action_features.shape[0]):
        raise ValueError("action_ids and action_features differ in length")
    return _batch_row(
        count,
        batch_id=batch_id,
        point=point,
        person_id=person_id,
        page_id=page_id,
        created_at=created_at,
        policy=policy,
        model_version=model_version,
        context=context,
        candidates={
            "kind": member_kind,
            "layout": COLUMNAR,
            "features": list(features),
            "action_ids": list(action_ids),
            "action_features": np.ascontiguousarray(action_features),
            "lists": np.ascontiguousarray(lists),
        },
        chosen=chosen,
        probabilities=np.asarray(probabilities, dtype=np.float64).reshape(count, 1).tolist(),
        member_context=member_context,
        explored=np.ascontiguousarray(explored, dtype=bool),
        member_policy=None,
        member_extra={
            "same": dict(member_same),
            "padded": {k: np.ascontiguousarray(v) for k, v in padded.items()},
            "ranked": {k: np.ascontiguousarray(v) for k, v in ranked.items()},
        },
    )


def _check_members(count: int, *sizes: tuple[str, int]) -> None:
    """Every per-member column has one entry per member."""
    for name, size in sizes:
        if size != count:
            raise ValueError(f"{name} has {size} entries for {count} members")


def _batch_row(
    count: int,
    *,
    batch_id: str,
    point: str,
    person_id: str | None,
    page_id: str | None,
    created_at: float,
    policy: str | None,
    model_version: str | None,
    context: Mapping[str, Any],
    candidates: dict[str, Any],
    chosen: Sequence[Sequence[str]],
    probabilities: list[Any],
    member_context: Sequence[Mapping[str, Any] | None],
    explored: Any,
    member_policy: list[str | None] | None,
    member_extra: Any,
) -> DecisionRecord:
    """The batch row both layouts share: the row's own columns, and ``extra`` with the
    members' count, overlays, exploration flags, policies and extras."""
    return DecisionRecord(
        decision_id=batch_id,
        kind=BATCH_KIND,
        point=point,
        person_id=person_id,
        chosen=list(chosen),
        created_at=created_at,
        context=dict(context),
        candidates=candidates,
        page_id=page_id,
        probabilities=probabilities,
        policy=policy,
        model_version=model_version,
        explored=None,
        extra={
            "members": count,
            "context": list(member_context),
            "explored": explored,
            "policy": member_policy,
            "extra": member_extra,
        },
    )


def _columnar(packed: Any) -> bool:
    return isinstance(packed, Mapping) and packed.get("layout") == COLUMNAR


def action_id(packed: Mapping[str, Any], position: int) -> str:
    """The id of candidate ``position`` of a batch row's ``candidates`` (any layout)."""
    if _columnar(packed):
        return str(packed["action_ids"][position])
    return str(packed["actions"][position][0])


def action_count(packed: Mapping[str, Any]) -> int:
    """How many distinct candidates a batch row's ``candidates`` hold (any layout)."""
    return len(packed["action_ids"] if _columnar(packed) else packed["actions"])


def member_positions(packed: Mapping[str, Any], index: int) -> list[int]:
    """Member ``index``'s candidates as positions into the row's candidates (any layout)."""
    row = packed["lists"][index]
    if _columnar(packed):
        return [int(p) for p in row if p >= 0]
    return [int(p) for p in row]


def member_count(record: DecisionRecord) -> int:
    if record.kind != BATCH_KIND:
        return 0
    return int((record.unpacked().extra or {}).get("members", 0))


def member(record: DecisionRecord, index: int) -> DecisionRecord | None:
    """Member ``index`` of a batch row, as the decision it stands for (None when out of range)."""
    record = record.unpacked()
    if record.kind != BATCH_KIND or not 0 <= index < member_count(record):
        return None
    packed: Any = record.candidates
    extra = record.extra or {}
    positions = member_positions(packed, index)
    names = [action_id(packed, a) for a in positions]
    overlay = extra["context"][index]
    policies = extra.get("policy")  # None: every member has the row's policy
    policy = None if policies is None else policies[index]
    member_extra = _extra_of(extra["extra"], index, names)
    return DecisionRecord(
        decision_id=member_id(record.decision_id, index),
        kind=str(packed["kind"]),
        point=record.point,
        person_id=record.person_id,
        chosen=list(record.chosen[index]),
        created_at=record.created_at,
        context={**record.context, **(overlay or {})},
        candidates=[
            {"id": name, "features": dict(candidate_features(packed, a))}
            for name, a in zip(names, positions, strict=True)
        ],
        page_id=record.page_id,
        probabilities=list((record.probabilities or [])[index]),
        policy=record.policy if policy is None else str(policy),
        model_version=record.model_version,
        explored=bool(extra["explored"][index]),
        extra=member_extra,
    )


def candidate_features(packed: Mapping[str, Any], position: int) -> Mapping[str, Any]:
    """The features of candidate ``position`` of a batch row's ``candidates`` (any layout)."""
    if _columnar(packed):
        numbered: Mapping[str, Any] = packed["features"][packed["action_features"][position]]
        return numbered
    found = packed["actions"][position][1]
    if isinstance(found, int) and not isinstance(found, bool):
        features: Mapping[str, Any] = packed["features"][found]
        return features
    return found or {}


def _extra_of(packed: Any, index: int, names: Sequence[str] | None) -> dict[str, Any] | None:
    """Member ``index``'s extra; ``names`` (its candidates' ids) reads the columnar layout's
    padded and ranked columns, which are left out without them."""
    if isinstance(packed, Mapping):  # columnar
        out = {
            **packed.get("same", {}),
            **{key: column[index] for key, column in packed.get("each", {}).items()},
        }
        if names is not None:
            for key, column in packed.get("padded", {}).items():
                out[key] = column[index][: len(names)]
            for key, column in packed.get("ranked", {}).items():
                out[key] = [names[c] for c in column[index] if c >= 0]
        return out
    found = packed[index]
    return None if found is None else dict(found)


def member_extras(
    extra: Mapping[str, Any] | None, candidates: Mapping[str, Any] | None = None
) -> list[dict[str, Any] | None]:
    """Each member's ``extra`` from a batch row's ``extra`` column (any layout). Without the
    row's ``candidates``, a columnar row's per-candidate columns (``distribution``, ``ranking``)
    are left out: enough for modes and agreement (reports), which need no candidates."""
    if not extra:
        return []
    count = int(extra.get("members", 0))
    names: list[list[str] | None] = [None] * count
    if candidates is not None:
        names = [
            [action_id(candidates, a) for a in member_positions(candidates, k)]
            for k in range(count)
        ]
    return [_extra_of(extra["extra"], k, names[k]) for k in range(count)]


def members(record: DecisionRecord) -> list[DecisionRecord]:
    """Every member of a batch row, in order."""
    record = record.unpacked()
    found = (member(record, k) for k in range(member_count(record)))
    return [m for m in found if m is not None]


def expand(records: Iterable[DecisionRecord], kind: str) -> list[DecisionRecord]:
    """Records of ``kind`` with batch rows of that member kind replaced by their members (in
    place, so an order by time is kept); other records are dropped."""
    out: list[DecisionRecord] = []
    for record in records:
        if record.kind == kind:
            out.append(record)
        elif record.kind == BATCH_KIND and _member_kind(record) == kind:
            out.extend(members(record))
    return out


def _member_kind(record: DecisionRecord) -> str | None:
    packed: Any = record.unpacked().candidates
    return str(packed.get("kind")) if isinstance(packed, Mapping) else None


__all__ = [
    "BATCH_KIND",
    "COLUMNAR",
    "SEPARATOR",
    "action_count",
    "action_id",
    "batch_record",
    "candidate_features",
    "columnar_record",
    "expand",
    "member",
    "member_count",
    "member_extras",
    "member_id",
    "member_ids",
    "member_positions",
    "members",
    "members_by_batch",
    "split_member",
]
