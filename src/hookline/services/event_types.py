"""The event-type catalogue: versioned schemas checked on write, and imported from OpenAPI."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from hookline.domain.event_schemas import (
    NAME,
    NAME_RULE,
    ImportedEventType,
    OpenApiError,
    SchemaDefinitionError,
    check_schemas,
    parse_openapi_webhooks,
)
from hookline.domain.json_text import LONE_SURROGATE, lone_surrogate
from hookline.domain.model import EventType
from hookline.errors import Conflict, Invalid
from hookline.services.context import Context
from hookline.store import event_types
from hookline.store.pagination import Page

SCHEMA_MODES: Final = ("off", "warn", "enforce")
MAX_SPEC_VALUES: Final = 500_000


def check_name(name: str, where: list[str]) -> None:
    """A new event type's name (existing ones, made before the rule, stay reachable)."""
    if not NAME.fullmatch(name):
        raise Invalid(where, NAME_RULE)


def check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with its ``name`` (when it has one) and its ``schemas`` checked, these
    against the JSON Schema meta-schema."""
    if "name" in fields:
        check_name(fields["name"], ["body", "name"])
    schemas = fields.get("schemas")
    if schemas is not None:
        try:
            check_schemas(schemas)
        except SchemaDefinitionError as err:
            where = ["body", "schemas"] + ([err.version] if err.version is not None else [])
            where += [p.replace("~1", "/").replace("~0", "~") for p in err.pointer.split("/")[1:]]
            raise Invalid(where, str(err)) from None
    return fields


async def page(
    ctx: Context, *, include_archived: bool, limit: int, iterator: str | None, descending: bool
) -> Page[EventType]:
    async with ctx.db.read() as conn:
        return await event_types.page(
            conn, include_archived=include_archived, limit=limit, iterator=iterator, descending=descending
        )


async def get(ctx: Context, name: str) -> EventType:
    async with ctx.db.read() as conn:
        return await event_types.get(conn, name)


async def create(ctx: Context, fields: dict[str, Any]) -> EventType:
    fields = check_fields(fields)
    async with ctx.db.write() as conn:
        return await event_types.create(conn, fields)


async def put(ctx: Context, name: str, fields: dict[str, Any]) -> tuple[EventType, bool]:
    """Replace the event type, or create it. Returns it and whether it was created."""
    fields = check_fields(fields)
    async with ctx.db.write() as conn:
        if await event_types.find(conn, name) is None:
            check_name(name, ["path", "event_type_name"])
            return await event_types.create(conn, {"name": name, **fields}), True
        return await event_types.update_fields(conn, name, fields), False


async def patch(ctx: Context, name: str, fields: dict[str, Any], *, unchanged_since: int | None = None) -> EventType:
    """Change ``fields`` of the event type; with ``unchanged_since`` (the ``updated_at`` it was
    read with), only if nobody changed it since: else Conflict, and nothing is written."""
    fields = check_fields(fields)
    async with ctx.db.write() as conn:
        current = await event_types.get(conn, name)
        if unchanged_since is not None and current.updated_at != unchanged_since:
            raise Conflict(f"event type {name} was changed since it was read")
        return await event_types.update_fields(conn, name, fields)


async def delete(ctx: Context, name: str, *, expunge: bool) -> None:
    """Archive the event type; with ``expunge``, delete it for good."""
    async with ctx.db.write() as conn:
        await event_types.get(conn, name)
        if expunge:
            await event_types.remove(conn, name)
        else:
            await event_types.update_fields(conn, name, {"archived": True})


@dataclass(frozen=True)
class ImportResult:
    modified: list[str]  # the event types created or changed (or, on a dry run, that would be)
    found: list[ImportedEventType]


def parse_spec(spec: Mapping[str, Any] | None, spec_raw: str | None) -> Mapping[str, Any]:
    """The OpenAPI document from ``spec`` (parsed) or ``spec_raw`` (JSON or YAML text)."""
    if (spec is None) == (spec_raw is None):
        raise Invalid(["body", "spec"], "send exactly one of spec (a JSON object) and specRaw (JSON or YAML text)")
    if spec is not None:
        return spec
    assert spec_raw is not None
    try:
        document = _as_json(_within_limit(_load(spec_raw)))
    except RecursionError:
        why = "the document is nested too deeply, or a YAML alias refers to itself"
        raise Invalid(["body", "specRaw"], why) from None
    if not isinstance(document, dict):
        raise Invalid(["body", "specRaw"], "the document must be an object")
    where = lone_surrogate(document)
    if where is not None:
        raise Invalid(["body", "specRaw", *map(str, where)], LONE_SURROGATE)
    return document


def _load(spec_raw: str) -> Any:
    try:
        return json.loads(spec_raw)
    except ValueError:
        import yaml

        try:
            return yaml.safe_load(spec_raw)
        except yaml.YAMLError as exc:
            raise Invalid(["body", "specRaw"], f"neither JSON nor YAML: {str(exc).splitlines()[0]}") from None


def _within_limit(document: Any) -> Any:
    """``document``, unless it holds more than ``MAX_SPEC_VALUES`` values counted as JSON would
    write them out. A YAML alias repeats what its anchor holds: a kilobyte of nested aliases
    expands to a billion values, and an alias inside its own anchor never ends."""
    seen = 0
    stack = [document]
    while stack:
        item = stack.pop()
        seen += 1
        if seen > MAX_SPEC_VALUES:
            why = (
                f"the document holds more than {MAX_SPEC_VALUES:,} values, counting each YAML alias as what it repeats"
            )
            raise Invalid(["body", "specRaw"], why)
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return document


def _as_json(document: Any) -> Any:
    """``document`` as JSON has it. YAML has more: its dates become the text they were written
    as, and its integer keys (``200:`` under ``responses``) strings, as a JSON document says
    them. NaN, infinities and binary have no JSON form, and are refused."""

    def other(value: object) -> str:
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(f"a YAML {type(value).__name__} value has no JSON form")

    try:
        return json.loads(json.dumps(document, default=other, allow_nan=False))
    except (TypeError, ValueError) as exc:
        reason = "NaN and infinities are not JSON numbers" if "Out of range float" in str(exc) else str(exc)
        raise Invalid(["body", "specRaw"], f"the document cannot be stored as JSON: {reason}") from None


def _with_examples(item: ImportedEventType) -> dict[str, dict[str, Any]]:
    """The imported schemas, the request body's own examples (OpenAPI's ``example`` and
    ``examples``) kept in the schema's ``examples``, where send-example and the portal read them."""
    schemas = {version: dict(schema) for version, schema in item.schemas.items()}
    if item.examples and not any("examples" in s or "example" in s for s in schemas.values()):
        schemas.setdefault("1", {})["examples"] = list(item.examples)
    return schemas


