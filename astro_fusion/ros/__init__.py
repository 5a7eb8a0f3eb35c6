"""rclpy shells of astro_fusion (import only where ROS 2 is installed)."""
