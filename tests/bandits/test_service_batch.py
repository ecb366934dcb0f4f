"""Batch decisions (a page of tiles in one context): the same answers as ``decide_many``, one
log row that resolves to each member's own record, and rewards, window closing, reports and
off-policy evaluation that see the members."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from limelight import Engine
from limelight.bandits import Action
from limelight.bandits import service as service_module
from limelight.bandits.offpolicy import logged_rounds
from limelight.bandits.served import read_served
from limelight.bandits.service import DecisionRequest, DecisionResult
from limelight.bandits.shared import ActionTable
from limelight.decisions import BATCH_KIND, member_id, split_member
from limelight.errors import InvalidInput
from limelight.storage.schema import bandit_learned, decisions
from tests.bandits.test_service_decisions import POLICIES
from tests.bandits.test_service_support import Clock, count, ledger, point, service_for
from tests.helpers import event

STYLES = ("dark", "bright", "calm", "vivid")


def catalogue(titles: int = 12) -> tuple[ActionTable, list[list[str]]]:
    """Titles with 2-4 artwork variants each; artwork ids repeat across titles (``a0``...)
    with other features, as they do in a real catalogue."""
    entries: list[tuple[str, Action]] = []
    lists: list[list[str]] = []
    for t in range(titles):
        keys = []
        for k in range(2 + t % 3):
            action = Action(
                f"a{k}",
                {"style": STYLES[(t + k) % 4], "warm": float(k % 2), "default": int(k == 0)},
            )
            key = f"t{t}/a{k}"
            entries.append((key, action))
            keys.append(key)
        lists.append(keys)
    return ActionTable.build(entries), lists


def requests_for(table: ActionTable, lists: list[list[str]], context: dict[str, str]) -> list:
    return [
        DecisionRequest(
            context,
            [Action(table.ids[table.index[k]], dict(table.features[table.index[k]])) for k in keys],
        )
        for keys in lists
    ]


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_decide_batch_equals_decide_many(sqlite_engine: Engine, name: str) -> None:
    """Two points with one definition and seed: pages through ``decide_batch`` and the same
    decisions through ``decide_many``, both learning the same rewards, answer alike."""
    service = service_for(sqlite_engine, Clock())
    service.configure({**POLICIES[name], "name": "paged"})
    service.configure({**POLICIES[name], "name": "many"})
    table, lists = catalogue()
    rng = np.random.default_rng(3)
    for page in range(6):
        context = {
            "device": ["tv", "mobile"][page % 2],
            "daypart": ["evening", "morning"][page % 3 % 2],
        }
        order = [lists[int(i)] for i in rng.permutation(len(lists))]
        paged = service.decide_batch("paged", context, table, order, person_id="ada")
        many = service.decide_many("many", requests_for(table, order, context))
        assert len(paged.decision_ids) == len(many) == len(order)
        for k, one in enumerate(many):
            record = sqlite_engine.decisions.get(paged.decision_ids[k])
            assert record is not None
            mine = DecisionResult.from_record(record, replayed=False)
            assert mine.chosen == one.chosen == [paged.chosen[k]]
            assert mine.ranking == one.ranking
            assert mine.explored is one.explored is paged.explored[k]
            np.testing.assert_allclose(mine.probabilities, one.probabilities, rtol=1e-9)
            assert mine.probabilities == [paged.probabilities[k]]
            reward = float(rng.random() < 0.3 + 0.2 * (one.chosen[0] == "a1"))
            service.reward(paged.decision_ids[k], reward)
            service.reward(one.decision_id, reward)


def test_members_resolve_to_their_own_records(engine: Engine) -> None:
    service = service_for(engine, Clock())
    service.configure(point(features={"context": ["device"]}))
    table, lists = catalogue(5)
    result = service.decide_batch(
        "artwork",
        {"device": "tv"},
        table,
        lists,
        person_id="ada",
        page_id="page-1",
        member_context=[{"row": f"row-{k % 2}"} for k in range(5)],
    )
    assert result.decision_ids == [member_id(result.batch_id, k) for k in range(5)]
    assert split_member(result.decision_ids[3]) == (result.batch_id, 3)
    before = {d: engine.decisions.get(d) for d in result.decision_ids}
    engine.decisions.flush()
    with engine.database.read() as connection:
        rows = connection.execute(select(decisions.c.kind).where(decisions.c.page_id == "page-1"))
        assert [r[0] for r in rows] == [BATCH_KIND]  # one row for the page
    after = engine.decisions.many(result.decision_ids)
    for k, decision_id in enumerate(result.decision_ids):
        record = after[decision_id]
        assert record == before[decision_id]
        assert record.kind == "bandit" and record.point == "artwork"
        assert record.person_id == "ada" and record.page_id == "page-1"
        assert record.context == {"device": "tv", "row": f"row-{k % 2}"}
        assert [c["id"] for c in record.candidates] == [table.ids[table.index[x]] for x in lists[k]]
        assert record.candidates[0]["features"] == table.features[table.index[lists[k][0]]]
        assert record.chosen == [result.chosen[k]]
        assert sum(record.extra["distribution"]) == pytest.approx(1.0)
    assert engine.decisions.get(member_id(result.batch_id, 5)) is None  # out of range
    assert engine.decisions.get(result.batch_id + "~x") is None


def test_learning_views_of_members_match_their_records(engine: Engine) -> None:
    """What the sweep learns from (views read from the batch row once) is what each member's
    own record says: context, candidates' features, the served probability."""
    service = service_for(engine, Clock())
    service.configure(point(features={"context": ["device"]}))
    table, lists = catalogue(6)
    single = service.decide("artwork", {"device": "mobile"}, [Action("x", {"style": "dark"})])
    result = service.decide_batch(
        "artwork",
        {"device": "tv"},
        table,
        lists,
        person_id="ada",
        member_context=[{"row": f"row-{k % 2}"} for k in range(6)],
    )
    engine.decisions.flush()
    wanted = [*result.decision_ids, single.decision_id, member_id(result.batch_id, 6)]
    with engine.database.read() as connection:
        views = read_served(connection, wanted)
    assert member_id(result.batch_id, 6) not in views  # out of range
    records = engine.decisions.many(wanted[:-1])
    assert views[result.decision_ids[0]].context is views[result.decision_ids[2]].context
    for decision_id in wanted[:-1]:
        view, record = views[decision_id], records[decision_id]
        assert (view.point, view.person_id, dict(view.context)) == (
            record.point,
            record.person_id,
            record.context,
        )
        for candidate in record.candidates:
            features, probability = view.action(candidate["id"]) or ({}, -1.0)
            assert dict(features) == candidate["features"]
            served = candidate["id"] in record.chosen
            assert probability == (record.probabilities[0] if served else 1.0)
        assert view.action("nope") is None


