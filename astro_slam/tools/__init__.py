"""Command line and I/O tools: the `astro-slam` CLI, bag reading and writing, the replay runner."""
