"""What a refused form says, in the form's own words.

The rules stay where they are (the API's schemas and the use-cases); a page catches what they
refuse and turns it, here, into a ``Refusal``: the values as they were typed, to be shown again
(escaped like any text), and one plain sentence per field, naming it as the form does. Only the
pages use this: the JSON API keeps its own error bodies.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from hookline.api.schemas import ID_SHAPED_RULE, UID_RULE
from hookline.domain.event_schemas import NAME_RULE
from hookline.errors import Conflict, HooklineError, Invalid

_SHOWN = 40  # characters of a typed value quoted back in a message

# What a pattern of the schemas allows, said in words (the pattern is the error's context).
_ALLOWED = {
    r"^[a-zA-Z0-9\-_.]+$": "may use letters, digits, '-', '_' and '.'",
    r"^[a-zA-Z0-9\-_./#]+$": "may use letters, digits, '-', '_', '.', '/' and '#'",
    r"^[^\x00]*$": "cannot contain a NUL character",
    r"^[^\x00]+$": "cannot contain a NUL character",
    r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$": "may use letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ (no spaces)",
    r"^[^\x00\r\n]*$": "must be one line of text",
}
# The use-cases' and validators' rules that name no field, said with the field's subject.
_RULES = {
    NAME_RULE: "{subject} may use letters, digits, '-', '_' and '.', up to 256 characters, "
    "not starting with '-' and not only dots",
    UID_RULE: "{subject} may use letters, digits, '-', '_' and '.', up to 256 characters, not only dots",
    ID_SHAPED_RULE: "{subject} cannot look like a hookline id (a short prefix, '_' and 22 letters or digits): "
    "change or add a character",
    "the URL must be an absolute http or https URL": "{subject} must start with https:// or http:// and a host name",
}
# A source's config field left empty (services.ingest_config): said as a missing field is.
_REQUIRED = re.compile(r"config\.[A-Za-z.]+ must be a non-empty string")


@dataclass(frozen=True)
class Field:
    """One field of a form: how the page labels it and how a sentence names what was typed in it."""

    label: str  # as the form shows it: "Only these event types"
    subject: str  # "Event type names", "The URL"
    api: tuple[str, ...] = ()  # its names in the API's schemas and the use-cases' errors: ("eventType",)
    items: str = ""  # for a list: its items, plural ("channels")
    empty: str = ""  # what leaving it empty does, said after a refused value: "leave it empty for no limit"
    example: str = ""  # a value that works, offered after a refused one
    taken: str = ""  # what a conflict means for this field (it must be unique)


@dataclass(frozen=True)
class Form:
    name: str  # the form on its page, as the template asks about it
    fields: Mapping[str, Field] = field(default_factory=dict)
    refused: str = "Not saved"  # the alert's first words

    def field_for(self, names: list[Any]) -> str | None:
        """The form field that an error's location (``["body", "eventType", 0]``) points at: the one
        whose name, or one of its API names, starts it; an API name may go deeper, dotted
        (``"config.hmac.header"``), and the longest that matches wins."""
        parts = [str(part) for part in names if part not in ("body", "query")]
        found, depth = None, 0
        for key, spec in self.fields.items():
            for name in (key, *spec.api):
                path = name.split(".")
                if len(path) > depth and parts[: len(path)] == path:
                    found, depth = key, len(path)
        return found


class BadForm(Exception):
    """A form value the page itself cannot read (a header line without a colon); ``field`` names
    it (None: the form as a whole) and the message is already a sentence for the person."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Refusal:
    """A form that was not accepted: what was typed and what to change, for the page to show."""

    form: str
    values: Mapping[str, str]
    errors: Mapping[str, str]  # field: sentence, in the form's order
    summary: str | None = None  # about the form as a whole
    title: str = "Not saved"

    def about(self, form: str) -> bool:
        return bool(self.form) and self.form == form

    def value(self, form: str, name: str, default: Any = "") -> str:
        """What was typed in the field, when this form was refused; else ``default`` (the stored value)."""
        if self.about(form) and name in self.values:
            return self.values[name]
        return "" if default is None else str(default)

    def error(self, form: str, name: str) -> str | None:
        return self.errors.get(name) if self.about(form) else None

    def focus(self, form: str) -> str | None:
        """The first field to put right, which the page focuses."""
        return next(iter(self.errors), None) if self.about(form) else None


NOTHING = Refusal(form="", values={}, errors={})


def refuse(form: Form, typed: Mapping[str, str], exc: Exception) -> Refusal:
    """The refusal of ``form`` as typed (``typed``), for what the schemas or use-cases raised."""
    values = {k: v for k, v in typed.items() if k != "csrf_token"}
    errors: dict[str, str] = {}
    summary: str | None = None
    if isinstance(exc, ValidationError):
        for error in exc.errors():
            key = form.field_for(list(error["loc"]))
            if key is None:  # not a field of this form: named as the schema names it, above the form
                summary = summary or explain(_unlisted(error), error)
            else:
                errors.setdefault(key, explain(form.fields[key], error))
    elif isinstance(exc, BadForm) and exc.field is not None and exc.field in form.fields:
        errors[exc.field] = str(exc)
    elif isinstance(exc, Invalid) and (key := form.field_for(list(exc.field))) is not None:
        errors[key] = _rule(form.fields[key], str(exc))
    elif isinstance(exc, Conflict) and (key := _unique(form)) is not None:
        errors[key] = form.fields[key].taken
    elif isinstance(exc, (BadForm, HooklineError)):
        summary = _sentence(str(exc))
    else:
        raise TypeError(f"not a refusal: {exc!r}")
    order = list(form.fields)
    ordered = dict(sorted(errors.items(), key=lambda item: order.index(item[0])))
    return Refusal(form=form.name, values=values, errors=ordered, summary=summary, title=form.refused)


