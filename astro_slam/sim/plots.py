"""Pictures of a session: a top-down floor plan with the trajectory, and a montage of frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astro_slam.sim.home import Home
from astro_slam.sim.motion import Motion

COLORS = {
    'wall': '#444444',
    'furniture': '#a67c52',
    'object': '#d9534f',
    'decor': '#5bc0de',
    'threshold': '#222222',
    'window': '#7fb3ff',
}
FAULT_COLORS = {
    'slip': '#f0ad4e',
    'kidnap': '#d9534f',
    'bump': '#292b2c',
    'low_power': '#6f42c1',
    'dropped_frames': '#999999',
}


def floor_plan(home: Home, motion: Motion, labels: dict, path: Path, title: str = '') -> None:
    """Rooms, walls, furniture, fault zones and the true trajectory, seen from above."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon, Rectangle

    x0, y0, x1, y1 = home.bounds
    fig, ax = plt.subplots(figsize=(10, 10 * (y1 - y0 + 1) / (x1 - x0 + 1)), dpi=110)
    palette = plt.get_cmap('Pastel1')
    for room in home.rooms:
        rx0, ry0, rx1, ry1 = room.rect
        ax.add_patch(
            Rectangle(
                (rx0, ry0), rx1 - rx0, ry1 - ry0, color=palette(room.id % 9), alpha=0.6, zorder=0
            )
        )
        twin = ' (twin)' if room.id in home.twins else ''
        ax.text(
            *room.center,
            f'{room.name}{twin}',
            ha='center',
            va='center',
            fontsize=8,
            alpha=0.7,
            zorder=5,
        )
    for zone in home.zones:
        zx0, zy0, zx1, zy1 = zone.rect
        ax.add_patch(
            Rectangle(
                (zx0, zy0),
                zx1 - zx0,
                zy1 - zy0,
                fill=False,
                hatch='//',
                edgecolor=FAULT_COLORS['slip'],
                zorder=2,
            )
        )
    for box in home.boxes:
        if (box.kind in COLORS and box.kind != 'decor') or box.name.startswith('rug'):
            color = COLORS.get(box.kind, '#5bc0de')
            ax.add_patch(
                Polygon(
                    box.footprint(),
                    closed=True,
                    color=color,
                    alpha=0.8,
                    zorder=3 if box.kind != 'decor' else 1,
                )
            )
    lifted = motion.lifted
    xy = motion.xy
    ax.plot(
        xy[~lifted, 0],
        xy[~lifted, 1],
        '.',
        ms=0.6,
        color='#0275d8',
        zorder=6,
        label='trajectory (true)',
    )
    if lifted.any():
        ax.plot(
            xy[lifted, 0],
            xy[lifted, 1],
            '.',
            ms=0.6,
            color=FAULT_COLORS['kidnap'],
            zorder=6,
            label='carried (kidnap)',
        )
    t0 = labels['t0_ns']
    for fault in labels['faults']:
        if fault['kind'] in ('bump', 'slip'):
            i = int((fault['t0_ns'] - t0) / 1e6)
            ax.plot(
                *xy[min(i, len(xy) - 1)], 'x', color=FAULT_COLORS[fault['kind']], ms=6, zorder=7
            )
    ax.plot(*home.dock[:2], 's', color='green', ms=9, zorder=8, label='dock')
    ax.set_xlim(x0 - 0.3, x1 + 0.3)
    ax.set_ylim(y0 - 0.3, y1 + 0.3)
    ax.set_aspect('equal')
    ax.set_xlabel('x (m)')
    ax.set_ylabel('y (m)')
    ax.set_title(title or 'floor plan')
    ax.legend(loc='upper right', fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def montage(frames: list[np.ndarray], path: Path, columns: int = 4) -> None:
    """Sample camera frames (BGR) in a grid, written as PNG."""
    import cv2

    if not frames:
        return
    h, w = frames[0].shape[:2]
    rows = int(np.ceil(len(frames) / columns))
    sheet = np.zeros((rows * h, min(columns, len(frames)) * w, 3), np.uint8)
    for i, frame in enumerate(frames):
        r, c = divmod(i, columns)
        sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = frame
    cv2.imwrite(str(path), sheet)
