"""astro_fusion: wheel + IMU + visual odometry fusion with a reliability estimate per sensor."""
