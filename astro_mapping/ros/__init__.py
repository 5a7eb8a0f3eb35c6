"""rclpy shells of astro_mapping (import only where ROS 2 is installed)."""
