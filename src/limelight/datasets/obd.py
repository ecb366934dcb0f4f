"""The Open Bandit Dataset sample (ZOZOTOWN fashion recommendations, Saito et al. 2020).

Why it matters here: it is real logged bandit feedback with the logging propensities, from two
policies (uniform Random and Bernoulli Thompson sampling, "bts") run side by side on the same
traffic, so estimating BTS's click rate from the Random log can be checked against BTS's own log.

Where it comes from: the small sample ships inside the wheel of ``obp==0.4.1`` under
``obp/dataset/obd/`` (10,000 rounds per policy and campaign), together with the production prior
of BTS (``obp/policy/conf/prior_bts.yaml``). :func:`fetch` downloads that wheel with pip (checked
against its SHA-256), extracts those files into ``dest/obd`` and nothing else; obp itself is never
imported.

The arrays are those of obp's ``OpenBanditDataset`` (rows sorted by timestamp the way pandas
sorts them, positions 0-based, context = one-hot user features with the first level dropped,
action context = label-encoded item features then ``item_feature_0``), so results can be
compared with obp's one to one.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

from limelight.bandits.ope.estimators import LoggedFeedback
from limelight.datasets.wheels import download_wheel
from limelight.errors import DatasetError

Campaign = Literal["all", "men", "women"]
BehaviorPolicy = Literal["random", "bts"]
CAMPAIGNS: tuple[Campaign, ...] = ("all", "men", "women")
POLICIES: tuple[BehaviorPolicy, ...] = ("random", "bts")
OBP = "obp==0.4.1"
WHEEL_SHA256 = "87dec9caf4283c25ab13036532e0a24566f1c7bdcad1653a8ded43b2f5ef8208"
FOLDER = "obd"
PRIOR_FILE = "prior_bts.yaml"
MARKER = "source.json"
PIP_TIMEOUT_S = 600
_DATA_PREFIX = "obp/dataset/obd/"
_PRIOR_MEMBER = "obp/policy/conf/prior_bts.yaml"


def _members() -> list[str]:
    names = []
    for policy in POLICIES:
        for campaign in CAMPAIGNS:
            names += [
                f"{policy}/{campaign}/{campaign}.csv",
                f"{policy}/{campaign}/item_context.csv",
            ]
    return names


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in (*_members(), PRIOR_FILE, MARKER))


def _download_wheel(workdir: Path) -> Path:
    return download_wheel(OBP, workdir, "obp-*.whl", timeout_s=PIP_TIMEOUT_S)


def _extract(wheel: Path, folder: Path) -> None:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise DatasetError(f"{wheel.name} has SHA-256 {digest}, expected {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as archive:
        for name in _members():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(_DATA_PREFIX + name))
        (folder / PRIOR_FILE).write_bytes(archive.read(_PRIOR_MEMBER))
    marker = {"source": f"{OBP} wheel", "sha256": WHEEL_SHA256, "members": _DATA_PREFIX}
    (folder / MARKER).write_text(json.dumps(marker, indent=2))


def fetch(dest: Path, wheel: Path | None = None) -> Path:
    """Put the Open Bandit Dataset sample in ``dest/obd`` and return that folder.

    ``wheel`` may name an already downloaded ``obp-0.4.1`` wheel; by default pip downloads it.
    An existing complete copy is kept (delete the folder to fetch again).
    """
    folder = Path(dest).expanduser() / FOLDER
    if _complete(folder):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{FOLDER}-", dir=folder.parent))
    try:
        if wheel is not None:
            _extract(Path(wheel).expanduser(), staging)
        else:
            with tempfile.TemporaryDirectory(prefix="limelight-obp-") as workdir:
                _extract(_download_wheel(Path(workdir)), staging)
        staging.chmod(0o755)
        if folder.exists():
            shutil.rmtree(folder)  # an incomplete copy from an interrupted fetch
        try:
            staging.replace(folder)
        except OSError:
            if not _complete(folder):  # not another process finishing the same fetch first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenBanditData:
    """One behavior policy's log for one campaign, as arrays (one row per round).

    ``action`` indexes ``action_context`` rows (item ids 0..n_actions-1); ``position`` is the
    slot, 0-based (the app shows three items); ``pscore`` is the logging probability of the
    item at that slot; ``context`` is the one-hot user features; ``user_item_affinity`` is the
    user's past clicks on each item, shape ``(n_rounds, n_actions)``.
    """

    behavior_policy: BehaviorPolicy
    campaign: Campaign
    action: np.ndarray
    position: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray
    context: np.ndarray
    action_context: np.ndarray
    user_item_affinity: np.ndarray
    timestamp: np.ndarray

    @property
    def n_rounds(self) -> int:
        return int(self.action.shape[0])

    @property
    def n_actions(self) -> int:
        return int(self.action_context.shape[0])

    @property
    def len_list(self) -> int:
        return int(self.position.max()) + 1

    @property
    def on_policy_value(self) -> float:
        """The behavior policy's own click rate: the ground truth for OPE of this policy."""
        return float(self.reward.mean())

    def feedback(self) -> LoggedFeedback:
        """The log in the form the estimators take."""
        return LoggedFeedback(self.action, self.reward, self.pscore, self.position, self.context)

    def bootstrap(self, random_state: int) -> OpenBanditData:
        """Rounds resampled with replacement, as obp's ``sample_bootstrap_bandit_feedback``
        draws them (``RandomState(seed).choice(n, n)``), so seed ``b`` gives obp's sample ``b``.
        """
        index = np.random.RandomState(random_state).choice(
            np.arange(self.n_rounds), size=self.n_rounds, replace=True
        )
        return replace(
            self,
            action=self.action[index],
            position=self.position[index],
            reward=self.reward[index],
            pscore=self.pscore[index],
            context=self.context[index],
            user_item_affinity=self.user_item_affinity[index],
            timestamp=self.timestamp[index],
        )


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    if not path.is_file():
        raise DatasetError(f"no file {path}; run limelight.datasets.obd.fetch first")
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise DatasetError(f"{path} is empty")
    return rows[0], rows[1:]


