"""The ``hookline`` command. Server commands import the server lazily, so the
light install (library, client, CLI) works without the server's dependencies."""

import click

from hookline._version import __version__
from hookline.cli.commands import CLIENT_COMMANDS
from hookline.cli.maintenance import prune
from hookline.cli.options import CommandGroup
from hookline.cli.server import migrate_command, serve, token


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hookline")
def main() -> None:
    """hookline: self-hosted webhooks."""


main.add_command(serve)
main.add_command(migrate_command)
main.add_command(token)
main.add_command(prune)
for _command in CLIENT_COMMANDS:
    main.add_command(_command)
