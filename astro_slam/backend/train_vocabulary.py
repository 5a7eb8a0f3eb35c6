"""Reproduces the shipped vocabulary (data/orb_vocabulary.npz) from simulated homes.

    python -m astro_slam.backend.train_vocabulary --out astro_slam/backend/data/orb_vocabulary.npz

Simulates the home-week scenario (morning, evening, night, a week later rearranged) of homes
100-105, seeds that no test or benchmark uses, keeps the left image once a second, and clusters
the ORB descriptors the visual odometry would extract (same extractor, same CLAHE). Needs the
simulator extra (`pip install ".[sim]"`); about 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from astro_slam.backend.vocabulary import Vocabulary, train
from astro_slam.tools.bag_io import BagReader
from astro_slam.vo.camera_input import to_gray
from astro_slam.vo.config import VisualOdometryConfig
from astro_slam.vo.features import make_extractor
from astro_slam.vo.image_quality import Normaliser

TRAINING_HOMES = (100, 101, 102, 103, 104, 105)
IMAGE_TOPIC = '/camera/left/image_raw/compressed'


def descriptors_of_bags(folder: Path, progress: bool = True) -> list[np.ndarray]:
    """ORB descriptors of every left image of every bag under `folder`, one array per image."""
    vo = VisualOdometryConfig()
    extractor = make_extractor(vo.features, vo.max_features)
    normalise = Normaliser(vo.normalisation)
    bags = sorted(p.parent for p in folder.rglob('metadata.yaml'))
    out = []
    for bag in bags:
        with BagReader(bag) as reader:
            for _, _, msg in reader.messages({IMAGE_TOPIC}):
                out.append(extractor.extract(normalise(to_gray(msg))).descriptors)
        if progress:
            print(f'{bag}: {len(out)} images so far')
    return out


def simulate_training_homes(out: Path, homes: tuple[int, ...], camera_hz: float) -> None:
    from astro_slam.sim.scenarios import SCENARIOS
    from astro_slam.sim.simulate import simulate

    scenario = dataclasses.replace(SCENARIOS['home-week'], camera_hz=camera_hz)
    for home in homes:
        simulate(scenario, home, 0, out / f'home{home}', overwrite=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', type=Path, required=True, help='vocabulary file to write')
    parser.add_argument('--bags', type=Path, help='train on these bags instead of simulating')
    parser.add_argument('--homes', type=int, nargs='+', default=TRAINING_HOMES)
    parser.add_argument('--words', type=int, default=1024)
    parser.add_argument('--camera-hz', type=float, default=1.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.bags
        if folder is None:
            folder = Path(tmp)
            simulate_training_homes(folder, tuple(args.homes), args.camera_hz)
        sets = descriptors_of_bags(folder)
    vocab: Vocabulary = train(sets, k=args.words, progress=True)
    vocab.save(args.out)
    total = sum(len(d) for d in sets)
    print(f'{args.out}: {vocab.size} words from {total} descriptors of {len(sets)} images')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
