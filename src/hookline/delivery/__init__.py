"""The delivery engine: claiming, sending, recording outcomes."""