def test_member_rewards_learn_and_the_rest_get_the_default_once(engine: Engine) -> None:
    """A clicked tile is learned from its click; the page's other tiles get the default in one
    rest row that stands for them; after that the page is closed (a click is late)."""
    clock = Clock()
    service = service_for(engine, clock)
    service.configure(point(reward={"default": -0.5}))
    table, lists = catalogue(6)
    result = service.decide_batch("artwork", {"device": "tv"}, table, lists, person_id="ada")
    clicked = result.decision_ids[2]
    assert engine.ingest([event("click", user="ada", item="t2", decision_id=clicked)]).accepted == 1
    (row,) = ledger(engine, clicked)
    assert row["value"] == 1.0 and row["action_id"] == result.chosen[2] and row["pairs"] == 1
    before = service.report("artwork").learned
    clock.advance(61)
    assert service.close_windows() == 5
    assert service.close_windows() == 0
    assert count(engine, bandit_learned, point="artwork") == 2
    (rest,) = ledger(engine, result.batch_id)
    assert (rest["action_id"], rest["rule"], rest["value"], rest["pairs"]) == (
        "*",
        "default",
        -0.5,
        5,
    )
    assert rest["person_id"] == "ada"
    for decision_id in result.decision_ids:
        if decision_id != clicked:
            assert ledger(engine, decision_id) == []
    report = service.report("artwork")
    assert report.learned == before + 5 == 6
    assert report.mean_learned_reward == pytest.approx((1.0 - 0.5 * 5) / 6)
    assert report.rewards["default_in_window"] == 5
    late = service.reward(result.decision_ids[0], 1.0)
    assert (late.status, late.in_window) == ("late", False)
    assert count(engine, bandit_learned, point="artwork") == 2
    rounds = logged_rounds(engine.database, service.point("artwork"))
    values = dict(zip(rounds.decision_ids, rounds.reward.tolist(), strict=True))
    assert values == {d: (1.0 if d == clicked else -0.5) for d in result.decision_ids}


