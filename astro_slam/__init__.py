"""astro_slam: long-term visual SLAM for home robots (ROS-free core, thin ROS 2 shells)."""

__version__ = '0.1.0'
