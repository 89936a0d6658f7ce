"""The event-type catalogue's forms: how each is named on the page, and what it posts read into
what the API's event-type schemas take.

The API keeps an event type's schemas by version (``{"1": {...}, "2": {...}}``); the page edits
one version at a time, in a box holding that version's JSON Schema: version 1 for a new event
type, the latest for an existing one (or, ticked, a new version after it). The other versions
are kept as they are."""

import json
from dataclasses import replace
from typing import Any

from hookline.api import strict_json
from hookline.domain.event_schemas import latest_version, pointer
from hookline.domain.model import EventType
from hookline.errors import Invalid
from hookline.ui.forms import BadForm, Field, Form

VALIDATION_MODES = {
    "off": "Accepted, not checked",
    "warn": "Accepted, and marked with a schema warning",
    "enforce": "Refused (the publish gets a 422)",
}

_FIELDS = {
    "description": Field("Description", "The description"),
    "schema": Field("JSON Schema", "The schema", api=("schemas",)),
    "schema_validation": Field(
        "A payload that fails the schema is", "Schema validation", api=("schemaValidation", "schema_validation")
    ),
    "deprecated": Field("Deprecated", "Deprecated"),
    "feature_flag": Field(
        "Feature flag", "The feature flag", api=("featureFlag", "feature_flag", "featureFlags"), example="beta"
    ),
}
NEW_EVENT_TYPE = Form(
    "new-event-type",
    {
        "name": Field(
            "Name",
            "The name",
            example="invoice.paid",
            taken="An event type already has this name (perhaps an archived one: show archived ones to restore it).",
        ),
        **_FIELDS,
    },
    "Not created",
)
_EDIT = Form("edit", {**_FIELDS, "new_version": Field("Save as a new version", "The new version")})
_ARCHIVE = Form("archive", refused="Not archived")
_RESTORE = Form("restore", refused="Not restored")


def edit_form(name: str) -> Form:
    """The edit form of one event type: each one on the page has its own, so that a refused one
    comes back under its event type."""
    return replace(_EDIT, name=f"edit:{name}")


def archive_form(name: str) -> Form:
    return replace(_ARCHIVE, name=f"archive:{name}")


def restore_form(name: str) -> Form:
    return replace(_RESTORE, name=f"restore:{name}")


def shown_version(event_type: EventType) -> str:
    """The version the edit form's schema box holds: the latest (version 1 when there is none)."""
    return latest_version(event_type.schemas or {}) or "1"


def schema_text(event_type: EventType) -> str:
    """The schema box's text for ``event_type``: its latest version, indented; empty without one."""
    schema = (event_type.schemas or {}).get(shown_version(event_type))
    return "" if schema is None else json.dumps(schema, indent=2, ensure_ascii=False)


def new_fields(form: dict[str, str]) -> dict[str, Any]:
    """The new-event-type form as the API's ``EventTypeIn`` takes it (the schema as version 1)."""
    schema = _schema(form.get("schema", ""))
    return {"name": form.get("name", "").strip(), **_common(form), "schemas": {"1": schema} if schema else None}


def box_version(form: dict[str, str], current: EventType) -> str:
    """The version an edit form's schema box is saved as: the one it showed (posted as
    ``version``), or with ``new_version`` ticked the one after the latest."""
    if form.get("new_version") == "on":
        return str(int(latest_version(current.schemas or {}) or "0") + 1)
    return form.get("version") or shown_version(current)


CHANGED_SINCE = (
    "Someone changed this event type after this page was opened, so nothing was saved. The form now "
    "shows what you typed over the latest version: check it, then save again."
)


def read_at(form: dict[str, str]) -> int | None:
    """The ``updated_at`` of the event type the edit form was filled over (None: not posted)."""
    given = form.get("updated_at")
    if given is None:
        return None
    if not (given.isascii() and given.isdigit()):
        raise BadForm(None, "The form is damaged (its version stamp is not a number): reload the page.")
    return int(given)


def edit_fields(form: dict[str, str], current: EventType) -> dict[str, Any]:
    """An edit form as the API's ``EventTypePatch`` takes it: the schema box's text becomes its
    version (``box_version``), and emptied it removes that version; the other versions stay as
    ``current`` has them."""
    schemas = dict(current.schemas or {})
    schema = _schema(form.get("schema", ""))
    if schema:
        schemas[box_version(form, current)] = schema
    else:
        schemas.pop(box_version(form, current), None)
    return {**_common(form), "schemas": schemas or None}


def _common(form: dict[str, str]) -> dict[str, Any]:
    # The checkbox follows a hidden "off": unticked, the form posts off; ticked, "on" comes last and wins.
    return {
        "description": form.get("description", ""),
        "deprecated": form.get("deprecated") == "on",
        "feature_flag": form.get("feature_flag", "").strip() or None,
        "schema_validation": form.get("schema_validation") or "off",
    }


def _schema(text: str) -> dict[str, Any] | None:
    """The schema box's JSON object; None when it is empty."""
    if not text.strip():
        return None
    try:
        # First what Python's parser takes and JSON has not (NaN, a repeated key, a lone
        # surrogate, an integer too long to read), refused as the API refuses it.
        strict_json.check(text.encode("utf-8"))
        parsed = json.loads(text)
    except strict_json.JsonProblem as exc:
        where = pointer(exc.loc)
        raise BadForm(
            "schema", f"The schema is not valid JSON: {exc.msg}" + (f" (at {where})." if where else ".")
        ) from None
    except json.JSONDecodeError as exc:
        why = f"{_lower(exc.msg)} at line {exc.lineno}, column {exc.colno}"
        raise BadForm("schema", f"The schema is not valid JSON: {why}.") from None
    except RecursionError:
        raise BadForm("schema", "The schema is nested too deeply to be read.") from None
    if not isinstance(parsed, dict):
        raise BadForm("schema", 'The schema must be a JSON object, such as {"type": "object"}.')
    return parsed


def explained(exc: Exception, shown: str = "1") -> Exception:
    """A schema the use-case refused (``Invalid`` at ``body.schemas.<version>...``, its message
    starting ``schemas.<version>/<pointer>: ``) said about the schema box, which shows version
    ``shown``; any other error as it is."""
    if not isinstance(exc, Invalid) or exc.field[:2] != ["body", "schemas"]:
        return exc
    version = exc.field[2] if len(exc.field) > 2 else None
    at = pointer(exc.field[3:])
    prefix = (f"schemas.{version}" if version is not None else "schemas") + at
    reason = str(exc).removeprefix(f"{prefix}: ").rstrip(".")
    subject = "The schema" if version in (None, shown) else f"Version {version} of the schema"
    return BadForm("schema", f"{subject} is not a valid JSON Schema" + (f" at {at}" if at else "") + f": {reason}.")


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]
