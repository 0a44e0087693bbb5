"""A small PNG line plot writer, so the results need no plotting library (nothing to add to requirements.txt).

Panels of series (x, y points) on linear or log axes, with ticks, a title and
a legend, drawn on an RGB canvas with a 5x7 bitmap font (lower case, digits,
a few signs) and written with zlib as a PNG.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

Color = tuple[int, int, int]
BLACK, GREY, LIGHT, WHITE = (0, 0, 0), (110, 110, 110), (225, 225, 225), (255, 255, 255)
PALETTE: list[Color] = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189),
                        (140, 86, 75), (23, 190, 207), (127, 127, 127)]

_GLYPHS = """
0 .###. #...# #..## #.#.# ##..# #...# .###.
1 ..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.
2 .###. #...# ....# ...#. ..#.. .#... #####
3 ##### ...#. ..#.. ...#. ....# #...# .###.
4 ...#. ..##. .#.#. #..#. ##### ...#. ...#.
5 ##### #.... ####. ....# ....# #...# .###.
6 ..##. .#... #.... ####. #...# #...# .###.
7 ##### ....# ...#. ..#.. .#... .#... .#...
8 .###. #...# #...# .###. #...# #...# .###.
9 .###. #...# #...# .#### ....# ...#. .##..
a ..... ..... .###. ....# .#### #...# .####
b #.... #.... #.##. ##..# #...# #...# ####.
c ..... ..... .###. #.... #.... #...# .###.
d ....# ....# .##.# #..## #...# #...# .####
e ..... ..... .###. #...# ##### #.... .###.
f ..##. .#..# .#... ###.. .#... .#... .#...
g ..... ..... .#### #...# .#### ....# .###.
h #.... #.... #.##. ##..# #...# #...# #...#
i ..#.. ..... .##.. ..#.. ..#.. ..#.. .###.
j ...#. ..... ..##. ...#. ...#. #..#. .##..
k #.... #.... #..#. #.#.. ##... #.#.. #..#.
l .##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.
m ..... ..... ##.#. #.#.# #.#.# #...# #...#
n ..... ..... #.##. ##..# #...# #...# #...#
o ..... ..... .###. #...# #...# #...# .###.
p ..... ..... ####. #...# ####. #.... #....
q ..... ..... .#### #...# .#### ....# ....#
r ..... ..... #.##. ##..# #.... #.... #....
s ..... ..... .#### #.... .###. ....# ####.
t .#... .#... ###.. .#... .#... .#..# ..##.
u ..... ..... #...# #...# #...# #..## .##.#
v ..... ..... #...# #...# #...# .#.#. ..#..
w ..... ..... #...# #...# #.#.# #.#.# .#.#.
x ..... ..... #...# .#.#. ..#.. .#.#. #...#
y ..... ..... #...# #...# .#### ....# .###.
z ..... ..... ##### ...#. ..#.. .#... #####
. ..... ..... ..... ..... ..... .##.. .##..
, ..... ..... ..... ..... .##.. ..#.. .#...
- ..... ..... ..... ##### ..... ..... .....
/ ..... ....# ...#. ..#.. .#... #.... .....
( ...#. ..#.. .#... .#... .#... ..#.. ...#.
) .#... ..#.. ...#. ...#. ...#. ..#.. .#...
: ..... .##.. .##.. ..... .##.. .##.. .....
= ..... ..... ##### ..... ##### ..... .....
+ ..... ..#.. ..#.. ##### ..#.. ..#.. .....
% ##... ##..# ...#. ..#.. .#... #..## ...##
_ ..... ..... ..... ..... ..... ..... #####
"""
FONT: dict[str, list[str]] = {line[0]: line[2:].split() for line in _GLYPHS.strip().splitlines()}
FONT[" "] = ["....."] * 7
GLYPH_W, GLYPH_H = 6, 8  # with spacing


class Canvas:
    """An RGB image drawn pixel by pixel."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.pixels = bytearray(WHITE * (width * height))

    def dot(self, x: int, y: int, color: Color) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = 3 * (y * self.width + x)
            self.pixels[i:i + 3] = bytes(color)

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        for y in range(max(0, y0), min(self.height, y1 + 1)):
            for x in range(max(0, x0), min(self.width, x1 + 1)):
                self.dot(x, y, color)

    def line(self, x0: float, y0: float, x1: float, y1: float, color: Color, width: int = 1) -> None:
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        for i in range(steps + 1):
            x, y = x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps
            for dx in range(width):
                for dy in range(width):
                    self.dot(round(x) + dx - width // 2, round(y) + dy - width // 2, color)

    def marker(self, x: float, y: float, color: Color, size: int = 3) -> None:
        self.rect(round(x) - size, round(y) - size, round(x) + size, round(y) + size, color)

    def text(self, x: int, y: int, text: str, color: Color = BLACK, scale: int = 1) -> None:
        for n, char in enumerate(text.lower()):
            rows = FONT.get(char, FONT[" "])
            for r, row in enumerate(rows):
                for c, bit in enumerate(row):
                    if bit == "#":
                        self.rect(x + (n * GLYPH_W + c) * scale, y + r * scale,
                                  x + (n * GLYPH_W + c + 1) * scale - 1, y + (r + 1) * scale - 1, color)

    def png(self) -> bytes:
        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        stride = 3 * self.width
        raw = b"".join(b"\x00" + bytes(self.pixels[y * stride:(y + 1) * stride]) for y in range(self.height))
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + \
            chunk(b"IEND", b"")


def text_width(text: str, scale: int = 1) -> int:
    return len(text) * GLYPH_W * scale


@dataclass
class Series:
    label: str
    points: list[tuple[float, float]]
    dashed: bool = False


@dataclass
class Panel:
    """One chart: a title, axis labels, log or linear axes, and its series."""

    title: str
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    log_x: bool = False
    log_y: bool = False


def _ticks(low: float, high: float, log: bool) -> list[float]:
    if log:
        return [10.0 ** e * m for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
                for m in (1, 2, 5) if low <= 10.0 ** e * m <= high]
    span = high - low or 1.0
    step = 10 ** math.floor(math.log10(span / 5))
    step *= next(m for m in (1, 2, 5, 10) if span / (step * m) <= 6)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _label(value: float) -> str:
    if value >= 1000 and value == int(value):
        return f"{value / 1000:g}k" if value % 1000 == 0 else f"{value:g}"
    return f"{value:g}"


def _bounds(values: Sequence[float], log: bool) -> tuple[float, float]:
    low, high = min(values), max(values)
    if log:
        return 10 ** math.floor(math.log10(low) * 10) / 10 ** 0, high * 1.3
    return (0.0 if low >= 0 else low * 1.1), high * 1.1 or 1.0


def draw_panel(canvas: Canvas, panel: Panel, x0: int, y0: int, width: int, height: int) -> None:
    left, right, top, bottom = x0 + 58, x0 + width - 12, y0 + 30, y0 + height - 44
    canvas.text(x0 + (width - text_width(panel.title, 2)) // 2, y0 + 6, panel.title, BLACK, 2)
    points = [p for s in panel.series for p in s.points if (not panel.log_x or p[0] > 0) and (not panel.log_y or p[1] > 0)]
    if not points:
        canvas.text(left + 10, top + 20, "no data")
        return
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x_lo, x_hi = (min(xs) / 1.3, max(xs) * 1.3) if panel.log_x else _bounds(xs, False)
    y_lo, y_hi = (min(ys) / 1.5, max(ys) * 1.5) if panel.log_y else _bounds(ys, False)

    def sx(x: float) -> float:
        f = (math.log10(x) - math.log10(x_lo)) / (math.log10(x_hi) - math.log10(x_lo)) if panel.log_x else \
            (x - x_lo) / ((x_hi - x_lo) or 1)
        return left + f * (right - left)

    def sy(y: float) -> float:
        f = (math.log10(y) - math.log10(y_lo)) / (math.log10(y_hi) - math.log10(y_lo)) if panel.log_y else \
            (y - y_lo) / ((y_hi - y_lo) or 1)
        return bottom - f * (bottom - top)

    for t in _ticks(x_lo, x_hi, panel.log_x):
        canvas.line(sx(t), top, sx(t), bottom, LIGHT)
        canvas.text(round(sx(t)) - text_width(_label(t)) // 2, bottom + 5, _label(t), GREY)
    for t in _ticks(y_lo, y_hi, panel.log_y):
        canvas.line(left, sy(t), right, sy(t), LIGHT)
        canvas.text(left - 4 - text_width(_label(t)), round(sy(t)) - 3, _label(t), GREY)
    canvas.line(left, top, left, bottom, BLACK)
    canvas.line(left, bottom, right, bottom, BLACK)
    canvas.text(left + (right - left - text_width(panel.x_label)) // 2, bottom + 18, panel.x_label, BLACK)
    canvas.text(x0 + 4, top - 12, panel.y_label, BLACK)
    for n, s in enumerate(panel.series):
        color = PALETTE[n % len(PALETTE)]
        pts = [(sx(x), sy(y)) for x, y in s.points if (not panel.log_x or x > 0) and (not panel.log_y or y > 0)]
        for (ax, ay), (bx, by) in zip(pts, pts[1:]):
            if s.dashed:
                steps = max(1, int(math.hypot(bx - ax, by - ay) // 6))
                for i in range(0, steps, 2):
                    canvas.line(ax + (bx - ax) * i / steps, ay + (by - ay) * i / steps,
                                ax + (bx - ax) * (i + 1) / steps, ay + (by - ay) * (i + 1) / steps, color, 2)
            else:
                canvas.line(ax, ay, bx, by, color, 2)
        for x, y in pts:
            canvas.marker(x, y, color)
        ly = top + 6 + n * 11
        canvas.rect(left + 8, ly + 1, left + 20, ly + 4, color)
        canvas.text(left + 25, ly - 1, s.label, BLACK)


def write(path: Path, panels: list[Panel], panel_width: int = 420, panel_height: int = 330) -> Path:
    """All panels side by side, as one PNG."""
    canvas = Canvas(panel_width * len(panels), panel_height)
    for i, panel in enumerate(panels):
        draw_panel(canvas, panel, i * panel_width, 0, panel_width, panel_height)
    path.write_bytes(canvas.png())
    return path