def _column(header: list[str], rows: list[list[str]], name: str, path: Path) -> list[str]:
    if name not in header:
        raise DatasetError(f"{path} has no column {name!r}")
    index = header.index(name)
    return [row[index] for row in rows]


def _one_hot_drop_first(values: list[str]) -> np.ndarray:
    """pandas ``get_dummies(drop_first=True)`` for one column: sorted levels, first dropped."""
    levels = sorted(set(values))[1:]
    lookup = {level: i for i, level in enumerate(levels)}
    out = np.zeros((len(values), len(levels)), dtype=np.uint8)
    for row, value in enumerate(values):
        column = lookup.get(value)
        if column is not None:
            out[row, column] = 1
    return out


def _label_encode(values: list[str]) -> np.ndarray:
    """scikit-learn's ``LabelEncoder``: the index of each value among the sorted levels
    (sorted as numbers when every value is a whole number, as pandas would have read them)."""
    levels: list[str] = sorted(set(values))
    if all(value.lstrip("-").isdigit() for value in levels):
        levels.sort(key=int)
    lookup = {level: i for i, level in enumerate(levels)}
    return np.array([lookup[value] for value in values], dtype=np.int64)


def _action_context(path: Path) -> np.ndarray:
    header, rows = _read_csv(path)
    features = [name for name in header[1:] if name != "item_feature_0"]
    encoded = [_label_encode(_column(header, rows, name, path)) for name in features]
    first = np.array(_column(header, rows, "item_feature_0", path), dtype=float)
    return np.column_stack([*encoded, first]).astype(float)


def read(folder: Path, behavior_policy: BehaviorPolicy, campaign: Campaign) -> OpenBanditData:
    """One log from a folder written by :func:`fetch`."""
    if behavior_policy not in POLICIES or campaign not in CAMPAIGNS:
        raise DatasetError(f"unknown log {behavior_policy}/{campaign}")
    base = Path(folder).expanduser() / behavior_policy / campaign
    path = base / f"{campaign}.csv"
    header, rows = _read_csv(path)
    # pandas' sort_values is an (unstable) quicksort; sorting the same object array with
    # numpy's quicksort puts equal timestamps in the same order as obp does.
    timestamps = np.array(_column(header, rows, "timestamp", path), dtype=object)
    order = timestamps.argsort(kind="quicksort")
    rows = [rows[i] for i in order]
    positions = np.array(_column(header, rows, "position", path), dtype=np.int64)
    levels = np.unique(positions)
    user = [name for name in header if "user_feature" in name]
    affinity = [i for i, name in enumerate(header) if name.startswith("user-item_affinity_")]
    return OpenBanditData(
        behavior_policy=behavior_policy,
        campaign=campaign,
        action=np.array(_column(header, rows, "item_id", path), dtype=np.int64),
        position=np.searchsorted(levels, positions).astype(np.int64),
        reward=np.array(_column(header, rows, "click", path), dtype=np.int64),
        pscore=np.array(_column(header, rows, "propensity_score", path), dtype=float),
        context=np.column_stack(
            [_one_hot_drop_first(_column(header, rows, name, path)) for name in user]
        ),
        action_context=_action_context(base / "item_context.csv"),
        user_item_affinity=np.array(
            [[row[column] for column in affinity] for row in rows], dtype=float
        ),
        timestamp=timestamps[order].astype(str),
    )


