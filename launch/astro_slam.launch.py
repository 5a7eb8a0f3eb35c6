"""Starts the astro_slam nodes with one parameter file; arguments override the file.

Usage:
  ros2 launch astro_slam astro_slam.launch.py params_file:=/path/robot.yaml use_sim_time:=true

The long-term map is the parameter map_path of the backend and map_server sections.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

from launch import LaunchDescription

NODES = ('visual_odometry', 'fusion', 'backend', 'map_server')


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory('astro_slam')
    params_file = LaunchConfiguration('params_file')
    use_sim_time = ParameterValue(LaunchConfiguration('use_sim_time'), value_type=bool)
    namespace = LaunchConfiguration('namespace')
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
            'namespace', default_value='', description='namespace of every node and relative topic'
        ),
        DeclareLaunchArgument(
            'rviz',
            default_value='false',
            choices=['true', 'false'],
            description='start RViz with rviz/astro_slam.rviz',
        ),
    ]
    nodes = [
        Node(
            package='astro_slam',
            executable=f'{name}_node',
            name=name,
            namespace=namespace,
            output='screen',
            # Later entries win: the file first, then the launch arguments.
            parameters=[params_file, {'use_sim_time': use_sim_time}],
        )
        for name in NODES
    ]
    rviz = Node(
        package='rviz2',
        executable='rviz2',
        name='rviz2',
        output='screen',
        arguments=['-d', os.path.join(share, 'rviz', 'astro_slam.rviz')],
        parameters=[{'use_sim_time': use_sim_time}],
        condition=IfCondition(LaunchConfiguration('rviz')),
    )
    return LaunchDescription([*arguments, *nodes, rviz])
