"""TUM trajectory files: `t x y z qx qy qz qw` per line, t in seconds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from astro_slam.transforms import from_quaternion, to_quaternion


def write_tum(path: str | Path, stamps_ns: Sequence[int], poses: Sequence[np.ndarray]) -> None:
    """Writes poses T (4, 4) with their stamps (ns), in the given order."""
    lines = []
    for t_ns, T in zip(stamps_ns, poses, strict=True):
        t, q = to_quaternion(T)
        sec, nsec = divmod(int(t_ns), 1_000_000_000)
        values = ' '.join(f'{v:.9f}' for v in (*t, *q))
        lines.append(f'{sec}.{nsec:09d} {values}')
    Path(path).write_text('\n'.join(lines) + ('\n' if lines else ''), encoding='utf-8')


def read_tum(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(stamps_ns (N,) int64, poses (N, 4, 4)); '#' lines are comments."""
    stamps, poses = [], []
    for number, line in enumerate(Path(path).read_text(encoding='utf-8').splitlines(), 1):
        if not line.strip() or line.startswith('#'):
            continue
        fields = line.split()
        if len(fields) != 8:
            raise ValueError(f'{path}:{number}: expected 8 values, got {len(fields)}')
        sec, _, frac = fields[0].partition('.')
        stamps.append(int(sec) * 1_000_000_000 + int((frac + '000000000')[:9]))
        values = np.array([float(v) for v in fields[1:]])
        poses.append(from_quaternion(values[:3], values[3:]))
    return np.array(stamps, dtype=np.int64), np.array(poses).reshape(-1, 4, 4)
