"""Builders shared by the experiments tests."""

from __future__ import annotations

from typing import Any


def definition(key: str = "home-rows", **fields: Any) -> dict[str, Any]:
    """A valid experiment definition: two equal arms judged on click-through."""
    body: dict[str, Any] = {
        "key": key,
        "hypothesis": "Personalized rows get more clicks than popular ones.",
        "variants": [
            {"key": "control", "parameters": {"ranker": "popular"}},
            {"key": "treatment", "parameters": {"ranker": "personalized"}},
        ],
        "metrics": {"primary": ["click_through"]},
    }
    body.update(fields)
    return body
