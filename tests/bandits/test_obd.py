"""The Open Bandit Dataset sample, read from the obp wheel (fetched once into a test cache).

The cache is ``~/.cache/limelight-test-data`` unless ``LIMELIGHT_TEST_CACHE`` names another
folder; the first run downloads ``obp==0.4.1`` with pip, later runs only read the files.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from limelight.bandits.ope import evaluate
from limelight.datasets import obd
from limelight.errors import DatasetError

CACHE = Path(os.environ.get("LIMELIGHT_TEST_CACHE", "~/.cache/limelight-test-data")).expanduser()
N_ACTIONS = {"all": 80, "men": 34, "women": 46}


@pytest.fixture(scope="module")
def folder() -> Path:
    return obd.fetch(CACHE)


@pytest.mark.parametrize("policy", obd.POLICIES)
@pytest.mark.parametrize("campaign", obd.CAMPAIGNS)
def test_every_log_has_its_known_size(
    folder: Path, policy: obd.BehaviorPolicy, campaign: obd.Campaign
) -> None:
    data = obd.read(folder, policy, campaign)
    assert data.n_rounds == 10_000
    assert data.n_actions == N_ACTIONS[campaign]
    assert data.len_list == 3
    assert set(np.unique(data.position)) == {0, 1, 2}
    assert data.action.min() >= 0 and data.action.max() < data.n_actions
    assert set(np.unique(data.reward)) <= {0, 1}
    assert np.all((data.pscore > 0) & (data.pscore <= 1))
    assert data.context.shape[0] == 10_000 and set(np.unique(data.context)) <= {0, 1}
    assert data.action_context.shape == (data.n_actions, 5)
    assert data.user_item_affinity.shape == (10_000, data.n_actions)
    assert np.all(data.timestamp[:-1] <= data.timestamp[1:])
    if policy == "random":
        assert np.allclose(data.pscore, 1 / data.n_actions)


def test_known_click_counts(folder: Path) -> None:
    assert obd.read(folder, "random", "all").reward.sum() == 38
    assert obd.read(folder, "bts", "all").on_policy_value == pytest.approx(0.0042)


def test_prior_and_bts_distribution(folder: Path) -> None:
    prior = obd.read_prior(folder / obd.PRIOR_FILE)
    assert set(prior) == set(obd.CAMPAIGNS)
    for campaign, n_actions in N_ACTIONS.items():
        assert prior[campaign]["alpha"].shape == prior[campaign]["beta"].shape == (n_actions,)
    assert prior["all"]["alpha"][:3].tolist() == [47.0, 8.0, 62.0]
    dist = obd.bts_policy(folder, "men", n_sim=20_000)
    assert dist.shape == (34, 3)
    assert np.allclose(dist.sum(axis=0), 1.0)
    again = obd.bts_policy(folder, "men", n_sim=20_000)
    assert np.array_equal(dist, again)


def test_ips_of_bts_from_the_random_log_is_obps_figure(folder: Path) -> None:
    """obp's quickstart: IPW estimate of BTS from Random/all is 0.004553 (n_sim=100,000)."""
    data = obd.read(folder, "random", "all")
    dist = np.tile(obd.bts_policy(folder, "all"), (data.n_rounds, 1, 1))
    report = evaluate(data.feedback(), dist, n_bootstrap=20)
    assert report.values()["ips"] == pytest.approx(0.00455288, abs=1e-12)
    assert report.diagnostics.max_weight < 80


def test_bootstrap_resamples_rounds_as_obp_does(folder: Path) -> None:
    data = obd.read(folder, "random", "women")
    sample = data.bootstrap(3)
    index = np.random.RandomState(3).choice(np.arange(10_000), size=10_000, replace=True)
    assert np.array_equal(sample.action, data.action[index])
    assert np.array_equal(sample.context, data.context[index])
    assert sample.action_context is data.action_context


def test_the_prior_reader_rejects_other_shapes(tmp_path: Path) -> None:
    path = tmp_path / "prior.yaml"
    path.write_text("all:\n  alpha:\n    - 1.0\n  beta:\n    - x\n")
    with pytest.raises(DatasetError):
        obd.read_prior(path)
    path.write_text("all:\n  alpha:\n    - 1.0\n")
    with pytest.raises(DatasetError):
        obd.read_prior(path)


def test_a_wheel_with_another_hash_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "obp-0.4.1-py3-none-any.whl"
    fake.write_bytes(b"not the wheel")
    with pytest.raises(DatasetError):
        obd.fetch(tmp_path / "data", wheel=fake)
    assert not (tmp_path / "data" / obd.FOLDER).exists()
