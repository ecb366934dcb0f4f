"""Generated SVG posters for artwork variants, so the artwork bandit has something to show.

Why generated: MovieLens ships no images, and a preview page whose tiles all look alike cannot
show what the artwork decision changed. Each variant is drawn from its attributes (style sets the
composition, palette the colours, focus adds a motif), with the title on it. The drawing is a
pure function of the item id, the variant and the title, so the same URL always gives the same
bytes (which is what makes the ETag honest). Only presentation attributes are used, no
``<style>`` and no script, so the images work under a strict Content-Security-Policy.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

WIDTH = 320
HEIGHT = 180
FONT = "Inter, 'Helvetica Neue', Arial, 'DejaVu Sans', sans-serif"
#: Bumped whenever the drawing changes, so that cached images are fetched again.
VERSION = "1"
# XML 1.0 forbids most control characters even when escaped; titles may carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Palette:
    """The colours of one palette: a sky gradient, an accent, figures, skin and ink."""

    top: str
    bottom: str
    accent: str
    figure: str
    skin: str
    ink: str


PALETTES: dict[str, Palette] = {
    "warm": Palette("#4a0d16", "#f08a3c", "#ffd166", "#2b0a0a", "#e9a27a", "#fff4e0"),
    "cool": Palette("#081a36", "#2f78a8", "#9ad1d4", "#04101f", "#9fb8d1", "#e8f4ff"),
    "dark": Palette("#030305", "#1d1b2b", "#e63946", "#0c0c14", "#5b5566", "#f1f1f1"),
    "bright": Palette("#ff4f9a", "#ffd23f", "#2ec4b6", "#3a0ca3", "#ffe3c2", "#ffffff"),
}
DEFAULT_PALETTE = "cool"


def escape(text: str) -> str:
    """Text made safe for XML content and attribute values (control characters dropped)."""
    cleaned = _NOT_XML.sub("", text)
    return (
        cleaned.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _close_up(rng: random.Random, colours: Palette) -> list[str]:
    """One large face filling the frame: head, eyes, brows and shoulders."""
    cx = rng.randint(175, 235)
    return [
        f'<path d="M{cx - 120} 180 Q{cx} 112 {cx + 120} 180 Z" fill="{colours.figure}"/>',
        f'<ellipse cx="{cx}" cy="84" rx="58" ry="72" fill="{colours.skin}"/>',
        f'<path d="M{cx - 58} 70 Q{cx} -6 {cx + 58} 70 Q{cx + 40} 26 {cx} 24 '
        f'Q{cx - 40} 26 {cx - 58} 70 Z" fill="{colours.figure}"/>',
        f'<ellipse cx="{cx - 21}" cy="82" rx="8" ry="5" fill="{colours.figure}"/>',
        f'<ellipse cx="{cx + 21}" cy="82" rx="8" ry="5" fill="{colours.figure}"/>',
        f'<path d="M{cx - 14} 118 Q{cx} 126 {cx + 14} 118" stroke="{colours.figure}" '
        'stroke-width="3" fill="none" stroke-linecap="round"/>',
    ]


def _ensemble(rng: random.Random, colours: Palette) -> list[str]:
    """Several figures side by side, of different heights: a cast."""
    count = rng.randint(3, 5)
    step = WIDTH / (count + 1)
    shapes = []
    for index in range(count):
        x = round(step * (index + 1) + rng.randint(-8, 8))
        head_y = rng.randint(58, 84)
        radius = rng.randint(14, 19)
        shapes.append(
            f'<rect x="{x - radius - 6}" y="{head_y + radius + 4}" width="{2 * radius + 12}" '
            f'height="{HEIGHT - head_y}" rx="{radius}" fill="{colours.figure}" '
            f'stroke="{colours.accent}" stroke-width="2"/>'
        )
        shapes.append(
            f'<circle cx="{x}" cy="{head_y}" r="{radius}" fill="{colours.skin}" '
            f'stroke="{colours.accent}" stroke-width="2"/>'
        )
    return shapes


def _landscape(rng: random.Random, colours: Palette) -> list[str]:
    """A horizon under a wide sky: a sun, two ridges of mountains and the ground."""
    horizon = rng.randint(104, 124)
    sun_x = rng.randint(60, 260)
    far = " ".join(f"{x},{horizon - rng.randint(12, 46)}" for x in range(0, WIDTH + 40, 40))
    near = " ".join(f"{x},{horizon + 8 - rng.randint(0, 26)}" for x in range(-20, WIDTH + 40, 55))
    return [
        f'<circle cx="{sun_x}" cy="{horizon - 52}" r="24" fill="{colours.accent}"/>',
        f'<polygon points="0,{horizon} {far} {WIDTH},{horizon}" fill="{colours.figure}" '
        'opacity="0.55"/>',
        f'<polygon points="0,{HEIGHT} {near} {WIDTH},{HEIGHT}" fill="{colours.figure}"/>',
        f'<line x1="0" y1="{horizon}" x2="{WIDTH}" y2="{horizon}" stroke="{colours.accent}" '
        'stroke-width="1" opacity="0.5"/>',
    ]


def _text_forward(title: str, colours: Palette) -> list[str]:
    """The title itself is the picture: big type over a bold bar."""
    words = _clip(title, 40).split(" ")
    first, rest = words[0], " ".join(words[1:])
    size = max(26, min(64, int(560 / max(len(first), 1))))
    shapes = [
        f'<rect x="0" y="30" width="14" height="92" fill="{colours.accent}"/>',
        f'<text x="26" y="{30 + size}" font-family="{FONT}" font-size="{size}" '
        f'font-weight="900" fill="{colours.ink}" letter-spacing="-1">'
        f"{escape(first.upper())}</text>",
    ]
    if rest:
        shapes.append(
            f'<text x="28" y="{52 + size}" font-family="{FONT}" font-size="22" '
            f'font-weight="700" fill="{colours.accent}">{escape(_clip(rest, 24).upper())}</text>'
        )
    return shapes


def _minimal(rng: random.Random, colours: Palette) -> list[str]:
    """One shape on a flat field."""
    shape = rng.choice(("circle", "triangle", "square"))
    cx, cy = rng.randint(130, 190), rng.randint(66, 80)
    if shape == "circle":
        return [f'<circle cx="{cx}" cy="{cy}" r="44" fill="{colours.accent}"/>']
    if shape == "triangle":
        return [
            f'<polygon points="{cx},{cy - 48} {cx + 48},{cy + 38} {cx - 48},{cy + 38}" '
            f'fill="{colours.accent}"/>'
        ]
    return [
        f'<rect x="{cx - 38}" y="{cy - 38}" width="76" height="76" fill="{colours.accent}" '
        f'transform="rotate(12 {cx} {cy})"/>'
    ]


def _motif(focus: str, rng: random.Random, colours: Palette) -> list[str]:
    """A small mark of what the image is about: a face, action, or the scenery."""
    if focus == "face":
        x, y = rng.randint(28, 60), rng.randint(28, 44)
        return [
            f'<circle cx="{x}" cy="{y}" r="16" fill="none" stroke="{colours.accent}" '
            'stroke-width="2" opacity="0.8"/>',
            f'<circle cx="{x}" cy="{y}" r="26" fill="none" stroke="{colours.accent}" '
            'stroke-width="1" opacity="0.45"/>',
        ]
    if focus == "action":
        lines = []
        for index in range(5):
            y = 18 + index * 14 + rng.randint(-3, 3)
            length = rng.randint(40, 90)
            lines.append(
                f'<line x1="{WIDTH - 12 - length}" y1="{y + 22}" x2="{WIDTH - 12}" y2="{y}" '
                f'stroke="{colours.accent}" stroke-width="3" stroke-linecap="round" '
                'opacity="0.85"/>'
            )
        return lines
    if focus == "scenery":
        return [
            f'<circle cx="{rng.randint(10, WIDTH - 10)}" cy="{rng.randint(8, 60)}" '
            f'r="{rng.choice((1, 1.5, 2))}" fill="{colours.ink}" opacity="0.85"/>'
            for _ in range(9)
        ]
    return []


def render_svg(item_id: str, artwork_id: str, title: str, attributes: Mapping[str, Any]) -> str:
    """The poster of one artwork variant, as an SVG document (deterministic).

    Unknown attribute values fall back to a plain drawing instead of failing: clients may send
    their own attribute vocabularies, and a preview should still show something.
    """
    style = str(attributes.get("style", ""))
    palette_name = str(attributes.get("palette", DEFAULT_PALETTE))
    focus = str(attributes.get("focus", ""))
    colours = PALETTES.get(palette_name, PALETTES[DEFAULT_PALETTE])
    seed = hashlib.sha256(f"{VERSION}\x00{item_id}\x00{artwork_id}".encode()).digest()
    rng = random.Random(seed)
    label = escape(_clip(title, 200))
    background = (
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{colours.bottom}"/>'
        if style == "minimal"
        else f'<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#sky)"/>'
    )
    drawing: list[str]
    if style == "close-up":
        drawing = _close_up(rng, colours)
    elif style == "ensemble":
        drawing = _ensemble(rng, colours)
    elif style == "landscape":
        drawing = _landscape(rng, colours)
    elif style == "text-forward":
        drawing = _text_forward(title, colours)
    elif style == "minimal":
        drawing = _minimal(rng, colours)
    else:
        drawing = []
    caption = []
    if style != "text-forward":  # there the title is already the picture
        shown = _clip(title, 28)
        size = 20 if len(shown) <= 22 else 17
        caption = [
            f'<rect y="{HEIGHT - 62}" width="{WIDTH}" height="62" fill="url(#shade)"/>',
            f'<text x="14" y="{HEIGHT - 16}" font-family="{FONT}" font-size="{size}" '
            f'font-weight="700" fill="{colours.ink}">{escape(shown)}</text>',
        ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
        f'data-style="{escape(style)}" data-palette="{escape(palette_name)}" '
        f'data-focus="{escape(focus)}">',
        f"<title>{label}</title>",
        "<defs>"
        '<linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{colours.top}"/>'
        f'<stop offset="1" stop-color="{colours.bottom}"/></linearGradient>'
        '<linearGradient id="shade" x1="0" y1="0" x2="0" y2="1">'
        '<stop offset="0" stop-color="#000" stop-opacity="0"/>'
        '<stop offset="1" stop-color="#000" stop-opacity="0.75"/></linearGradient>'
        "</defs>",
        background,
        *_motif(focus, rng, colours),
        *drawing,
        *caption,
        "</svg>",
    ]
    return "\n".join(parts) + "\n"
