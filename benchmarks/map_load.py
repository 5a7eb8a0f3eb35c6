"""How long loading a map takes at its memory budget (issue 7: at most 1 s).

Builds maps of the long-term format whose layers add up to the budget (landmarks with random
positions and descriptors, places of 300 landmark references each, a 20 x 20 m floor), saves
them with the map server's store, and times `store.load` (the map server's and the backend's
first step) and the backend's conversion of the places into searchable views, `--repeat` times
each, and the backend's whole start on it (views of the places, their place vectors in the
index, their poses in the graph). Random content costs the same to load as real content of
the same size: the store reads every row and blob whatever is in them.

    python benchmarks/map_load.py --budget-mb 1 8 32 --repeat 5
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from common import add_markdown_option, machine, write_markdown

from astro_mapping.budget import LANDMARK_BYTES, PLACE_BYTES, PLACE_REF_BYTES, layer_bytes
from astro_mapping.layers import FloorLayer, Landmarks, LongTermMap, Place, RoomLayer
from astro_mapping.places import map_places
from astro_mapping.store import load, save
from astro_slam.backend.config import BackendConfig
from astro_slam.backend.core import BackendCore
from astro_slam.backend.vocabulary import Vocabulary
from astro_slam.transforms import make_transform


def budget_sized_map(budget: int, seed: int = 0) -> LongTermMap:
    rng = np.random.default_rng(seed)
    odds = np.zeros((400, 400), np.float32)  # a 20 x 20 m floor: free rooms, walls, unknown
    odds[40:360, 40:360] = -3.0
    odds[40:360:80, 40:360] = 4.0
    floor = FloorLayer(0.05, np.array([-10.0, -10.0]), odds)
    per_place = PLACE_BYTES + 300 * PLACE_REF_BYTES
    # A place per 30 landmarks, as in the month benchmark's maps.
    n = int(budget * 0.99 / (LANDMARK_BYTES + per_place / 30))
    landmarks = Landmarks(
        np.arange(n, dtype=np.int64),
        rng.uniform(-10, 10, (n, 3)).astype(np.float32),
        rng.integers(0, 256, (n, 32), dtype=np.uint8),
        *(rng.integers(1, 30, n).astype(np.int32) for _ in range(5)),
    )
    places = [
        Place(
            i,
            i,
            1,
            make_transform(t=rng.uniform(-10, 10, 3)),
            rng.choice(n, 300, replace=False),
            0,
        )
        for i in range(n // 30)
    ]
    rooms = RoomLayer(np.zeros((400, 400), np.int16))
    K = np.array([[460.0, 0, 320], [0, 460, 240], [0, 0, 1]])
    return LongTermMap(30, landmarks, places, floor, rooms, K, np.eye(4), 'map', n, len(places))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--budget-mb', type=float, nargs='+', default=[1.0, 8.0])
    parser.add_argument('--repeat', type=int, default=5)
    add_markdown_option(parser)
    args = parser.parse_args()
    print(machine())
    lines = [
        '| budget | layers (bytes) | file | landmarks | places | store.load '
        '| backend ready (load, views, index, graph) |',
        '|---|---|---|---|---|---|---|',
    ]
    print('\n'.join(lines))
    vocabulary = Vocabulary.load()
    with tempfile.TemporaryDirectory() as tmp:
        for mb in args.budget_mb:
            m = budget_sized_map(int(mb * 1e6))
            path = Path(tmp) / f'{mb}.db'
            size = save(m, path)
            loads, ready = [], []
            for _ in range(args.repeat):
                start = time.perf_counter()
                loaded = load(path)
                loads.append(time.perf_counter() - start)
                BackendCore(BackendConfig(), vocabulary).load_map(map_places(loaded, vocabulary))
                ready.append(time.perf_counter() - start)
            layers = sum(layer_bytes(m).values())
            lines.append(
                f'| {mb:g} MB | {layers:,} | {size:,} | {len(m.landmarks):,} | {len(m.places):,} '
                f'| {np.median(loads):.3f} s | {np.median(ready):.3f} s |'
            )
            print(lines[-1], flush=True)
    write_markdown(
        args.markdown, '\n'.join(lines), f'Medians of {args.repeat} loads per map size.'
    )


if __name__ == '__main__':
    main()
