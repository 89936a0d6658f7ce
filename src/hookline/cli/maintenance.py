"""``hookline prune``: retention by hand."""

import click

from hookline.cli.options import duration_seconds
from hookline.cli.server import _settings, database_option, describe_database, on_database


@click.command("prune")
@click.option("--older-than", "older_than", required=True, help="Age to prune: 45s, 90m, 12h, 30d, 2w")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation")
@database_option
def prune(older_than: str, yes: bool, database_url: str | None) -> None:
    """Delete attempts and expunge message payloads older than --older-than."""
    seconds = duration_seconds(older_than)
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
