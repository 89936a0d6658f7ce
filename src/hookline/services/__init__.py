"""The use-cases every entry point calls: the REST API today; the dashboard, the inbound
gateway and the CLI tomorrow. Each function takes a ``Context`` and plain values, enforces
hookline's rules, and raises ``hookline.errors`` when it cannot do what was asked."""