@pytest.mark.parametrize("name", ["epsilon-greedy", "linucb-shared"])
def test_a_restart_replays_a_rest_row_as_the_pairs_it_stands_for(
    sqlite_engine: Engine, name: str
) -> None:
    """A crash after pages closed: the restarted model, replaying the ledger (one rest row per
    page), equals the live one, which learned each tile."""
    engine = sqlite_engine
    clock = Clock()
    live = service_for(engine, clock)
    live.configure({**POLICIES[name], "reward": {"window_s": 60.0, "default": -0.25}})
    table, lists = catalogue(9)
    rng = np.random.default_rng(5)
    for page in range(4):
        context = {"device": ["tv", "mobile"][page % 2]}
        order = [lists[int(i)] for i in rng.permutation(len(lists))]
        result = live.decide_batch("artwork", context, table, order, person_id=f"p{page}")
        for k in rng.choice(len(order), 2, replace=False):
            live.reward(result.decision_ids[int(k)], 1.0)
    clock.advance(61)
    assert live.close_windows() == 4 * 9 - 8
    engine.decisions.flush()
    restarted = service_for(engine, clock)  # never saved: the ledger is all it has
    assert restarted.model_version("artwork") == live.model_version("artwork")
    lost, replayed = live.policy("artwork"), restarted.policy("artwork")
    for device in ("tv", "mobile", "web"):
        for position, action_id in enumerate(table.ids):
            action = Action(action_id, dict(table.features[position]))
            assert replayed.predict_one({"device": device}, action) == pytest.approx(
                lost.predict_one({"device": device}, action), rel=1e-9, abs=1e-12
            )


def test_reports_and_off_policy_rounds_count_members(engine: Engine) -> None:
    clock = Clock()
    service = service_for(engine, clock)
    service.configure(point())
    table, lists = catalogue(8)
    service.decide_batch("artwork", {"device": "tv"}, table, lists, person_id="ada")
    service.decide("artwork", {"device": "tv"}, [Action("x"), Action("y")], person_id="bo")
    clock.advance(61)
    service.close_windows()
    report = service.report("artwork")
    assert report.decisions == {"live": 9}
    rounds = logged_rounds(engine.database, service.point("artwork"))
    assert len(rounds.decision_ids) == 9
    assert rounds.decision_ids[:8] == [member_id(rounds.decision_ids[0][:-2], k) for k in range(8)]
    assert float(rounds.pscore.min()) > 0


def test_apprentice_batches_serve_the_baseline(engine: Engine) -> None:
    service = service_for(engine, Clock())
    service.configure(point(rollout={"mode": "apprentice"}))
    table, lists = catalogue(9)
    result = service.decide_batch("artwork", {"device": "tv"}, table, lists, person_id="ada")
    assert result.chosen == ["a0"] * 9  # the variant flagged default
    assert set(result.modes) == {"apprentice"}
    report = service.report("artwork")
    assert report.apprentice_decisions == 9 and report.agreement_rate is not None


def test_batch_inputs_are_checked(engine: Engine) -> None:
    service = service_for(engine, Clock())
    service.configure(point(features={"context": ["device"]}))
    table, lists = catalogue(3)
    with pytest.raises(InvalidInput) as unknown:
        service.decide_batch("artwork", {}, table, [lists[0], ["nope"]])
    assert unknown.value.field == "lists.1"
    with pytest.raises(InvalidInput) as empty:
        service.decide_batch("artwork", {}, table, [[]])
    assert empty.value.field == "lists.0"
    twice = ActionTable.build([("k1", Action("a")), ("k2", Action("a"))])
    with pytest.raises(InvalidInput, match="unique") as duplicate:
        service.decide_batch("artwork", {}, twice, [["k1", "k2"]])
    assert duplicate.value.field == "lists.0"
    with pytest.raises(InvalidInput) as learned:
        service.decide_batch("artwork", {}, table, lists, member_context=[{"device": "tv"}] * 3)
    assert learned.value.field == "member_context.0"
    with pytest.raises(InvalidInput) as bad_feature:
        ActionTable.build([("k", Action("a", {"x": float("nan")}))])
    assert bad_feature.value.field == "actions.k.features.x"
    with pytest.raises(InvalidInput):
        service.decide_batch("artwork", {"device": ["tv"]}, table, lists)  # type: ignore[dict-item]
    assert count(engine, decisions) == 0  # nothing refused was logged


