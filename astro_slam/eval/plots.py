"""The demo report's pictures (matplotlib to PNG files; needs the `sim` extra).

Each takes the sessions in order as `Session` records: the session's name, its trajectories
(stamps, poses) and labels. Trajectories in the map frame are drawn in the frame of the truth
through one alignment, `T_gt_map`, shared by every session: the map frame is the same from one
session to the next, so a session that relocalized wrongly shows up as one that does not lie on
its truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from astro_slam.eval.trajectory import associate, umeyama

FAULT_COLOURS = {
    'bump': 'tab:orange',
    'slip': 'tab:red',
    'kidnap': 'tab:purple',
    'low_power': 'tab:brown',
    'dropped_frames': 'tab:gray',
}
SENSORS = ('imu', 'wheel', 'vo')


@dataclass
class Session:
    name: str
    gt: tuple[np.ndarray, np.ndarray]
    slam: tuple[np.ndarray, np.ndarray] | None = None
    odom: tuple[np.ndarray, np.ndarray] | None = None
    faults: list[dict] = field(default_factory=list)
    # sensor -> (stamps, weights); 'lifted' -> (stamps, 0/1)
    reliability: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    map_bytes: dict[str, int] | None = None


def _pyplot():
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    return plt


def shared_alignment(sessions: list[Session]) -> np.ndarray:
    """T_gt_map from the first session with a SLAM trajectory (identity when none)."""
    for s in sessions:
        if s.slam is not None and len(s.slam[0]) >= 3:
            ei, ri = associate(s.slam[0], s.gt[0])
            if len(ei) >= 3:
                return umeyama(s.slam[1][ei, :3, 3], s.gt[1][ri, :3, 3])
    return np.eye(4)


def _in_gt(traj: tuple[np.ndarray, np.ndarray], T: np.ndarray) -> np.ndarray:
    return traj[1][:, :3, 3] @ T[:3, :3].T + T[:3, 3]


def floor_plans(sessions: list[Session], path: Path) -> None:
    """Per session, from above: the truth, the SLAM estimate (map frame, shared alignment) and
    the fused odometry (aligned on its own session, as it starts anew each time)."""
    plt = _pyplot()
    T = shared_alignment(sessions)
    fig, axes = plt.subplots(1, len(sessions), figsize=(5 * len(sessions), 5), squeeze=False)
    for ax, s in zip(axes[0], sessions, strict=True):
        ax.plot(s.gt[1][:, 0, 3], s.gt[1][:, 1, 3], 'k-', lw=2, label='truth')
        if s.odom is not None and len(s.odom[0]) >= 3:
            ei, ri = associate(s.odom[0], s.gt[0])
            if len(ei) >= 3:
                A = umeyama(s.odom[1][ei, :3, 3], s.gt[1][ri, :3, 3])
                xy = _in_gt(s.odom, A)
                ax.plot(xy[:, 0], xy[:, 1], '-', color='tab:orange', lw=1, label='fused odometry')
        if s.slam is not None and len(s.slam[0]):
            xy = _in_gt(s.slam, T)
            ax.plot(xy[:, 0], xy[:, 1], '.', color='tab:blue', ms=2, label='SLAM (map frame)')
        ax.set_title(s.name)
        ax.set_aspect('equal')
        ax.set_xlabel('x (m)')
    axes[0][0].set_ylabel('y (m)')
    axes[0][0].legend(loc='best', fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def errors_over_time(sessions: list[Session], path: Path) -> None:
    """Position error of the SLAM estimate against time, fault intervals shaded; gaps are
    times without a map pose (relocalizing)."""
    plt = _pyplot()
    T = shared_alignment(sessions)
    fig, axes = plt.subplots(len(sessions), 1, figsize=(10, 2.6 * len(sessions)), squeeze=False)
    for ax, s in zip(axes[:, 0], sessions, strict=True):
        t0 = s.gt[0][0]
        for f in s.faults:
            colour = FAULT_COLOURS.get(f['kind'], 'tab:olive')
            ax.axvspan(
                (f['t0_ns'] - t0) * 1e-9, (f['t1_ns'] - t0) * 1e-9, color=colour, alpha=0.25
            )
        if s.slam is not None and len(s.slam[0]):
            ei, ri = associate(s.slam[0], s.gt[0])
            error = np.linalg.norm(_in_gt(s.slam, T)[ei] - s.gt[1][ri, :3, 3], axis=1)
            ax.plot((s.slam[0][ei] - t0) * 1e-9, 100 * error, '.', ms=2, color='tab:blue')
        ax.set_ylabel('error (cm)')
        ax.set_title(s.name, fontsize=10)
        ax.set_xlim(0, (s.gt[0][-1] - t0) * 1e-9)
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.25, label=k) for k, c in FAULT_COLOURS.items()
    ]
    axes[0, 0].legend(handles=handles, loc='upper right', fontsize=7, ncol=len(handles))
    axes[-1, 0].set_xlabel('time since the start of the session (s)')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def reliability_timeline(sessions: list[Session], path: Path) -> None:
    """Fusion's weight of each sensor over time, and the lift flag, fault intervals shaded."""
    plt = _pyplot()
    fig, axes = plt.subplots(len(sessions), 1, figsize=(10, 2.4 * len(sessions)), squeeze=False)
    for ax, s in zip(axes[:, 0], sessions, strict=True):
        t0 = s.gt[0][0]
        for f in s.faults:
            colour = FAULT_COLOURS.get(f['kind'], 'tab:olive')
            ax.axvspan((f['t0_ns'] - t0) * 1e-9, (f['t1_ns'] - t0) * 1e-9, color=colour, alpha=0.2)
        for offset, name in enumerate((*SENSORS, 'lifted')):
            if name in s.reliability:
                t, w = s.reliability[name]
                ax.step((t - t0) * 1e-9, np.asarray(w) + 1.2 * offset, where='post', label=name)
        ax.set_yticks([1.2 * i + 0.5 for i in range(4)], [*SENSORS, 'lifted'])
        ax.set_title(f'{s.name}: sensor weight (0..1) and lift', fontsize=10)
    axes[-1, 0].set_xlabel('time since the start of the session (s)')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def map_memory(sessions: list[Session], path: Path, budget: int | None = None) -> None:
    """Bytes per layer of the long-term map after each session."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    layers = ('landmarks', 'places', 'floor', 'rooms')
    bottom = np.zeros(len(sessions))
    for layer in layers:
        values = np.array([(s.map_bytes or {}).get(layer, 0) / 1e6 for s in sessions])
        ax.bar([s.name for s in sessions], values, bottom=bottom, label=layer)
        bottom += values
    if budget:
        ax.axhline(budget / 1e6, color='grey', lw=1, label='budget')
    ax.set_ylabel('map (MB)')
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