def load(dest: Path, behavior_policy: BehaviorPolicy, campaign: Campaign) -> OpenBanditData:
    """Fetch if needed, then read one log."""
    return read(fetch(dest), behavior_policy, campaign)


# -- the Bernoulli Thompson sampling policy of the BTS log ---------------------------------


def read_prior(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """``prior_bts.yaml``: per campaign, the Beta prior's ``alpha`` and ``beta`` per item.

    The file is two levels of keys over lists of numbers (``all:`` / ``  alpha:`` /
    ``    - 47.0``); this reads exactly that shape, so no YAML library is needed.
    """
    prior: dict[str, dict[str, list[float]]] = {}
    campaign: str | None = None
    key: str | None = None
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        text = line.strip()
        if indent == 0 and text.endswith(":"):
            campaign, key = text[:-1], None
            prior[campaign] = {}
        elif campaign is not None and text.endswith(":") and not text.startswith("-"):
            key = text[:-1]
            prior[campaign][key] = []
        elif campaign is not None and key is not None and text.startswith("- "):
            try:
                prior[campaign][key].append(float(text[2:]))
            except ValueError:
                raise DatasetError(f"{path} line {number}: {text!r} is not a number") from None
        else:
            raise DatasetError(f"{path} line {number}: unexpected {text!r}")
    out = {}
    for name, values in prior.items():
        if set(values) != {"alpha", "beta"} or len(values["alpha"]) != len(values["beta"]):
            raise DatasetError(f"{path}: campaign {name!r} needs alpha and beta of equal length")
        out[name] = {key: np.array(items) for key, items in values.items()}
    return out


def bts_action_distribution(
    alpha: np.ndarray,
    beta: np.ndarray,
    *,
    len_list: int = 3,
    n_sim: int = 100_000,
    random_state: int | None = 12345,
    chunk: int = 20_000,
) -> np.ndarray:
    """``P(item a is shown at slot k)`` under Bernoulli TS with Beta(alpha, beta) beliefs.

    Monte Carlo as obp's ``BernoulliTS(is_zozotown_prior=True).compute_batch_action_dist``: each
    simulation draws one Beta sample per item (``RandomState.beta``), ranks the items by it, and
    counts the top ``len_list`` per slot. Vectorized in chunks; the legacy generator fills arrays
    element by element, so the draws and the counts are those of obp's loop for the same seed.
    Returns shape ``(n_actions, len_list)``.
    """
    legacy = np.random.RandomState(random_state)
    n_actions = alpha.shape[0]
    counts = np.zeros((n_actions, len_list))
    done = 0
    while done < n_sim:
        size = min(chunk, n_sim - done)
        draws = legacy.beta(alpha, beta, size=(size, n_actions))
        top = np.argsort(draws, axis=1)[:, ::-1][:, :len_list]
        for slot in range(len_list):
            counts[:, slot] += np.bincount(top[:, slot], minlength=n_actions)
        done += size
    distribution: np.ndarray = counts / n_sim
    return distribution


def bts_policy(
    folder: Path,
    campaign: Campaign,
    *,
    len_list: int = 3,
    n_sim: int = 100_000,
    random_state: int | None = 12345,
) -> np.ndarray:
    """BTS's action distribution for ``campaign`` from the prior shipped with the data."""
    prior = read_prior(Path(folder) / PRIOR_FILE)[campaign]
    return bts_action_distribution(
        prior["alpha"], prior["beta"], len_list=len_list, n_sim=n_sim, random_state=random_state
    )
