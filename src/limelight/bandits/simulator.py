"""A seeded artwork simulator with a known click model, for regret curves and policy checks.

Simulated, not measured: every figure from here says so.

Why this shape: artwork personalization pays only when the best image differs between people
and situations. Here each user has a latent taste over genres; their liking of an artwork style
and palette follows from that taste, the device (a text-heavy poster reads badly on a phone) and
the time of day (dark palettes do better at night). The click probability is a logistic model of

    title appeal + variant quality + taste . style/palette effects
    + device x style + time x palette + title-genre x style

with all coefficients drawn once from the seed. The policy sees what a real service would know:
the user's profile (genre affinities, a noisy reading of the taste, and the favourite genre),
device, time of day and the title's genre; the artwork's style and palette as action features.
It never sees the latent taste itself, so even a perfect learner stays a little below the
oracle, which knows the exact click probabilities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from limelight.bandits.base import Action, Features, Policy

GENRES = ("drama", "comedy", "action", "romance", "thriller")
STYLES = ("close-up", "ensemble", "landscape", "text-forward", "minimal")
PALETTES = ("warm", "cool", "dark", "bright")
DEVICES = ("tv", "mobile", "tablet")
DEVICE_SHARE = (0.5, 0.35, 0.15)
TIMES = ("morning", "afternoon", "evening", "night")
TIME_SHARE = (0.15, 0.2, 0.45, 0.2)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return result


@dataclass(frozen=True, slots=True)
class Round:
    """One decision's situation: who, where, when, which title, and its candidate artworks."""

    user: int
    device: int
    time: int
    title: int
    context: Features
    actions: tuple[Action, ...]
    probabilities: np.ndarray  # true click probability of each candidate
    draw: float  # uniform number deciding the click (the same for every policy)


