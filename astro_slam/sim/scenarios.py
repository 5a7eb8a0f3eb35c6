"""Scenarios: sessions of one home over days, with light, change, people and sensor faults.

Named scenarios cover the cases the stack must handle; a YAML file with the same fields
describes any other. Sessions are in order: changes accumulate from one to the next.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Faults a session injects. Threshold bumps need no listing: every doorway has its 1-2 cm
# threshold, and each crossing is labelled 'bump' (with whether the accelerometer saturated).
FAULT_KINDS = ('slip', 'kidnap', 'low_power', 'dropped_frames', 'jitter')
CHANGE_LEVELS = ('none', 'minor', 'major')


@dataclass(frozen=True)
class SessionSpec:
    """One recording: when it happens, how the home looks, what goes wrong."""

    name: str
    duration_s: float = 60.0
    day: int = 0  # days since the first session
    start_hour: float = 10.0  # local time at the start: the sun follows it
    lights_on: float = 1.0  # share of rooms whose ceiling light is on
    dimming: float = 1.0  # every light source scaled (0: total darkness)
    ir_illuminator: bool = False  # the robot's own infrared light
    light_switches: int = 0  # lights switched on or off during the session
    changes: str = 'none'  # none, minor (chairs, bags), major (rearranged, repainted)
    people: int = 0
    pets: int = 0
    faults: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if unknown := set(self.faults) - set(FAULT_KINDS):
            raise ValueError(f'{self.name}: unknown faults {sorted(unknown)}; know {FAULT_KINDS}')
        if self.changes not in CHANGE_LEVELS:
            raise ValueError(f'{self.name}: changes must be one of {CHANGE_LEVELS}')
        if self.duration_s <= 0:
            raise ValueError(f'{self.name}: duration_s must be positive')


@dataclass(frozen=True)
class Scenario:
    name: str
    sessions: tuple[SessionSpec, ...]
    rig: str = 'stereo'  # stereo or rgbd
    camera_hz: float = 15.0
    width: int = 640
    height: int = 480
    n_rooms: int | None = None  # None: from the home seed
    laps: int = 2  # patrol laps through every room per session
    description: str = ''


def _day(duration: float = 120.0, **kw: Any) -> SessionSpec:
    return SessionSpec('day', duration, **kw)


# A month of daily patrols: the time of day turns through morning, afternoon, evening and
# night; chairs and bags move daily, two rooms are redone (days 10 and 20); faults rotate.
_MONTH_LIGHT = (  # start hour, share of ceiling lights on, dimming
    (9.5, 0.3, 1.0),
    (14.0, 0.0, 1.0),
    (19.0, 0.7, 0.6),
    (22.5, 0.5, 0.2),
)
_MONTH_FAULTS: tuple[tuple[str, ...], ...] = ((), ('slip',), ('jitter',), ('dropped_frames',), ())


def _month_day(day: int) -> SessionSpec:
    hour, lights_on, dimming = _MONTH_LIGHT[day % len(_MONTH_LIGHT)]
    return SessionSpec(
        f'day{day + 1:02d}',
        60.0,
        day=day,
        start_hour=hour,
        lights_on=lights_on,
        dimming=dimming,
        changes='none' if day == 0 else 'major' if day in (10, 20) else 'minor',
        people=day % 3,
        pets=day % 2,
        faults=_MONTH_FAULTS[day % len(_MONTH_FAULTS)],
    )


SCENARIOS: dict[str, Scenario] = {
    'tiny': Scenario(
        'tiny',
        (SessionSpec('tiny', 4.0, people=1),),
        camera_hz=10.0,
        width=320,
        height=240,
        n_rooms=3,
        laps=1,
        description='a few seconds, for tests',
    ),
    'home-day': Scenario(
        'home-day',
        (_day(120.0, people=1, pets=1),),
        description='one daylight patrol with a person and a pet',
    ),
    'home-week': Scenario(
        'home-week',
        (
            SessionSpec('day1-morning', 120.0, day=0, start_hour=9.5, people=1),
            SessionSpec(
                'day2-evening',
                120.0,
                day=1,
                start_hour=19.0,
                lights_on=0.7,
                dimming=0.6,
                changes='minor',
                people=1,
                pets=1,
                faults=('slip', 'jitter'),
            ),
            SessionSpec(
                'day3-night',
                120.0,
                day=2,
                start_hour=23.0,
                lights_on=0.2,
                dimming=0.15,
                changes='minor',
                faults=('kidnap', 'dropped_frames'),
            ),
            SessionSpec(
                'day8-afternoon',
                120.0,
                day=7,
                start_hour=15.0,
                lights_on=0.5,
                changes='major',
                people=2,
                pets=1,
                light_switches=2,
                faults=('low_power',),
            ),
        ),
        description='a week: furniture moved, evening and night light, faults',
    ),
    'home-month': Scenario(
        'home-month',
        tuple(_month_day(d) for d in range(30)),
        n_rooms=3,
        laps=1,
        description='thirty daily one-minute patrols: light, change, people and faults',
    ),
    'demo': Scenario(
        'demo',
        (
            SessionSpec('day1-mapping', 75.0, day=0, start_hour=10.0, lights_on=0.3, people=1),
            SessionSpec(
                'day2-evening',
                75.0,
                day=1,
                start_hour=19.5,
                lights_on=0.7,
                dimming=0.6,
                changes='minor',
                people=1,
                pets=1,
                faults=('slip',),
            ),
            SessionSpec(
                'day3-night',
                75.0,
                day=2,
                start_hour=23.0,
                lights_on=0.5,
                dimming=0.3,
                changes='minor',
                faults=('kidnap',),
            ),
        ),
        n_rooms=3,
        laps=1,
        description='`astro-slam demo`: mapping in daylight; furniture moved, evening light and a '
        'slip; near-dark and a kidnap',
    ),
    'kidnap': Scenario(
        'kidnap',
        (_day(90.0, faults=('kidnap',)),),
        description='picked up mid-patrol and put down in another room',
    ),
    'dark': Scenario(
        'dark',
        (
            SessionSpec(
                'dark', 90.0, start_hour=2.0, lights_on=0.0, dimming=0.0, ir_illuminator=True
            ),
        ),
        description='total darkness; only the robot infrared illuminator',
    ),
    'aliasing': Scenario(
        'aliasing',
        (_day(150.0),),
        n_rooms=6,
        laps=3,
        description='six rooms, two furnished alike, visited in turn',
    ),
}


def walk_scenario() -> Scenario:
    """6 s of a 640x480 stereo patrol at 15 Hz with a person walking: the short session with
    cameras that the whole-stack tests and `benchmarks/vo_people.py` share."""
    return dataclasses.replace(
        SCENARIOS['tiny'],
        sessions=(SessionSpec('walk', 6.0, people=1),),
        camera_hz=15.0,
        width=640,
        height=480,
    )


def load_scenario(name_or_path: str) -> Scenario:
    """A named scenario, or one read from a YAML file with the fields of Scenario."""
    if name_or_path in SCENARIOS:
        return SCENARIOS[name_or_path]
    path = Path(name_or_path)
    if not path.exists():
        raise ValueError(
            f'unknown scenario {name_or_path!r}: not a file, and not one of {", ".join(SCENARIOS)}'
        )
    data = yaml.safe_load(path.read_text(encoding='utf-8'))
    if not isinstance(data, dict) or not data.get('sessions'):
        raise ValueError(f'{path}: a scenario needs a list of sessions')
    try:
        sessions = tuple(
            SessionSpec(**{**s, 'faults': tuple(s.get('faults', ()))})
            for s in data.pop('sessions')
        )
        return Scenario(**{'name': path.stem, **data, 'sessions': sessions})
    except TypeError as err:
        raise ValueError(f'{path}: {err}') from None


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    return dataclasses.asdict(scenario)
