"""Pictures of a saved map (matplotlib, written to files; needs the `sim` extra)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astro_mapping.floor import FloorParams, occupancy
from astro_mapping.store import load


def draw_map(map_path: Path, path: Path) -> None:
    """The map from above: floor (free white, occupied black, unknown grey), rooms tinted,
    doors orange, places blue."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    m = load(map_path)
    grid = occupancy(m.floor, FloorParams())
    image = np.full((*grid.shape, 3), 0.6)
    image[grid == 0] = 1.0
    image[grid == 100] = 0.0
    palette = plt.get_cmap('tab10')
    for room in m.rooms.rooms:
        cells = m.rooms.labels == room.id
        image[cells] = 0.55 * image[cells] + 0.45 * np.array(palette(room.id % 10)[:3])
    h, w = grid.shape
    x0, y0 = m.floor.origin_xy
    extent = (x0, x0 + w * m.floor.resolution_m, y0, y0 + h * m.floor.resolution_m)
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.imshow(image, origin='lower', extent=extent, interpolation='nearest')
    xy = np.array([p.T_map_base[:2, 3] for p in m.places]).reshape(-1, 2)
    ax.plot(xy[:, 0], xy[:, 1], '.', color='navy', ms=3, label=f'{len(m.places)} places')
    for door in m.rooms.doors:
        ax.plot(*door.xy, 's', color='orange', ms=7)
    title = f'{Path(map_path).name}: {m.sessions} sessions, {len(m.rooms.rooms)} rooms'
    ax.set_title(f'{title}, {len(m.landmarks)} landmarks')
    ax.set_xlabel('x (m, map frame)')
    ax.set_ylabel('y (m)')
    ax.legend(loc='upper right')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
