"""The HTTP API: management routes, health, auth and error mapping."""
