"""Which endpoints a message goes to."""

from collections.abc import Collection


def endpoint_matches(
    *,
    disabled: bool,
    endpoint_event_types: Collection[str] | None,
    endpoint_channels: Collection[str] | None,
    event_type: str,
    message_channels: Collection[str] | None,
) -> bool:
    """An enabled endpoint matches when the event type is one it listens to (or
    it listens to all) and, if it filters by channel, the message shares one."""
    if disabled:
        return False
    if endpoint_event_types and event_type not in endpoint_event_types:
        return False
    if endpoint_channels:
        return bool(message_channels) and not set(endpoint_channels).isdisjoint(message_channels or ())
    return True
