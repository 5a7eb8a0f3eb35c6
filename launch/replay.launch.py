"""Plays a bag with /clock and runs the stack on it in sim time, with RViz.

Usage:
  ros2 launch astro_slam replay.launch.py bag:=sim/home-day/day
  ros2 launch astro_slam replay.launch.py bag:=robot_run.mcap image_transport:=raw rate:=0.5

Simulated bags (`astro-slam simulate`) carry compressed images, hence image_transport's default
here. The same run without ROS: `astro-slam replay BAG --out DIR`.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import (
    DeclareLaunchArgument,
    ExecuteProcess,
    IncludeLaunchDescription,
    TimerAction,
)
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration

from launch import LaunchDescription

PASSED_ON = (
    'params_file',
    'mode',
    'map_path',
    'rig',
    'image_transport',
    'features',
    'namespace',
    'rviz',
)


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory('astro_slam')
    arguments = [
        DeclareLaunchArgument('bag', description='rosbag2 folder or .mcap/.db3 file to play'),
        DeclareLaunchArgument('rate', default_value='1.0', description='playback speed factor'),
        DeclareLaunchArgument(
            'delay',
            default_value='5.0',
            description='seconds to wait before playing, so that every node subscribes first '
            '(a bag without recorded QoS plays /tf_static volatile: late nodes would miss it)',
        ),
        DeclareLaunchArgument(
            'params_file',
            default_value=os.path.join(share, 'config', 'astro_slam.yaml'),
            description='ROS 2 parameter file with a section per node',
        ),
        DeclareLaunchArgument(
            'mode',
            default_value='',
            choices=['', 'mapping', 'localization'],
            description="map server mode; '' keeps the params_file value",
        ),
        DeclareLaunchArgument(
            'map_path', default_value='', description="long-term map file; '' keeps the file's"
        ),
        DeclareLaunchArgument(
            'rig',
            default_value='',
            choices=['', 'stereo', 'rgbd'],
            description="camera rig of the bag; '' keeps the params_file value",
        ),
        DeclareLaunchArgument(
            'image_transport',
            default_value='compressed',
            choices=['', 'raw', 'compressed'],
            description='how the bag carries images (simulated bags: compressed)',
        ),
        DeclareLaunchArgument(
            'features',
            default_value='',
            choices=['', 'orb', 'learned'],
            description="local features of the VO, backend and map server; '' keeps the "
            'params_file values',
        ),
        DeclareLaunchArgument(
            'namespace', default_value='', description='namespace of every node and relative topic'
        ),
        DeclareLaunchArgument(
            'rviz', default_value='true', choices=['true', 'false'], description='start RViz'
        ),
    ]
    play = ExecuteProcess(
        cmd=[
            'ros2',
            'bag',
            'play',
            LaunchConfiguration('bag'),
            '--clock',
            '--rate',
            LaunchConfiguration('rate'),
        ],
        output='screen',
    )
    stack = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'astro_slam.launch.py')),
        launch_arguments={
            'use_sim_time': 'true',
            **{name: LaunchConfiguration(name) for name in PASSED_ON},
        }.items(),
    )
    delayed = TimerAction(period=LaunchConfiguration('delay'), actions=[play])
    return LaunchDescription([*arguments, stack, delayed])