def _unlisted(error: ErrorDetails) -> Field:
    name = next((str(part) for part in error["loc"] if part not in ("body", "query")), "form")
    words = re.sub(r"(?<=[a-z])(?=[A-Z])|_", " ", name).lower()
    return Field(words[:1].upper() + words[1:], f"The {words}")


def _unique(form: Form) -> str | None:
    return next((key for key, spec in form.fields.items() if spec.taken), None)


def explain(spec: Field, error: ErrorDetails) -> str:
    """One validation error of ``spec``'s value, as a plain sentence naming it."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    subject, item = _subject(spec, error)
    if kind == "string_pattern_mismatch":
        allowed = _ALLOWED.get(str(ctx.get("pattern")), "has characters that are not allowed here")
        text = f"{subject} {allowed}"
        return _sentence(text + (f"; {_quote(item)} does not" if item is not None else ""))
    if kind == "string_too_long":
        given = item if item is not None else str(error.get("input", ""))
        return _sentence(
            f"{subject} may be at most {ctx.get('max_length')} characters long; "
            + (f"{_quote(item)} has {len(given)}" if item is not None else f"this one has {len(given)}")
        )
    if kind in ("missing", "string_too_short", "too_short") and ctx.get("min_length", 1) <= 1:
        return _sentence(f"{spec.label} is required")
    if kind == "string_too_short":
        return _sentence(f"{subject} must be at least {ctx.get('min_length')} characters long")
    if kind == "too_long":
        things = spec.items or "items"
        return _sentence(
            f"At most {ctx.get('max_length')} {things} may be listed; this lists {ctx.get('actual_length')}"
        )
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {
            "greater_than_equal": f"at least {ctx.get('ge')}",
            "greater_than": f"more than {ctx.get('gt')}",
            "less_than_equal": f"at most {ctx.get('le')}",
            "less_than": f"less than {ctx.get('lt')}",
        }
        return _with_empty(spec, f"{subject} must be {words[kind]}")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _with_empty(spec, f"{subject} must be a whole number")
    if kind in ("float_parsing", "float_type", "decimal_parsing"):
        return _with_empty(spec, f"{subject} must be a number")
    if kind in ("url_parsing", "url_scheme", "url_type", "url_syntax_violation"):
        return _sentence(f"{subject} must be a full web address, such as {spec.example or 'https://example.com/'}")
    if kind == "json_invalid":
        return _sentence(f"{subject} is not valid JSON ({ctx.get('error', 'it cannot be read')})")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _sentence(f"{subject} must be a JSON object")
    if kind == "list_type":
        return _sentence(f"{subject} must be a list")
    if kind in ("bool_parsing", "bool_type"):
        return _sentence(f"{subject} must be yes or no")
    if kind in ("literal_error", "enum"):
        return _sentence(f"{subject} must be one of {ctx.get('expected')}")
    if kind in ("datetime_parsing", "datetime_from_date_parsing", "datetime_type"):
        return _sentence(f"{subject} must be a date and time")
    if kind in ("value_error", "assertion_error"):
        return _rule(spec, str(ctx.get("error") or error["msg"]))
    return _sentence(f"{spec.label}: {error['msg']}")


def _subject(spec: Field, error: ErrorDetails) -> tuple[str, str | None]:
    """How the sentence names the value, and the item of a list or mapping it is about."""
    rest = list(error["loc"])[1:]
    if not rest:
        return spec.subject, None
    if rest[-1] == "[key]" or isinstance(rest[0], int):  # a mapping's key or a list's item
        return spec.subject, str(error.get("input", rest[0]))
    return f"The value of {rest[0]}", None  # a mapping's value (a header's)


def _rule(spec: Field, message: str) -> str:
    """A validator's or use-case's message about ``spec``: known rules in words, others as they are."""
    if _REQUIRED.fullmatch(message):
        return _sentence(f"{spec.label} is required")
    rule = _RULES.get(message)
    text = rule.format(subject=spec.subject) if rule is not None else message
    return _sentence(f"{text} (write it like {spec.example})" if spec.example else text)


def _with_empty(spec: Field, text: str) -> str:
    return _sentence(f"{text}; {spec.empty}" if spec.empty else text)


def _quote(value: str) -> str:
    shown = value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…"
    return f"“{shown}”"


def _sentence(text: str) -> str:
    """``text`` as a sentence: a capital first letter and a full stop."""
    text = text.strip()
    if text.startswith("Value error, "):
        text = text.removeprefix("Value error, ")
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
