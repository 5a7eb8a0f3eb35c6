"""Procedural textures of the simulated home (planks, tiles, rugs, paint, posters, books, ...).

Rich in corners for visual odometry, different for every seed, bit-identical on every machine.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

TEXTURE_KINDS: tuple[str, ...] = ('wood', 'tiles', 'rug', 'paint', 'poster', 'picture', 'books',
                                  'fabric', 'counter', 'skin', 'cardboard')  # fmt: skip

# Bit-identical pixels everywhere: only uniform draws from the generator, integer drawing on uint8
# and element-wise float32 + - * / (exactly rounded); no sin/exp on arrays, no BLAS, no float cv2.
Rng = np.random.Generator
Maker = Callable[[Rng, int, float], np.ndarray]  # (rng, size, size / 512) -> texture
Colour = tuple[int, int, int]
F = np.float32
AA = cv2.LINE_AA
_WOODS = np.array([[160, 112, 68], [112, 72, 42], [196, 156, 106], [150, 96, 60]], F)
_PETALS = np.array([[0, -10], [9, -3], [6, 8], [-6, 8], [-9, -3]])  # five around a circle
_DIAMOND = np.array([[-1, 0], [0, -1], [1, 0], [0, 1]])
_ARROW = np.array([[0, 0], [2, 2], [1, 2], [1, 6], [-1, 6], [-1, 2], [-2, 2]])


def _ri(rng: Rng, lo: float, hi: float, u: float = 1.0) -> int:
    """A random int in [lo * u, hi * u), at least one value wide, positive when lo is."""
    a = max(int(lo * u), min(int(lo), 1))
    return int(rng.integers(a, max(int(hi * u), a + 1)))


def _c(colour: np.ndarray) -> Colour:
    return tuple(int(min(max(v, 0), 255)) for v in colour)  # type: ignore[return-value]


def _tint(rng: Rng, sat: tuple, val: tuple, hue: tuple = (0, 6)) -> np.ndarray:
    """A colour drawn from HSV ranges (hue 0 red, 2 green, 4 blue): (3,) float32 RGB, 0..255."""
    h = rng.uniform(*hue) % 6
    x = 1 - abs(h % 2 - 1)
    rgb = ((1, x, 0), (x, 1, 0), (0, 1, x), (0, x, 1), (x, 0, 1), (1, 0, x))[int(h)]
    s, v = rng.uniform(*sat), rng.uniform(*val)
    return np.array([255 * v * (1 - s * (1 - c)) for c in rgb], F)


def _noise(rng: Rng, s: int, cy: int, cx: int | None = None) -> np.ndarray:
    """Smooth value noise: (s, s) float32 in [0, 1] over cy x cx cells (cx defaults to cy)."""
    grid = rng.random((cy + 2, (cx or cy) + 2), dtype=F)

    def axis(cells: int) -> tuple[np.ndarray, np.ndarray]:
        t = (np.arange(s, dtype=F) + F(0.5)) * F(cells / s)
        i = t.astype(np.int64)
        f = t - i.astype(F)
        return i, f * f * (F(3) - F(2) * f)

    (iy, wy), (ix, wx) = axis(cy), axis(cx or cy)
    rows = grid[:, ix] + (grid[:, ix + 1] - grid[:, ix]) * wx
    return rows[iy] + (rows[iy + 1] - rows[iy]) * wy[:, None]


def _mottle(rng: Rng, s: int, amount: float, cells: int = 4, octaves: int = 4) -> np.ndarray:
    """Multiplicative shading of 1 +- about amount from fractal noise: (s, s) float32."""
    total = np.zeros((s, s), F)
    for k in range(octaves):
        total += _noise(rng, s, cells << k) * F(0.5**k)
    return F(1) + (total * F(1 / (2 - 0.5 ** (octaves - 1))) - F(0.5)) * F(2 * amount)


def _finish(rng: Rng, img: np.ndarray, shade: np.ndarray, grain: float) -> np.ndarray:
    """img (s, s, 3) times shade (s, s), plus uniform grey grain of +-grain, as uint8."""
    out = np.array(img, F, order='C') * shade[..., None]
    out += ((rng.random(out.shape[:2], dtype=F) - F(0.5)) * F(2 * grain))[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _fill(s: int, colour: np.ndarray) -> np.ndarray:
    return np.full((s, s, 3), _c(colour), np.uint8)


def _stripes(rng: Rng, s: int, pal: np.ndarray, u: float, cross: bool = True) -> np.ndarray:
    """Stripes of random widths across rows, and columns too when cross (a tartan): uint8."""

    def run() -> np.ndarray:
        idx, x = np.empty(s, np.int64), 0
        while x < s:
            w = _ri(rng, 6, 48, u)
            idx[x : x + w] = rng.integers(len(pal))
            x += w
        return pal[idx]

    rows = run()[:, None]
    mixed = (rows + run()[None]) * F(0.5) if cross else np.broadcast_to(rows, (s, s, 3))
    return np.array(mixed, np.uint8, order='C')


def _text(rng: Rng, img: np.ndarray, xy: tuple, width: int, lh: int, ink: Colour, n: int) -> None:
    """Lines of bars standing in for words, lh apart, from the top-left corner xy."""
    for line in range(n):
        x, y = int(xy[0]), int(xy[1]) + line * lh
        end = x + width - _ri(rng, 0, width // 3 + 1)
        while x < end:
            w = _ri(rng, lh * 0.8, lh * 4)
            cv2.rectangle(img, (x, y), (min(x + w, end), y + max(lh * 3 // 5, 2)), ink, -1)
            x += w + max(lh // 2, 3)


def _shapes(rng: Rng, img: np.ndarray, n: int, pal: list[np.ndarray], r_max: int) -> None:
    """Bold rectangles, discs and triangles."""
    for _ in range(n):
        (x, y), r = rng.integers(0, img.shape[0], 2), _ri(rng, r_max // 4, r_max)
        col, form = _c(pal[int(rng.integers(len(pal)))]), int(rng.integers(3))
        if form == 0:
            cv2.rectangle(img, (x - r, y - r // 2), (x + r, y + r), col, -1)
        elif form == 1:
            cv2.circle(img, (x, y), r, col, -1, AA)
        else:
            tri = np.array([[x - r, y + r], [x + r, y + r], [x, y - r]], np.int32)
            cv2.fillPoly(img, [tri], col, AA)


def _stitch(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, col: Colour, dash: int) -> None:
    """A dashed seam around a rectangle, or along a line when the rectangle is flat."""
    for x in range(x0, x1 + 1, 2 * dash):
        for y in (y0, y1):
            cv2.line(img, (x, y), (min(x + dash, x1), y), col, max(dash // 3, 1), AA)
    for y in range(y0, y1 + 1, 2 * dash):
        for x in (x0, x1):
            cv2.line(img, (x, y), (x, min(y + dash, y1)), col, max(dash // 3, 1), AA)


def _wood(rng: Rng, s: int, u: float) -> np.ndarray:
    """Floor planks along x: varied widths, staggered end joints, grain rings, knots, seams."""
    base = _WOODS[rng.integers(len(_WOODS))] * F(rng.uniform(0.85, 1.15))
    tone, phase, seams, y = np.ones((s, s), F), np.zeros((s, s), F), [], 0
    while y < s:
        h, x = _ri(rng, 34, 72, u), -_ri(rng, 0, 300, u)
        while x < s:
            w = _ri(rng, 140, 420, u)
            tone[y : y + h, max(x, 0) : x + w] = rng.uniform(0.7, 1.2)
            phase[y : y + h, max(x, 0) : x + w] = rng.uniform(0, 40)
            seams += [((x + w, y), (x + w, y + h))]
            x += w
        seams, y = [*seams, ((0, y + h), (s, y + h))], y + h
    rows = np.arange(s, dtype=F)[:, None] * F(rng.uniform(0.06, 0.14) / u)
    ring = rows + phase + _noise(rng, s, 24, 3) * F(rng.uniform(3, 8))
    lines = np.clip((np.abs(ring - np.floor(ring) - F(0.5)) * F(2) - F(0.68)) * F(3.1), 0, 1)
    shade = tone * (F(1) - F(0.3) * lines) * (F(0.86) + F(0.28) * _noise(rng, s, 128, 5))
    img = _finish(rng, np.broadcast_to(base, (s, s, 3)), shade, 4)
    for _ in range(_ri(rng, 3, 9)):
        c, a, b = rng.integers(0, s, 2), _ri(rng, 6, 16, u), _ri(rng, 3, 7, u)
        cv2.ellipse(img, c, (2 * a, 2 * b), 0, 0, 360, _c(base * 0.6), max(int(u), 1), AA)
        cv2.ellipse(img, c, (a, b), 0, 0, 360, _c(base * 0.35), -1, AA)
    for p0, p1 in seams:
        cv2.line(img, p0, p1, _c(base * 0.3), max(int(2 * u), 1), AA)
    return img


def _tiles(rng: Rng, s: int, u: float) -> np.ndarray:
    """Tiles in grout, some in a running bond, each its own shade, some with a motif."""
    tw = max(int(rng.integers(40, 65) * u), 4)
    th, g = (tw if rng.random() < 0.6 else tw // 2), _ri(rng, 3, 6, u)
    base, accent = _tint(rng, (0.0, 0.5), (0.55, 0.95)), _tint(rng, (0.4, 0.9), (0.2, 0.6))
    img, bond = _fill(s, np.full(3, rng.uniform(50, 230))), tw // 2 * int(rng.random() < 0.4)
    for r in range(s // th + 1):
        for c in range(-1, s // tw + 1):
            x, y, col = c * tw + bond * (r % 2), r * th, _c(base * rng.uniform(0.8, 1.12))
            cv2.rectangle(img, (x + g, y + g), (x + tw - 1, y + th - 1), col, -1)
            if rng.random() < 0.15:
                m, q = (x + (tw + g) // 2, y + (th + g) // 2), min(tw, th) // 3
                cv2.fillPoly(img, [(_DIAMOND * q + m).astype(np.int32)], _c(accent), AA)
    return _finish(rng, img, _mottle(rng, s, 0.08, 6), 5)


def _rug(rng: Rng, s: int, u: float) -> np.ndarray:
    """Fringed ends, border bands with zigzags, a diamond lattice and a central medallion."""
    pal = np.stack([_tint(rng, (0.35, 0.85), (0.25, 0.85)) for _ in range(5)])
    p, levels = 2 * _ri(rng, 24, 48, u), _ri(rng, 3, 6)
    y, x = np.arange(s, dtype=np.int32) + rng.integers(0, p, 2, np.int32)[:, None]
    d = (np.abs(x % p - p // 2) * levels)[None] + (np.abs(y % p - p // 2) * levels)[:, None]
    field = pal.astype(np.uint8)[(d // (p // 2 + 1) + (x // p)[None] + (y // p)[:, None]) % 5]
    img, a = _fill(s, np.array([225, 215, 190])), _ri(rng, 10, 16, u)
    for k in range(_ri(rng, 3, 6)):
        w = _ri(rng, 8, 24, u)
        img[a : s - a, a : s - a] = _c(pal[(k + 2) % 5] if k % 2 else pal[k % 5] * 0.5)
        if w > max(14 * u, 3):
            xs = np.arange(a, s - a, w // 2)
            zig = np.stack([xs, a + w // 4 + (xs // (w // 2)) % 2 * (w // 2)], 1)
            cv2.polylines(img, [zig.astype(np.int32)], False, _c(pal[k % 5]), 2, AA)
        a += w
    img[a : s - a, a : s - a] = field[a : s - a, a : s - a]
    for k in range(3):
        medallion = _DIAMOND * ((s // 2 - a) * (3 - k) // 4) + s // 2
        cv2.fillPoly(img, [medallion.astype(np.int32)], _c(pal[(k + 3) % 5]), AA)
    for x in range(0, s, max(int(3 * u), 2)):
        cv2.line(img, (x, 0), (x, _ri(rng, 4, 14, u)), (230, 220, 200), 1, AA)
        cv2.line(img, (x, s - 1), (x, s - 1 - _ri(rng, 4, 14, u)), (230, 220, 200), 1, AA)
    return _finish(rng, img, _mottle(rng, s, 0.1, 6), 9)


def _paint(rng: Rng, s: int, u: float) -> np.ndarray:
    """Pastel wall paint: faint mottling and grain (weak texture on purpose), a few scuffs."""
    base = _tint(rng, (0.05, 0.3), (0.78, 0.93))
    img = _finish(rng, np.broadcast_to(base, (s, s, 3)), _mottle(rng, s, 0.05, 3), 4)
    for _ in range(_ri(rng, 3, 9)):
        p, col = rng.integers(0, s, 2), _c(base * rng.uniform(0.8, 0.94))
        q = p + (rng.integers(-14, 15, 2) * u).astype(np.int64)
        cv2.line(img, p, q, col, _ri(rng, 1, 3, u), AA)
    return img


def _poster(rng: Rng, s: int, u: float) -> np.ndarray:
    """Bold shapes and blocks of text lines inside a white margin."""
    light = rng.random() < 0.7
    paper = _tint(rng, (0, 0.15), (0.85, 0.98)) if light else _tint(rng, (0.3, 0.8), (0.1, 0.3))
    img, ink = _fill(s, paper), (25, 25, 30) if light else (235, 235, 230)
    pal = [_tint(rng, (0.6, 1), (0.5, 1)) for _ in range(3)]
    _shapes(rng, img, _ri(rng, 3, 8), pal, int(130 * u))
    for _ in range(_ri(rng, 2, 5)):
        xy, lh = rng.integers(20 * u, (250 * u, 380 * u)), _ri(rng, 8, 20, u)
        _text(rng, img, xy, _ri(rng, 100, 240, u), lh, ink, _ri(rng, 3, 8))
    cv2.rectangle(img, (0, 0), (s - 1, s - 1), (245, 245, 240), 2 * _ri(rng, 6, 20, u))
    return _finish(rng, img, _mottle(rng, s, 0.04), 3)


def _picture(rng: Rng, s: int, u: float) -> np.ndarray:
    """A framed landscape painting: sky, sun, hills, trees and brush strokes."""
    fw, frame = _ri(rng, 22, 44, u), _tint(rng, (0.3, 0.7), (0.15, 0.7), (0.3, 0.9))
    h, sky = s - 2 * fw, (3.3, 4.1) if rng.random() < 0.75 else (0.1, 0.7)
    top, horizon = _tint(rng, (0.3, 0.7), (0.6, 0.95), sky), _tint(rng, (0.1, 0.5), (0.8, 1), sky)
    t = (np.arange(h, dtype=F) / F(h))[:, None, None]
    pic = np.array(np.broadcast_to(top * (F(1) - t) + horizon * t, (h, h, 3)), np.uint8, order='C')
    sun, r = (_ri(rng, 0, h), _ri(rng, 0, h // 3)), _ri(rng, 10, 30, u)
    cv2.circle(pic, sun, r, (250, 230, 150), -1, AA)
    ground, xs = _tint(rng, (0.3, 0.8), (0.3, 0.7), (0.6, 2.4)), np.arange(0, h + 16, 16)
    for k in range(3):
        ys = h * (0.45 + 0.13 * k) + np.cumsum(rng.integers(-6, 7, len(xs))) * u
        hill = np.concatenate([np.stack([xs, ys], 1), [[h, h], [0, h]]]).astype(np.int32)
        cv2.fillPoly(pic, [hill], _c(ground * (1 - 0.2 * k)), AA)
    for _ in range(_ri(rng, 3, 9)):
        x, y, r = _ri(rng, 0, h), _ri(rng, h // 2, h), _ri(rng, 6, 18, u)
        cv2.line(pic, (x, y), (x, y - 2 * r), (60, 40, 25), max(r // 4, 1), AA)
        cv2.circle(pic, (x, y - 2 * r), r, _c(ground * 0.6), -1, AA)
    pts, ends = rng.integers(0, h, (600, 2)), rng.integers(-9, 10, (600, 2))
    jitter = rng.uniform(0.75, 1.25, (600, 1)) * rng.uniform(0.92, 1.08, (600, 3))
    for (x, y), d, j in zip(pts, ends, jitter, strict=True):
        cv2.line(pic, (x, y), (x + d[0], y + d[1]), _c(pic[y, x] * j), 2, AA)
    img = _fill(s, frame)
    img[fw : fw + h, fw : fw + h] = pic
    cv2.rectangle(img, (2, 2), (s - 3, s - 3), _c(frame * 1.4), max(fw // 6, 1))
    cv2.rectangle(img, (fw - 2, fw - 2), (s - fw + 1, s - fw + 1), _c(frame * 0.4), 3)
    return _finish(rng, img, _mottle(rng, s, 0.03), 3)


def _books(rng: Rng, s: int, u: float) -> np.ndarray:
    """Shelves of book spines of varied width, height and colour, with title bands."""
    wood, rows, board = _WOODS[rng.integers(len(_WOODS))], _ri(rng, 2, 5), _ri(rng, 10, 18, u)
    img, rh = _fill(s, wood * 0.3), s // rows
    for r in range(rows):
        bottom, x = (r + 1) * rh - board, _ri(rng, 0, 12, u)
        cv2.rectangle(img, (0, bottom), (s, (r + 1) * rh), _c(wood), -1)
        cv2.line(img, (0, bottom), (s, bottom), _c(wood * 1.25), 2)
        while x < s:
            w, hb = _ri(rng, 9, 34, u), _ri(rng, 0.55 * (rh - board), rh - board - 4 * u)
            if rng.random() < 0.05:  # a gap on the shelf
                x += 2 * w
                continue
            col, top = _tint(rng, (0.2, 0.75), (0.15, 0.75)), bottom - hb
            band = ((210, 180, 80), (20, 20, 20), (235, 230, 215))[int(rng.integers(3))]
            cv2.rectangle(img, (x, top), (x + w - 1, bottom - 1), _c(col), -1)
            cv2.line(img, (x, top), (x, bottom - 1), _c(col * 0.55), 1)
            for _ in range(_ri(rng, 0, 3)):
                yb = top + _ri(rng, 4, hb // 3)
                cv2.rectangle(img, (x + 1, yb), (x + w - 2, yb + _ri(rng, 2, 6, u)), band, -1)
            if w > 12 * u:  # the title
                p0, p1 = (x + w // 3, top + hb // 3), (x + 2 * w // 3, top + 2 * hb // 3)
                cv2.rectangle(img, p0, p1, band, -1)
            x += w + _ri(rng, 0, 3)
    return _finish(rng, img, _mottle(rng, s, 0.06), 4)


def _fabric(rng: Rng, s: int, u: float) -> np.ndarray:
    """Sofa or bed fabric: a fine weave under large checks or scattered flowers."""
    base, accent = _tint(rng, (0.15, 0.6), (0.35, 0.8)), _tint(rng, (0.2, 0.7), (0.3, 0.9))
    far = base * F(0.35) if base.mean() > 110 else base * F(0.4) + F(150)  # for strong corners
    pal = np.stack([base, base * F(0.5), accent, far])
    if rng.random() < 0.5:
        img = _stripes(rng, s, pal, u)
    else:
        blobs = (_mottle(rng, s, 0.5, 3, 3) > 1.08)[..., None]
        img = np.where(blobs, _c(pal[1]), _c(pal[0])).astype(np.uint8)
        for _ in range(_ri(rng, 30, 70)):
            c, r = rng.integers(0, s, 2), _ri(rng, 4, 12, u)
            for d in _PETALS * r // 10:
                cv2.circle(img, c + d, max(r * 3 // 5, 1), _c(pal[3]), -1, AA)
            cv2.circle(img, c, max(r // 2, 1), _c(accent), -1, AA)
    weave = ((np.arange(s) // 2 % 2)[:, None] ^ (np.arange(s) // 2 % 2)[None]).astype(F)
    return _finish(rng, img, (F(0.93) + F(0.14) * weave) * _mottle(rng, s, 0.05), 4)


def _counter(rng: Rng, s: int, u: float) -> np.ndarray:
    """Granite: mottled stone with dark, light and coloured grains."""
    stones = np.array([[52, 52, 58], [140, 138, 134], [200, 186, 160], [225, 222, 214]], F)
    stone = stones[rng.integers(len(stones))] * F(rng.uniform(0.9, 1.1))
    img = np.array(np.broadcast_to(stone, (s, s, 3)))
    img[_noise(rng, s, int(150 * u)) > 0.8] = stone * F(0.35)
    img[_noise(rng, s, int(110 * u)) < 0.18] = np.minimum(stone * F(1.5) + F(50), F(255))
    img[_noise(rng, s, int(200 * u)) > 0.88] = _tint(rng, (0.3, 0.7), (0.3, 0.7))
    return _finish(rng, img, _mottle(rng, s, 0.12, 5), 6)


def _skin(rng: Rng, s: int, u: float) -> np.ndarray:
    """Clothes: stripes, checks or a plain colour with a print; folds, seams, pocket, buttons."""
    pal = np.stack([_tint(rng, (0.2, 0.8), (0.2, 0.85)) for _ in range(3)])
    style, dark, dash = int(rng.integers(3)), _c(pal[0] * 0.45), max(int(6 * u), 2)
    img = _stripes(rng, s, pal, u, style == 1) if style < 2 else _fill(s, pal[0])
    if style == 2 or rng.random() < 0.4:
        _shapes(rng, img, _ri(rng, 3, 7), [pal[1], pal[2], 255 - pal[0]], int(70 * u))
        xy, lh = rng.integers((60 * u, 260 * u), (200 * u, 340 * u)), _ri(rng, 10, 18, u)
        _text(rng, img, xy, _ri(rng, 120, 220, u), lh, _c(255 - pal[0]), 3)
    for x in (_ri(rng, 20, 90, u), s - _ri(rng, 20, 90, u)):
        _stitch(img, x, 0, x, s - 1, dark, dash)
    hem, pw = s - _ri(rng, 20, 60, u), _ri(rng, 60, 110, u)
    x0, y0 = _ri(rng, 60, 300, u), _ri(rng, 60, 300, u)
    _stitch(img, 0, hem, s - 1, hem, dark, dash)
    _stitch(img, x0, y0, x0 + pw, y0 + pw, dark, dash)  # a pocket
    bx = s // 2 + _ri(rng, -20, 20, u)
    for y in range(_ri(rng, 20, 40, u), s - int(60 * u), _ri(rng, 50, 80, u)):
        cv2.circle(img, (bx, y), max(int(7 * u), 2), _c(pal[2] * 0.7), -1, AA)
        cv2.circle(img, (bx, y), max(int(2 * u), 1), dark, -1, AA)
    folds = F(0.78) + F(0.3) * _noise(rng, s, 3, 12)
    return _finish(rng, img, folds * _mottle(rng, s, 0.04), 5)


def _cardboard(rng: Rng, s: int, u: float) -> np.ndarray:
    """Brown cardboard with flutes, a tape strip, arrows, text, a shipping label with a barcode."""
    base = np.array([196, 150, 102], F) * F(rng.uniform(0.75, 1.08)) * rng.uniform(0.94, 1.06, 3)
    p = _ri(rng, 6, 9, u) + 1
    flutes = F(0.97) + F(0.06) * (np.abs(np.arange(s) % p - p // 2) / (p // 2)).astype(F)
    img = _finish(rng, np.broadcast_to(base, (s, s, 3)), flutes * _mottle(rng, s, 0.08), 4)
    band = img if rng.random() < 0.5 else img.transpose(1, 0, 2)  # a view: tape either way
    y0, th = _ri(rng, 40, 420, u), _ri(rng, 40, 70, u)
    tape = band[y0 : y0 + th].astype(F) * F(0.5) + np.array([225, 190, 130], F) * F(0.5)
    band[y0 : y0 + th] = np.clip(tape, 0, 255).astype(np.uint8)
    band[[y0, y0 + th - 1]] = _c(base * 1.25)
    ink = ((40, 34, 30), (30, 40, 110), (120, 30, 30))[int(rng.integers(3))]
    xy, a = rng.integers(40 * u, s - 100 * u, 2), _ri(rng, 6, 11, u)
    for k in range(2):
        cv2.fillPoly(img, [(_ARROW * a + xy + (6 * a * k, 0)).astype(np.int32)], ink, AA)
    for _ in range(_ri(rng, 1, 4)):
        xy, lh = rng.integers(10 * u, (300 * u, 440 * u)), _ri(rng, 10, 22, u)
        _text(rng, img, xy, _ri(rng, 80, 190, u), lh, ink, _ri(rng, 1, 5))
    (x, y), lw = rng.integers(10 * u, s - 230 * u, 2), _ri(rng, 150, 220, u)
    cv2.rectangle(img, (x, y), (x + lw, y + int(110 * u)), (240, 238, 232), -1)
    _text(rng, img, (x + 8 * u, y + 8 * u), lw - int(16 * u), _ri(rng, 8, 12, u), (20, 20, 20), 3)
    end, x = x + lw - int(12 * u), x + int(10 * u)
    while x < end:  # a barcode
        w = _ri(rng, 1, 4, u)
        cv2.rectangle(img, (x, y + int(60 * u)), (x + w - 1, y + int(100 * u)), (15, 15, 15), -1)
        x += w + _ri(rng, 1, 4, u)
    cv2.circle(img, rng.integers(40 * u, s - 40 * u, 2), int(28 * u), ink, 3, AA)
    return img


_MAKERS: dict[str, Maker] = {
    'wood': _wood, 'tiles': _tiles, 'rug': _rug, 'paint': _paint, 'poster': _poster,
    'picture': _picture, 'books': _books, 'fabric': _fabric, 'counter': _counter,
    'skin': _skin, 'cardboard': _cardboard,
}  # fmt: skip


def make_texture(kind: str, seed: int, size: int = 512) -> np.ndarray:
    """A (size, size, 3) uint8 RGB texture, deterministic in (kind, seed, size) on every machine.

    Args:
        kind: one of TEXTURE_KINDS.
        seed: non-negative int; each seed gives a clearly different texture.
        size: side in pixels; features are drawn for 512 and scale with it.

    Raises:
        ValueError: for a kind not in TEXTURE_KINDS.
    """
    if kind not in _MAKERS:
        raise ValueError(f'unknown texture kind {kind!r}, expected one of {TEXTURE_KINDS}')
    return _MAKERS[kind](np.random.default_rng(seed), size, size / 512)


def repaint(texture: np.ndarray, seed: int) -> np.ndarray:
    """The texture repainted in another colour, as a wall is: hue and tone change, structure stays.

    Each channel is scaled so that the mean colour moves to a random colour far from it, which
    keeps every edge and grain where it was.

    Args:
        texture: (H, W, 3) uint8 RGB.
        seed: picks the new colour; the result is deterministic in (texture, seed).

    Returns:
        (H, W, 3) uint8 RGB.
    """
    rng = np.random.default_rng(seed)
    # An integer sum is exact, so the mean does not depend on summation order.
    mean = texture.reshape(-1, 3).sum(axis=0, dtype=np.int64) / (texture.size // 3)
    for _ in range(64):  # a colour at least 90 away (L1) is found within a few draws
        target = _tint(rng, (0.1, 0.6), (0.4, 0.95))
        if np.abs(target - mean).sum() > 90:
            break
    gain = (target / np.maximum(mean, 8)).astype(F)
    return np.clip(np.rint(texture.astype(F) * gain), 0, 255).astype(np.uint8)
