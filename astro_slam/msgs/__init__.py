"""Message layer: ROS messages <-> core types, and the one factory for outgoing messages.

Conversions read only ROS field names, so they work on rclpy messages and on `rosbags` classes.
"""

from astro_slam.msgs.errors import InvalidMessage
from astro_slam.msgs.factory import MessageFactory, default_factory, msgtype_of

__all__ = ['InvalidMessage', 'MessageFactory', 'default_factory', 'msgtype_of']
