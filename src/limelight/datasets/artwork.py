"""Seeded artwork variants for titles that ship without any (MovieLens has no images).

Why: the artwork bandit needs several thumbnails per title whose style attributes it can learn
from. Each title gets 3-5 variants with distinct styles; the palette leans on the genres (a
horror film is more often dark) so that simulated tastes for styles have something to find.
The same seed and item id always give the same variants.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from limelight.catalog.model import Artwork

STYLES = ("close-up", "ensemble", "landscape", "text-forward", "minimal")
PALETTES = ("warm", "cool", "dark", "bright")
FOCI = ("face", "action", "scenery")

# Which focus fits a style: a close-up shows a face, a landscape shows scenery.
_STYLE_FOCI: dict[str, tuple[str, ...]] = {
    "close-up": ("face",),
    "ensemble": ("face", "action"),
    "landscape": ("scenery", "action"),
    "text-forward": FOCI,
    "minimal": ("face", "scenery"),
}
# Genres that pull the palette one way; others leave it uniform.
_GENRE_PALETTES: dict[str, str] = {
    "Horror": "dark",
    "Film-Noir": "dark",
    "Thriller": "dark",
    "Crime": "dark",
    "Children's": "bright",
    "Animation": "bright",
    "Comedy": "bright",
    "Musical": "bright",
    "Romance": "warm",
    "Drama": "warm",
    "Western": "warm",
    "Sci-Fi": "cool",
    "War": "cool",
    "Documentary": "cool",
}


def artwork_url(item_id: str, artwork_id: str) -> str:
    """Where the dashboard serves a variant's generated image."""
    return f"/ui/artwork/{item_id}/{artwork_id}.svg"


def variants(item_id: str, genres: Sequence[str] = (), *, seed: int = 7) -> list[Artwork]:
    """3-5 artwork variants with distinct styles; the first is the default."""
    rng = random.Random(f"{seed}:{item_id}")
    count = rng.randint(3, 5)
    styles = rng.sample(STYLES, count)
    weights = [1.0] * len(PALETTES)
    for genre in genres:
        leaning = _GENRE_PALETTES.get(genre)
        if leaning is not None:
            weights[PALETTES.index(leaning)] += 1.0
    found = []
    for position, style in enumerate(styles):
        palette = rng.choices(PALETTES, weights=weights)[0]
        focus = rng.choice(_STYLE_FOCI[style])
        artwork_id = f"{style}-{palette}"
        found.append(
            Artwork(
                artwork_id=artwork_id,
                url=artwork_url(item_id, artwork_id),
                attributes={"style": style, "palette": palette, "focus": focus},
                is_default=position == 0,
            )
        )
    return found
