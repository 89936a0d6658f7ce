"""``hookline prune``: retention by hand."""

import re

import click

from hookline.cli.server import _settings, database_option, describe_database, on_database

_UNITS = {"m": 60, "h": 3600, "d": 86400}


def parse_age(text: str) -> float:
    """``30d``, ``12h`` or ``90m`` in seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhd])\s*", text)
    if not match:
        raise click.BadParameter("use a number and a unit: 90m, 12h or 30d")
    return float(match.group(1)) * _UNITS[match.group(2)]


@click.command("prune")
@click.option("--older-than", "older_than", required=True, help="Age to prune: 90m, 12h, 30d")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation")
@database_option
def prune(older_than: str, yes: bool, database_url: str | None) -> None:
    """Delete attempts and expunge message payloads older than --older-than."""
    seconds = parse_age(older_than)
    settings = _settings(database_url=database_url)
    where = describe_database(settings, existing=True)
    if not yes:
        click.confirm(
            f"Delete every attempt and expunge every payload older than {older_than} in {where}?",
            abort=True,
        )
    from hookline.store import retention
    from hookline.store.database import Database, now_ms

    async def run(db: Database) -> retention.Pruned:
        cutoff = now_ms() - int(seconds * 1000)
        async with db.write() as conn:
            expunged = await retention.expunge_payloads(conn, now_ms(), created_before=cutoff)
            return retention.Pruned(expunged, await retention.prune_attempts(conn, cutoff))

    pruned = on_database(settings, run, existing=True)
    click.echo(f"pruned {pruned.attempts_deleted} attempts, expunged {pruned.payloads_expunged} payloads in {where}")
