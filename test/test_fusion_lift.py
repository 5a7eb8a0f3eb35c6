"""The IMU-only lift detector on synthetic vertical accelerations at low power's 50 Hz."""

from __future__ import annotations

from astro_fusion.lift import LiftDetector

DT = 0.02  # 50 Hz, the IMU rate of low-power mode


def _feed(detector: LiftDetector, t_ns: int, a_z: list[float | None]) -> int:
    for a in a_z:
        t_ns += int(DT * 1e9)
        detector.update(t_ns, DT, a)
    return t_ns


def _jolt() -> list[float | None]:
    """A threshold's impact as the simulator's IMU gives it at 50 Hz: one reading just under
    the range (a spike far shorter than the 20 ms it stands for), then a clipped one."""
    return [0.0] * 50 + [6.4, None] + [0.0] * 40


def test_a_clipped_impact_does_not_add_up_to_a_lift():
    detector = LiftDetector(height_m=0.05, still_s=0.3)
    t = _feed(detector, 0, [0.0] * 100)
    for _ in range(2):  # two thresholds in a row
        t = _feed(detector, t, _jolt())
        assert not detector.lifted


def test_a_real_lift_after_a_clipped_impact_is_still_seen():
    detector = LiftDetector(height_m=0.05, still_s=0.3)
    t = _feed(detector, 0, [0.0] * 100 + _jolt())
    t = _feed(detector, t, [2.0] * 15 + [0.0] * 5 + [-2.0] * 15)  # up 0.3 m in 0.7 s
    assert detector.lifted
