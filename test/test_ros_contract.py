"""The stack against the topic contract of docs/ARCHITECTURE.md, without ROS: every input of a
node comes from another node or a driver, and RViz shows only what is published."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from astro_slam.framework.graph import Graph
from astro_slam.stack import DEFAULT_STACK, load_component
from astro_slam.vo.config import VisualOdometryConfig

ROOT = Path(__file__).resolve().parents[1]

# What drivers publish (docs/ARCHITECTURE.md, Topics): cameras, IMU, wheels, base hints, TF.
DRIVER_TOPICS = {
    *(
        f'/camera/{cam}/{kind}'
        for cam in ('left', 'right', 'color')
        for kind in ('image_raw', 'image_raw/compressed', 'camera_info')
    ),
    '/camera/depth/image_rect_raw',
    '/camera/depth/image_rect_raw/compressedDepth',
    '/camera/depth/camera_info',
    '/imu/data',
    '/wheel/odometry',
    '/robot/wheel_drop',
    '/robot/low_power',
    '/tf',
    '/tf_static',
}


def _stack(rig: str = 'stereo', transport: str = 'raw') -> Graph:
    graph = Graph()
    for name in DEFAULT_STACK:
        cls = load_component(name)
        config = None
        if cls.Config is VisualOdometryConfig:
            config = VisualOdometryConfig(rig=rig, image_transport=transport)
        graph.add(cls, config)
    return graph


@pytest.mark.parametrize('rig', ['stereo', 'rgbd'])
@pytest.mark.parametrize('transport', ['raw', 'compressed'])
def test_every_input_comes_from_a_node_or_a_driver(rig, transport):
    graph = _stack(rig, transport)
    # inputs(): what the nodes subscribe to and no node of the stack publishes.
    assert set(graph.inputs()) <= DRIVER_TOPICS, sorted(set(graph.inputs()) - DRIVER_TOPICS)


def _rviz_topics(displays: list) -> set[str]:
    out = set()
    for display in displays:
        out |= _rviz_topics(display.get('Displays', []))
        for key in ('Topic', 'Update Topic'):
            if isinstance(display.get(key), dict):
                out.add(display[key]['Value'])
    return out


def test_rviz_shows_only_published_topics():
    config = yaml.safe_load((ROOT / 'rviz' / 'astro_slam.rviz').read_text(encoding='utf-8'))
    topics = _rviz_topics(config['Visualization Manager']['Displays'])
    published = set(_stack().outputs())
    assert {'/map', '/map_layers', '/slam/path', '/slam/loop_closures', '/vo/keyframe'} <= topics
    assert topics <= published | DRIVER_TOPICS, sorted(topics - published - DRIVER_TOPICS)
    # /map is latched by the map server: RViz must ask for transient local to get it late.
    (map_display,) = [
        d for d in config['Visualization Manager']['Displays'] if d['Class'].endswith('/Map')
    ]
    assert map_display['Topic']['Durability Policy'] == 'Transient Local'
