"""Connection diagnostics: why stations could not connect, and when they connected and dropped."""
