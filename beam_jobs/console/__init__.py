"""The terminal side of a run: its progress line, and Ctrl-C / SIGTERM."""
