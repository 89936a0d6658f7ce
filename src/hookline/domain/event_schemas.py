"""Versioned event schemas (``{"1": <JSON Schema>, "2": ...}``, as Svix stores them).

Schemas are checked against their JSON Schema meta-schema when written; payloads are
validated against one version (by default the highest) and a failure is reported as a
JSON pointer and a reason. ``parse_openapi_webhooks`` reads event types from OpenAPI 3.1.
"""

import json
import re
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, cast

import regex
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import extend, validator_for
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

MAX_REASON: Final = 300
_VERSION = re.compile(r"^[1-9][0-9]{0,8}$")


class SchemaDefinitionError(ValueError):
    """A schema that cannot be stored: ``version`` and ``pointer`` (inside it) say where."""

    def __init__(self, version: str | None, pointer: str, reason: str) -> None:
        self.version = version
        self.pointer = pointer
        self.reason = reason
        where = f"schemas.{version}" if version is not None else "schemas"
        super().__init__(f"{where}{pointer}: {reason}" if pointer else f"{where}: {reason}")


class UnknownSchemaVersion(LookupError):
    def __init__(self, version: str, known: list[str]) -> None:
        self.version = version
        self.known = known
        super().__init__(f"no schema version {version!r}; known: {', '.join(known) or 'none'}")


def pointer(parts: Any) -> str:
    """RFC 6901 JSON pointer for a path of keys and indices ('' is the whole document)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _validator_class(schema: Mapping[str, Any]) -> type[Validator]:
    # With no fallback given, validator_for answers None for a dialect it does not know.
    if "$schema" in schema and validator_for(schema, default=cast(Any, None)) is None:
        raise SchemaDefinitionError(None, "/$schema", f"unknown JSON Schema dialect {schema['$schema']!r}")
    cls: type[Validator] = validator_for(schema, default=Draft202012Validator)
    return cls


def check_schema(version: str | None, schema: object) -> None:
    """Raise ``SchemaDefinitionError`` unless ``schema`` is a valid, self-contained JSON Schema."""
    if not isinstance(schema, dict):
        raise SchemaDefinitionError(version, "", "a schema must be a JSON object")
    try:
        _check_schema(version, schema)
    except RecursionError:
        why = "the schema is nested too deeply, or refers to itself without end (as allOf: [{$ref: '#'}] does)"
        raise SchemaDefinitionError(version, "", why) from None


def _check_schema(version: str | None, schema: dict[str, Any]) -> None:
    try:
        cls = _validator_class(schema)
    except SchemaDefinitionError as err:
        raise SchemaDefinitionError(version, err.pointer, err.reason) from None
    try:
        cls.check_schema(schema)
    except SchemaError as err:
        raise SchemaDefinitionError(version, pointer(err.absolute_path), _shorten(err.message)) from None
    refs = _refs(schema, ())
    if not refs:
        return
    # Payload validation must never fetch anything: every $ref has to resolve inside.
    resource = Resource.from_contents(schema, default_specification=DRAFT202012)
    base = resource.id() or "urn:hookline:schema"
    resolver = Registry().with_resource(base, resource).resolver(base_uri=base)
    for where, ref in refs:
        if not ref.startswith("#"):
            raise SchemaDefinitionError(version, pointer(where), f"$ref {ref!r} is not local; only '#...' refs")
        try:
            resolver.lookup(ref)
        except Unresolvable:
            raise SchemaDefinitionError(version, pointer(where), f"$ref {ref!r} does not resolve") from None
    # A $ref loop that looks at no part of the value never ends, whatever it is given: try it once
    # on each kind of value, here rather than on every publish to the event type.
    validator = _compiled(json.dumps(schema, sort_keys=True))
    probes: tuple[object, ...] = ({}, [], "", 0, None)
    token = _deadline.set(time.monotonic() + CHECK_SECONDS)
    try:
        for probe in probes:
            best_match(validator.iter_errors(cast(Any, probe)))
    except CheckTooSlow:
        pass  # a pattern slow on these values may be quick on the payloads it is meant for
    finally:
        _deadline.reset(token)


def _refs(node: object, path: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    found: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.append(((*path, key), value))
            elif key not in ("const", "enum", "examples", "default"):  # data, not schema
                found.extend(_refs(value, (*path, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_refs(value, (*path, i)))
    return found


def check_schemas(schemas: object) -> dict[str, dict[str, Any]]:
    """Check a whole ``{"1": schema, ...}`` map; returns it typed, or raises."""
    if not isinstance(schemas, dict):
        raise SchemaDefinitionError(None, "", 'expected an object of versions, e.g. {"1": {...}}')
    for version, schema in schemas.items():
        if not isinstance(version, str) or not _VERSION.match(version):
            raise SchemaDefinitionError(None, "", f"version {version!r} must be a positive integer, as a string")
        check_schema(version, schema)
    return schemas


def latest_version(schemas: Mapping[str, Any]) -> str | None:
    return max(schemas, key=int) if schemas else None


@lru_cache(maxsize=512)
def _compiled(schema_json: str) -> Validator:
    schema = json.loads(schema_json)
    cls = _bounded(_validator_class(schema))
    return cls(schema)


# --- bounded checks -------------------------------------------------------------------------
# A payload is checked on the event loop, as it is published. Two keywords can take time out of
# all proportion to the payload: a pattern that backtracks (``(a|aa)+$`` on thirty a's and a
# "!": seconds, doubling with each a), and ``uniqueItems`` over objects, which jsonschema
# compares pairwise (6,000 small objects: 31 s). Patterns run under the ``regex`` module with
# what is left of the check's time; unique items are compared by a canonical form, in one pass.

CHECK_SECONDS: Final = 0.25
_deadline: ContextVar[float] = ContextVar("hookline_schema_deadline", default=0.0)


class CheckTooSlow(Exception):
    """A payload's check ran out of its time (``CHECK_SECONDS``)."""