def test_an_extended_table_derives_what_a_fresh_one_does() -> None:
    """Tables grow a few titles at a time; their per-point data is extended, not recomputed,
    and must equal a table built at once."""
    whole, _ = catalogue(12)
    entries = list(
        zip(
            whole.keys,
            (Action(i, dict(f)) for i, f in zip(whole.ids, whole.features, strict=True)),
            strict=True,
        )
    )
    grown = ActionTable.build(entries[:5])
    grown.derived(("artwork", 1), dict)
    assert len(grown.feature_groups.numbers) == 5
    for cut in (5, 9, 20, len(entries)):
        previous = grown
        grown = grown.extended(entries[len(previous) : cut])
        if cut in (9, len(entries)):
            grown.derived(("artwork", 1), dict)  # some tables are used, some skipped
        if cut == 9:
            assert "feature_groups" in grown.__dict__  # extended, not to be recomputed
            grown.feature_groups  # noqa: B018 - used again
    fresh = ActionTable.build(entries)
    mine, theirs = grown.derived(("artwork", 1), dict), fresh.derived(("artwork", 1), dict)
    assert mine.selected == theirs.selected and mine.unique == theirs.unique
    np.testing.assert_array_equal(mine.signatures, theirs.signatures)
    np.testing.assert_array_equal(grown.feature_groups.numbers, fresh.feature_groups.numbers)
    assert grown.feature_groups.distinct == fresh.feature_groups.distinct
    assert [grown.feature_groups.distinct[n] for n in grown.feature_groups.numbers] == list(
        fresh.features
    )


def test_a_table_derives_once_per_point_configuration() -> None:
    """Every page asks for the same point's derived data: the second ask is the cached object
    (a page with 200 tiles re-deriving a whole catalogue cost ~20 ms), a new revision is not."""
    whole, _ = catalogue(12)
    calls: list[int] = []

    def select(features: dict[str, object]) -> dict[str, object]:
        calls.append(1)
        return dict(features)

    first = whole.derived(("artwork", 1), select)
    assert len(calls) == len(whole)
    assert whole.derived(("artwork", 1), select) is first
    assert len(calls) == len(whole)
    assert whole.derived(("artwork", 2), select) is not first
    assert len(calls) == 2 * len(whole)


def test_pages_close_whole_over_several_write_transactions(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep's transactions hold about ``_PAGE`` members but never split a batch row (its
    rest row covers the whole page): each page learned once, none skipped, and a second sweep
    finds nothing left."""
    monkeypatch.setattr(service_module, "_PAGE", 4)
    clock = Clock()
    service = service_for(engine, clock)
    service.configure(point(reward={"default": -0.5}))
    table, lists = catalogue(6)
    pages = [
        service.decide_batch("artwork", {"device": d}, table, lists, person_id=p)
        for d, p in (("tv", "ada"), ("web", "bob"), ("tv", "cy"))
    ]
    clock.advance(1)
    single = service.decide("artwork", {"device": "tv"}, [Action("x"), Action("y")])
    closing = service._close_page
    transactions: list[list[str]] = []

    def spy(runtime: Any, page: Any) -> int:
        transactions.append([c.decision_id for c in page])
        return int(closing(runtime, page))

    monkeypatch.setattr(service, "_close_page", spy)
    clock.advance(61)
    assert service.close_windows() == 3 * 6 + 1
    assert sorted(transactions[:3]) == sorted([p.batch_id] for p in pages)
    assert transactions[3:] == [[single.decision_id]]
    assert service.close_windows() == 0
    for page in pages:
        (rest,) = ledger(engine, page.batch_id)
        assert (rest["rule"], rest["value"], rest["pairs"]) == ("default", -0.5, 6)
    (row,) = ledger(engine, single.decision_id)
    assert (row["rule"], row["value"], row["pairs"]) == ("default", -0.5, 1)
