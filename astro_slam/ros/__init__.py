"""rclpy shells: the generic binding, QoS and the nodes (import only where ROS 2 is installed)."""