async def import_openapi(
    ctx: Context, document: Mapping[str, Any], *, dry_run: bool, replace_all: bool, location: str = "spec"
) -> ImportResult:
    """Create or update one event type per webhook of an OpenAPI 3.1 document, with its
    request body schema as version 1 (an archived one is unarchived). ``replace_all``
    archives the event types the document does not name."""
    try:
        found = parse_openapi_webhooks(document)
    except OpenApiError as err:
        where = ["body", location, *[p.replace("~1", "/").replace("~0", "~") for p in err.pointer.split("/")[1:]]]
        raise Invalid(where, f"OpenAPI document {err}") from None
    names = {f.name for f in found}
    modified: list[str] = []
    async with ctx.db.write() as conn:
        for item in found:
            current = await event_types.find(conn, item.name)
            fields: dict[str, Any] = {
                "description": item.description,
                "schemas": _with_examples(item) or None,
                "archived": False,
            }
            if current is not None and all(getattr(current, k) == v for k, v in fields.items()):
                continue
            modified.append(item.name)
            if dry_run:
                continue
            if current is None:
                await event_types.create(conn, {"name": item.name, **fields})
            else:
                await event_types.update_fields(conn, item.name, fields)
        if replace_all:
            for name in await event_types.live_names(conn):
                if name not in names:
                    modified.append(name)
                    if not dry_run:
                        await event_types.update_fields(conn, name, {"archived": True})
    return ImportResult(modified, found)
