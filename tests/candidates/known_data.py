"""Tiny interaction logs whose right recommendations are obvious."""

from __future__ import annotations

import numpy as np

from limelight.candidates import Interactions, ItemMeta

DAY = 86_400.0


def two_groups(users_per_group: int = 20, items_per_group: int = 10, seed: int = 0) -> Interactions:
    """Group A (users ``a*``) watches only ``A*`` titles (Action), group B only ``B*`` titles
    (Romance). Each person watches 6 random titles of their group over a few days. Two titles
    nobody watched (``A-new``, ``B-new``) carry metadata only."""
    rng = np.random.default_rng(seed)
    users: list[str] = []
    items: list[str] = []
    stamps: list[float] = []
    for group in ("A", "B"):
        for u in range(users_per_group):
            chosen = rng.choice(items_per_group, size=6, replace=False)
            start = float(rng.integers(0, 30)) * DAY
            for step, item in enumerate(chosen):
                users.append(f"{group.lower()}{u}")
                items.append(f"{group}{item}")
                stamps.append(start + step * 2 * DAY + 60.0 * u)
    meta = {
        f"{g}{i}": ItemMeta(genres=(genre,), release_year=1990 + i)
        for g, genre in (("A", "Action"), ("B", "Romance"))
        for i in range(items_per_group)
    }
    meta["A-new"] = ItemMeta(genres=("Action",), release_year=2000)
    meta["B-new"] = ItemMeta(genres=("Romance",), release_year=2000)
    return Interactions.from_arrays(users, items, timestamps=stamps, metadata=meta)


def strict_sequence(n_users: int = 12) -> Interactions:
    """Everyone watches ``a`` then ``b`` then ``c`` (plus ``x`` and ``y`` early on)."""
    users: list[str] = []
    items: list[str] = []
    stamps: list[float] = []
    for u in range(n_users):
        for step, item in enumerate(
            ["x", "y", "a", "b", "c"] if u % 2 else ["y", "x", "a", "b", "c"]
        ):
            users.append(f"u{u}")
            items.append(item)
            stamps.append(u * DAY + step * 600.0)
    return Interactions.from_arrays(users, items, timestamps=stamps)
