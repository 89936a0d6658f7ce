"""Use-cases: the operations every entry point (API, dashboard, CLI) calls."""
