"""Use-cases: what every entry point (API, CLI, dashboard) calls."""
