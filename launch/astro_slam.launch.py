"""Starts the four astro_slam nodes with one parameter file; arguments given here win over it.

Usage:
  ros2 launch astro_slam astro_slam.launch.py params_file:=/path/robot.yaml
  ros2 launch astro_slam astro_slam.launch.py map_path:=$HOME/.ros/home.db mode:=localization
  ros2 launch astro_slam astro_slam.launch.py rig:=rgbd use_sim_time:=true rviz:=true
  ros2 launch astro_slam astro_slam.launch.py features:=learned

An argument left empty (mode, map_path, rig, image_transport, features) leaves the file's
value alone: parameters are passed in order, the file first, then only the arguments given.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

from launch import LaunchDescription

NODES = ('visual_odometry', 'fusion', 'backend', 'map_server')
MAP_NODES = ('backend', 'map_server')
# Every node that reads descriptors: they must all agree on the extractor.
FEATURE_NODES = ('visual_odometry', 'backend', 'map_server')
CAMERA_INFO = {'stereo': 'camera/left/camera_info', 'rgbd': 'camera/color/camera_info'}


def _overrides(context, name: str) -> dict:
    """The parameters of node `name` that the launch arguments set."""
    mode = LaunchConfiguration('mode').perform(context)
    map_path = LaunchConfiguration('map_path').perform(context)
    rig = LaunchConfiguration('rig').perform(context)
    transport = LaunchConfiguration('image_transport').perform(context)
    features = LaunchConfiguration('features').perform(context)
    out = {}
    if features and name in FEATURE_NODES:
        out['features'] = features
    if name == 'map_server' and mode:
        out['mode'] = mode
    if name in MAP_NODES and map_path:
        out['map_path'] = os.path.expanduser(map_path)
    if rig and name == 'visual_odometry':
        out['rig'] = rig
    if transport and name == 'visual_odometry':
        out['image_transport'] = transport
    if rig and name in MAP_NODES:
        out['camera_info_topic'] = CAMERA_INFO[rig]
    return out


def _nodes(context):
    use_sim_time = ParameterValue(LaunchConfiguration('use_sim_time'), value_type=bool)
    return [
        Node(
            package='astro_slam',
            executable=f'{name}_node',
            name=name,
            namespace=LaunchConfiguration('namespace'),
            output='screen',
            # Later entries win: the file, then the arguments that were given.
            parameters=[
                LaunchConfiguration('params_file'),
                {'use_sim_time': use_sim_time, **_overrides(context, name)},
            ],
        )
        for name in NODES
    ]


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory('astro_slam')
    arguments = [
        DeclareLaunchArgument(
            'params_file',
            default_value=os.path.join(share, 'config', 'astro_slam.yaml'),
            description='ROS 2 parameter file with a section per node',
        ),
        DeclareLaunchArgument(
            'use_sim_time',
            default_value='false',
            choices=['true', 'false'],
            description='use /clock (set true with `ros2 bag play --clock`)',
        ),
        DeclareLaunchArgument(
            'mode',
            default_value='',
            choices=['', 'mapping', 'localization'],
            description='mapping: extend the map at map_path and save it; localization: only '
            "read it; '' keeps the params_file value",
        ),
        DeclareLaunchArgument(
            'map_path',
            default_value='',
            description="long-term map file (SQLite) of the backend and map server; '' keeps "
            'the params_file value',
        ),
        DeclareLaunchArgument(
            'rig',
            default_value='',
            choices=['', 'stereo', 'rgbd'],
            description="camera rig (sets the VO's rig and the camera_info the backend and map "
            "server read); '' keeps the params_file values",
        ),
        DeclareLaunchArgument(
            'image_transport',
            default_value='',
            choices=['', 'raw', 'compressed'],
            description='how the VO subscribes to images (compressed: <image>/compressed and '
            "<depth>/compressedDepth); '' keeps the params_file value",
        ),
        DeclareLaunchArgument(
            'features',
            default_value='',
            choices=['', 'orb', 'learned'],
            description='local features of the VO, backend and map server (learned: the '
            "shipped ONNX network, robust to light changes); '' keeps the params_file values",
        ),
        DeclareLaunchArgument(
            'namespace', default_value='', description='namespace of every node and relative topic'
        ),
        DeclareLaunchArgument(
            'rviz',
            default_value='false',
            choices=['true', 'false'],
            description='start RViz with rviz/astro_slam.rviz',
        ),
    ]
    rviz = Node(
        package='rviz2',
        executable='rviz2',
        name='rviz2',
        output='screen',
        arguments=['-d', os.path.join(share, 'rviz', 'astro_slam.rviz')],
        parameters=[
            {'use_sim_time': ParameterValue(LaunchConfiguration('use_sim_time'), value_type=bool)}
        ],
        condition=IfCondition(LaunchConfiguration('rviz')),
    )
    return LaunchDescription([*arguments, OpaqueFunction(function=_nodes), rviz])