def _search(pattern: str, text: str) -> bool:
    left = _deadline.get() - time.monotonic()
    if left <= 0:
        raise CheckTooSlow
    try:
        return regex.search(pattern, text, timeout=left) is not None
    except TimeoutError:
        raise CheckTooSlow from None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, additional: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = "|".join(schema.get("patternProperties", {}))
    extras = [k for k in instance if k not in known and not (patterns and _search(patterns, k))]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        listed = ", ".join(repr(extra) for extra in sorted(extras))
        if patterns:
            yield ValidationError(f"{listed} do not match any of the regexes: {patterns!r}")
        else:
            yield ValidationError(f"Additional properties are not allowed ({listed} unexpected)")


def _canonical(value: Any) -> Any:
    """A hashable form under which two JSON values are equal as JSON Schema says (1 == 1.0,
    but true != 1; objects equal whatever their key order)."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, list):
        return ("array", tuple(_canonical(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, _canonical(item)) for key, item in value.items()))
    return ("string", value)


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Any] = set()
    for index, item in enumerate(instance):
        key = _canonical(item)
        if key in seen:
            yield ValidationError(f"item {index} repeats an earlier item: the array's items must be unique")
            return
        seen.add(key)


@lru_cache(maxsize=8)
def _bounded(cls: type[Validator]) -> type[Validator]:
    keywords = {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "uniqueItems": _unique_items,
    }
    # jsonschema's extend() is untyped; it returns a subclass of cls with these keywords replaced.
    bounded: type[Validator] = cast(Any, extend)(cls, {k: v for k, v in keywords.items() if k in cls.VALIDATORS})
    return bounded


def validate_payload(
    schemas: Mapping[str, Mapping[str, Any]], payload: object, version: str | None = None
) -> tuple[str, str] | None:
    """None if ``payload`` fits the schema ``version`` (default: the highest); else the
    JSON pointer of the failing value and the reason. No schemas: nothing to check."""
    if version is None:
        version = latest_version(schemas)
        if version is None:
            return None
    if version not in schemas:
        raise UnknownSchemaVersion(version, sorted(schemas, key=int))
    token = _deadline.set(time.monotonic() + CHECK_SECONDS)
    try:
        validator = _compiled(json.dumps(schemas[version], sort_keys=True))
        error = best_match(validator.iter_errors(cast(Any, payload)))
    except RecursionError:
        why = "is nested too deeply, or the schema refers to itself without end"
        return "", f"the payload could not be checked against schema version {version}: it {why}"
    except CheckTooSlow:
        why = f"took longer than {CHECK_SECONDS * 1000:.0f} ms (a pattern that backtracks on this value?)"
        return "", f"checking the payload against schema version {version} {why}"
    finally:
        _deadline.reset(token)
    if error is None:
        return None
    return pointer(error.absolute_path), _shorten(error.message)


# --- OpenAPI 3.1 webhooks -----------------------------------------------------------------

# Not "-" first: list iterators that start with "-" go backwards (store/pagination.py), and an
# event type's name is its iterator; "-a" made a listing stop early or never end.
# Not only dots: "." and ".." are resolved away in a URL, so such an event type could never be
# read, changed or archived.
NAME = re.compile(r"^(?!\.+$)[a-zA-Z0-9_.][a-zA-Z0-9\-_.]{0,255}$")
NAME_RULE: Final = "an event type name is 1 to 256 of a-z A-Z 0-9 - _ ., not starting with - and not only dots"
_OPERATIONS: Final = ("post", "put")


class OpenApiError(ValueError):
    """A document that cannot be imported; ``pointer`` locates the problem in it."""

    def __init__(self, pointer: str, reason: str) -> None:
        self.pointer = pointer
        self.reason = reason
        super().__init__(f"{pointer or '/'}: {reason}")


@dataclass(frozen=True)
class ImportedEventType:
    name: str
    description: str
    schemas: dict[str, dict[str, Any]]  # {"1": schema}, or {} when the webhook has no body schema
    examples: list[Any] = field(default_factory=list)


def parse_openapi_webhooks(document: Mapping[str, Any]) -> list[ImportedEventType]:
    """Event types from the ``webhooks`` of an OpenAPI 3.1 document (a parsed dict).

    The webhook's key is the event type's name. Local ``$ref``s are resolved: inlined, or,
    where a schema refers to itself, kept under ``$defs``. External refs are refused.
    """
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3.1"):
        raise OpenApiError("/openapi", f"expected an OpenAPI 3.1 document, not {version!r}")
    webhooks = document.get("webhooks")
    if not isinstance(webhooks, dict) or not webhooks:
        raise OpenApiError("/webhooks", "the document has no webhooks")
    refs = _Refs(document)
    found = []
    for name, item in webhooks.items():
        at = pointer(("webhooks", name))
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise OpenApiError(at, NAME_RULE)
        found.append(_event_type(refs, name, at, item))
    return found


def _event_type(refs: "_Refs", name: str, at: str, item: object) -> ImportedEventType:
    at, path_item = refs.follow(at, item)
    operations = [(op, path_item[op]) for op in _OPERATIONS if isinstance(path_item.get(op), dict)]
    if not operations:
        raise OpenApiError(at, "a webhook needs a post (or put) operation")
    op_name, operation = operations[0]
    at = f"{at}/{op_name}"
    description = next(
        (d for d in (operation.get(k) or path_item.get(k) for k in ("description", "summary")) if isinstance(d, str)),
        "",
    )
    if "\x00" in description:
        # An event type's description is text, as the API's is: PostgreSQL cannot store NUL.
        raise OpenApiError(f"{at}/description", "a description cannot hold a NUL character (\\u0000)")
    body = operation.get("requestBody")
    if body is None:
        return ImportedEventType(name, description, {})
    at, body = refs.follow(f"{at}/requestBody", body)
    content = body.get("content") or {}
    media_type = next((m for m in content if m == "application/json"), None) or next(
        (m for m in content if m.endswith("json")), None
    )
    if media_type is None:
        raise OpenApiError(f"{at}/content", "the request body has no JSON media type")
    at = f"{at}/content/{media_type.replace('/', '~1')}"
    media = content[media_type]
    schemas: dict[str, dict[str, Any]] = {}
    if "schema" in media:
        schema = refs.schema(f"{at}/schema", media["schema"])
        try:
            check_schema("1", schema)
        except SchemaDefinitionError as err:
            raise OpenApiError(f"{at}/schema{err.pointer}", err.reason) from None
        schemas["1"] = schema
    return ImportedEventType(name, description, schemas, _examples(refs, at, media))


def _examples(refs: "_Refs", at: str, media: Mapping[str, Any]) -> list[Any]:
    if "example" in media:
        return [media["example"]]
    examples = []
    for key, example in (media.get("examples") or {}).items():
        _, example = refs.follow(f"{at}/examples/{key}", example)
        if "value" in example:
            examples.append(example["value"])
    if not examples and isinstance(media.get("schema"), dict):
        _, schema = refs.follow(f"{at}/schema", media["schema"])
        examples = list(schema.get("examples") or [])
    return examples


class _Refs:
    """Resolves ``#/...`` references inside one document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def target(self, at: str, ref: object) -> Any:
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise OpenApiError(at, f"only local $refs ('#/...') can be imported, not {ref!r}")
        node: Any = self.document
        for raw in ref[2:].split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise OpenApiError(at, f"$ref {ref!r} does not resolve")
        return node

    def follow(self, at: str, node: object) -> tuple[str, dict[str, Any]]:
        """A node that may be a ``$ref`` to another (path items, bodies, examples)."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise OpenApiError(at, f"$ref {ref!r} refers to itself")
            seen.add(ref)
            at, node = ref[1:], self.target(at, ref)
        if not isinstance(node, dict):
            raise OpenApiError(at, "expected an object")
        return at, node

    def schema(self, at: str, node: object) -> dict[str, Any]:
        defs: dict[str, Any] = {}
        names: dict[str, str] = {}  # ref -> $defs name, for refs that recur
        root = self._inline(at, node, (), defs, names)
        pending = [ref for ref in names if names[ref] not in defs]
        while pending:
            for ref in pending:
                defs[names[ref]] = None  # reserve before walking, so it can refer to itself
                defs[names[ref]] = self._inline(at, self.target(at, ref), (ref,), defs, names)
            pending = [ref for ref in names if names[ref] not in defs]
        if not isinstance(root, dict):
            raise OpenApiError(at, "a schema must be an object")
        if defs:
            root = {**root, "$defs": {**root.get("$defs", {}), **defs}}
        return root

    def _inline(self, at: str, node: Any, stack: tuple[str, ...], defs: dict[str, Any], names: dict[str, str]) -> Any:
        if isinstance(node, list):
            return [self._inline(at, item, stack, defs, names) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            siblings = {k: self._inline(at, v, stack, defs, names) for k, v in node.items() if k != "$ref"}
            if not ref.startswith("#/"):
                self.target(at, ref)  # raises: not a local ref
            if ref in stack or ref in names:  # recursive: keep it as a reference
                if ref not in names:
                    base = ref.rsplit("/", 1)[-1] or "def"
                    names[ref] = base if base not in names.values() else f"{base}{len(names)}"
                return {"$ref": f"#/$defs/{names[ref]}", **siblings}
            resolved = self._inline(at, self.target(at, ref), (*stack, ref), defs, names)
            return {**resolved, **siblings} if isinstance(resolved, dict) else resolved
        return {
            k: (
                v
                if k in ("const", "enum", "examples", "default", "example")
                else self._inline(at, v, stack, defs, names)
            )
            for k, v in node.items()
        }
