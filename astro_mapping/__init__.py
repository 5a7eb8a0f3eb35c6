"""astro_mapping: the long-term layered map, its store and the occupancy grid for Nav2."""