@dataclass(frozen=True, slots=True)
class RunResult:
    """Per decision: the chosen artwork's true click probability and the click itself, with
    the oracle's and the best fixed artwork's probabilities on the same rounds."""

    name: str
    expected: np.ndarray
    clicks: np.ndarray
    oracle: np.ndarray
    fixed: np.ndarray
    uniform: np.ndarray
    logged_probability: np.ndarray

    def click_rate_curve(
        self, every: int = 1000, *, running: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Decisions so far and the expected click rate at those points: the running mean
        since the start, or (``running=False``) the mean of each block of ``every`` decisions."""
        points = np.arange(every, self.expected.shape[0] + 1, every)
        totals = np.cumsum(self.expected)[points - 1]
        if running:
            return points, totals / points
        return points, np.diff(totals, prepend=0.0) / every

    def regret_curve(self, against: str = "oracle") -> np.ndarray:
        """Cumulative expected clicks lost against ``oracle`` or ``fixed``."""
        reference = self.oracle if against == "oracle" else self.fixed
        result: np.ndarray = np.cumsum(reference - self.expected)
        return result

    def window_ratio(self, window: int, against: str = "oracle") -> float:
        """Click rate over the last ``window`` decisions relative to ``oracle`` or ``fixed``."""
        reference = self.oracle if against == "oracle" else self.fixed
        return float(self.expected[-window:].mean() / reference[-window:].mean())


class ArtworkSimulator:
    """Users, titles with 3-5 artwork variants, and a known logistic click model.

    ``personalization`` scales the taste, device and time effects against the shared appeal
    of each variant: at 0 the best artwork is the same for everyone.

    >>> simulator = ArtworkSimulator(n_users=50, n_titles=4, seed=1)
    >>> first = simulator.rounds(3, seed=2)[0]
    >>> sorted(first.context)[:3]
    ['device', 'favourite', 'genre']
    >>> 3 <= len(first.actions) <= 5
    True
    """

    def __init__(
        self,
        *,
        n_users: int = 2000,
        n_titles: int = 20,
        personalization: float = 1.0,
        base_rate: float = 0.08,
        profile_noise: float = 0.05,
        seed: int = 0,
    ) -> None:
        rng = np.random.default_rng(seed)
        self.n_users, self.n_titles = n_users, n_titles
        genres, styles, palettes = len(GENRES), len(STYLES), len(PALETTES)
        self.taste = rng.dirichlet(np.full(genres, 0.5), size=n_users)
        self.profile = np.clip(self.taste + rng.normal(0, profile_noise, self.taste.shape), 0, 1)
        self.title_genre = rng.integers(0, genres, n_titles)
        counts = rng.integers(3, 6, n_titles)
        self.variant_title = np.repeat(np.arange(n_titles), counts)
        n_variants = int(counts.sum())
        self.variant_style = np.concatenate(
            [rng.choice(styles, size=c, replace=False) for c in counts]
        )
        self.variant_palette = rng.integers(0, palettes, n_variants)
        # The shared part: how good each image is for everyone.
        title_appeal = rng.normal(np.log(base_rate / (1 - base_rate)), 0.3, n_titles)
        quality = rng.normal(0.0, 0.25, n_variants)
        genre_style = rng.normal(0.0, 0.3, (genres, styles))
        shared = (
            title_appeal[self.variant_title]
            + quality
            + genre_style[self.title_genre[self.variant_title], self.variant_style]
        )
        # The personal part: taste, device and time of day.
        strength = personalization
        taste_style = rng.normal(0.0, 1.6 * strength, (genres, styles))
        taste_palette = rng.normal(0.0, 0.8 * strength, (genres, palettes))
        device_style = rng.normal(0.0, 0.5 * strength, (len(DEVICES), styles))
        time_palette = rng.normal(0.0, 0.4 * strength, (len(TIMES), palettes))
        per_variant = (
            taste_style[:, self.variant_style] + taste_palette[:, self.variant_palette]
        )  # genres x variants
        centred = self.taste - self.taste.mean(axis=0)
        self._user_logit = shared + centred @ per_variant  # users x variants
        self._device_logit = device_style[:, self.variant_style]
        self._time_logit = time_palette[:, self.variant_palette]
        self._title_variants = [np.flatnonzero(self.variant_title == t) for t in range(n_titles)]
        self._actions = [
            tuple(
                Action(
                    f"t{t}-v{v}",
                    {
                        "style": STYLES[self.variant_style[v]],
                        "palette": PALETTES[self.variant_palette[v]],
                    },
                )
                for v in variants
            )
            for t, variants in enumerate(self._title_variants)
        ]
        self.best_fixed = self._best_fixed()

    def click_probabilities(self, user: int, device: int, time: int, title: int) -> np.ndarray:
        """True click probability of each variant of ``title`` in this situation."""
        variants = self._title_variants[title]
        logits = (
            self._user_logit[user, variants]
            + self._device_logit[device, variants]
            + self._time_logit[time, variants]
        )
        return _sigmoid(logits)

    def _best_fixed(self) -> np.ndarray:
        """Per title, the index (among its variants) of the best artwork on average over
        users, devices and times: the best a non-personalized choice can do."""
        best = np.zeros(self.n_titles, dtype=int)
        device_share, time_share = np.array(DEVICE_SHARE), np.array(TIME_SHARE)
        for title, variants in enumerate(self._title_variants):
            logits = (
                self._user_logit[:, None, None, variants]
                + self._device_logit[None, :, None, variants]
                + self._time_logit[None, None, :, variants]
            )
            weights = device_share[None, :, None, None] * time_share[None, None, :, None]
            means = (_sigmoid(logits) * weights).sum(axis=(1, 2)).mean(axis=0)
            best[title] = int(means.argmax())
        return best

    def context(self, user: int, device: int, time: int, title: int) -> Features:
        """What the policy is told: the user's profile, device, time and the title's genre."""
        profile = self.profile[user]
        features: dict[str, float | str] = {
            f"taste_{genre}": round(float(profile[g]), 3) for g, genre in enumerate(GENRES)
        }
        features["favourite"] = GENRES[int(profile.argmax())]
        features["device"] = DEVICES[device]
        features["time"] = TIMES[time]
        features["genre"] = GENRES[int(self.title_genre[title])]
        return features

    def rounds(self, n: int, seed: int = 0) -> list[Round]:
        """``n`` decision situations, the same for every policy given the seed."""
        rng = np.random.default_rng(seed)
        users = rng.integers(0, self.n_users, n)
        devices = rng.choice(len(DEVICES), size=n, p=DEVICE_SHARE)
        times = rng.choice(len(TIMES), size=n, p=TIME_SHARE)
        titles = rng.integers(0, self.n_titles, n)
        draws = rng.random(n)
        return [
            Round(
                int(u),
                int(d),
                int(t),
                int(title),
                self.context(int(u), int(d), int(t), int(title)),
                self._actions[int(title)],
                self.click_probabilities(int(u), int(d), int(t), int(title)),
                float(draw),
            )
            for u, d, t, title, draw in zip(users, devices, times, titles, draws, strict=True)
        ]


Chooser = Callable[[Round], tuple[int, float]]
"""Picks a candidate index for a round and returns it with its probability."""


def run(
    simulator: ArtworkSimulator,
    policy: Policy | None,
    n_decisions: int,
    *,
    seed: int = 0,
    name: str | None = None,
    chooser: Chooser | None = None,
    rounds: list[Round] | None = None,
) -> RunResult:
    """Play ``policy`` (learning from every click) or a fixed ``chooser`` for ``n_decisions``.

    Every run with the same simulator and seed sees the same users, titles and click draws, so
    curves of different policies differ only by their choices.
    """
    if (policy is None) == (chooser is None):
        raise ValueError("give exactly one of policy and chooser")
    played = rounds if rounds is not None else simulator.rounds(n_decisions, seed)
    expected, clicks = np.zeros(n_decisions), np.zeros(n_decisions)
    oracle, fixed, uniform = np.zeros(n_decisions), np.zeros(n_decisions), np.zeros(n_decisions)
    logged = np.zeros(n_decisions)
    for step, situation in enumerate(played[:n_decisions]):
        truth = situation.probabilities
        if policy is not None:
            decision = policy.rank(situation.context, situation.actions)
            index = next(i for i, a in enumerate(situation.actions) if a.id == decision.chosen)
            probability = decision.probability
        else:
            assert chooser is not None
            index, probability = chooser(situation)
        click = float(situation.draw < truth[index])
        if policy is not None:
            policy.learn_one(situation.context, situation.actions[index], click, probability)
        expected[step], clicks[step], logged[step] = truth[index], click, probability
        oracle[step] = truth.max()
        fixed[step] = truth[simulator.best_fixed[situation.title]]
        uniform[step] = truth.mean()
    label = name or (policy.name if policy is not None else "chooser")
    return RunResult(label, expected, clicks, oracle, fixed, uniform, logged)


def oracle_chooser(situation: Round) -> tuple[int, float]:
    """The full oracle: the truly best artwork for this user, device and time."""
    return int(situation.probabilities.argmax()), 1.0


def fixed_chooser(simulator: ArtworkSimulator) -> Chooser:
    """The best single artwork per title (the oracle of a fixed choice)."""

    def choose(situation: Round) -> tuple[int, float]:
        return int(simulator.best_fixed[situation.title]), 1.0

    return choose
