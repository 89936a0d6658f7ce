"""The commands that talk to a running server through its API (and ``verify``, which needs none)."""

import click

from hookline.cli.destinations import destination
from hookline.cli.endpoints import endpoint
from hookline.cli.inspect import inspect_group
from hookline.cli.listen import listen
from hookline.cli.messaging import attempts, messages, resend, send
from hookline.cli.resources import app, event_type
from hookline.cli.sources import source
from hookline.cli.tail import tail
from hookline.cli.tasks import bulk_replay, recover, replay
from hookline.cli.verify import verify_command

source.add_command(destination)
CLIENT_COMMANDS: tuple[click.Command, ...] = (
    app,
    endpoint,
    event_type,
    send,
    messages,
    attempts,
    tail,
    resend,
    recover,
    replay,
    bulk_replay,
    verify_command,
    source,
    inspect_group,
    listen,
)
