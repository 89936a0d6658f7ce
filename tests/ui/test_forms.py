"""hookline.ui.forms: what the schemas' and use-cases' refusals say on a page (no server)."""

from typing import Annotated, Any, Literal

import pytest
from pydantic import AnyHttpUrl, BaseModel, Field, Json, ValidationError

from hookline.api.schemas import ApplicationIn, EndpointHeadersIn, EndpointIn, EndpointPatch
from hookline.errors import Conflict, HooklineError, Invalid
from hookline.ui import forms
from hookline.ui.forms import NOTHING, BadForm, Form, Refusal, refuse

FORM = Form(
    "example",
    {
        "url": forms.Field("URL", "The URL", example="https://example.com/webhooks"),
        "description": forms.Field("Description", "The description"),
        "event_types": forms.Field(
            "Only these event types", "Event type names", api=("eventTypes",), items="event types"
        ),
        "channels": forms.Field("Only these channels", "Channel names", items="channels"),
        "throttle_rate": forms.Field(
            "Throttle", "The throttle", api=("throttleRate",), empty="leave it empty for no limit"
        ),
        "headers": forms.Field("Custom headers", "Header names"),
        "uid": forms.Field("Your own id", "Your own id", taken="That id is taken."),
    },
)


def errors_of(model: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return dict(refuse(FORM, {}, caught.value).errors)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (
            {"event_types": ["ok", "no way"]},
            "Event type names may use letters, digits, '-', '_' and '.'; “no way” does not.",
        ),
        ({"description": "a\x00b"}, "The description cannot contain a NUL character."),
        ({"event_types": ["e" * 257]}, f"Event type names may be at most 256 characters long; “{'e' * 39}…” has 257."),
        ({"channels": [f"c{n}" for n in range(11)]}, "At most 10 channels may be listed; this lists 11."),
        ({"throttle_rate": 0}, "The throttle must be at least 1; leave it empty for no limit."),
        ({"throttle_rate": 65536}, "The throttle must be at most 65535; leave it empty for no limit."),
        ({"throttle_rate": "fast"}, "The throttle must be a whole number; leave it empty for no limit."),
        ({"url": ""}, "URL is required."),
        (
            {"url": "example.com/hook"},
            "The URL must start with https:// or http:// and a host name (write it like https://example.com/webhooks).",
        ),
        (
            {"uid": "not ok"},
            "Your own id may use letters, digits, '-', '_' and '.', up to 256 characters, not only dots.",
        ),
        (
            {"uid": "app_1234567890123456789012"},
            "Your own id cannot look like a hookline id (a short prefix, '_' and 22 letters or digits): "
            "change or add a character.",
        ),
    ],
)
def test_endpoint_schema_refusals_read_as_sentences_naming_the_field(data: dict[str, Any], said: str) -> None:
    field = next(iter(data))
    errors = errors_of(EndpointPatch, data)
    assert errors == {field: said}


def test_header_names_and_values_are_named() -> None:
    errors = errors_of(EndpointHeadersIn, {"headers": {"X Bad": "1"}})
    assert errors == {
        "headers": "Header names may use letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ (no spaces); "
        "“X Bad” does not."
    }
    assert errors_of(EndpointHeadersIn, {"headers": {"X-A": "one\ntwo"}}) == {
        "headers": "The value of X-A must be one line of text."
    }


def test_several_fields_each_get_their_first_message_in_the_forms_order() -> None:
    errors = errors_of(EndpointIn, {"throttle_rate": 0, "url": "", "event_types": ["a b", "c d"]})
    assert list(errors) == ["url", "event_types", "throttle_rate"]
    assert "“a b”" in errors["event_types"]


def test_missing_out_of_range_not_a_url_bad_json_and_choices_in_other_schemas() -> None:
    class Other(BaseModel):
        url: AnyHttpUrl
        description: Json[dict[str, Any]]
        uid: Literal["hmac", "ed25519"]
        throttle_rate: Annotated[int, Field(gt=0, lt=10)]
        channels: Annotated[str, Field(min_length=3)]

    errors = errors_of(
        Other, {"url": "nope", "description": "{oops", "uid": "rsa", "throttle_rate": 10, "channels": "a"}
    )
    assert errors["url"] == "The URL must be a full web address, such as https://example.com/webhooks."
    assert errors["description"].startswith("The description is not valid JSON (")
    assert errors["uid"] == "Your own id must be one of 'hmac' or 'ed25519'."
    assert errors["throttle_rate"] == "The throttle must be less than 10; leave it empty for no limit."
    assert errors["channels"] == "Channel names must be at least 3 characters long."
    assert errors_of(Other, {})["url"] == "URL is required."


def test_use_case_refusals_go_to_their_field_or_above_the_form() -> None:
    typed = {"csrf_token": "secret", "url": "http://x.example", "uid": "acme"}
    on_url = refuse(FORM, typed, Invalid(["body", "url"], "endpoint URLs must use https"))
    assert on_url.errors == {"url": "Endpoint URLs must use https (write it like https://example.com/webhooks)."}
    assert "csrf_token" not in on_url.values and on_url.values["url"] == "http://x.example"
    assert refuse(FORM, typed, Conflict("an application with this uid already exists")).errors == {
        "uid": "That id is taken."
    }
    whole = refuse(Form("plain"), typed, Conflict("endpoint ep_1 is disabled: enable it first"))
    assert whole.errors == {} and whole.summary == "Endpoint ep_1 is disabled: enable it first."
    assert refuse(FORM, typed, HooklineError("payload is 9 bytes; the limit is 8")).summary == (
        "Payload is 9 bytes; the limit is 8."
    )
    assert refuse(FORM, typed, BadForm("headers", "Line 2 has no colon.")).errors == {"headers": "Line 2 has no colon."}
    assert refuse(FORM, typed, BadForm(None, "Reload the page.")).summary == "Reload the page."
    with pytest.raises(TypeError):
        refuse(FORM, typed, ValueError("not ours"))


def test_a_refusal_gives_back_what_was_typed_in_its_own_form_only() -> None:
    refusal = Refusal(form="settings", values={"url": "typed"}, errors={"url": "Bad."})
    assert refusal.value("settings", "url", "stored") == "typed"
    assert refusal.value("headers", "url", "stored") == "stored"
    assert refusal.value("settings", "description", None) == ""
    assert refusal.error("settings", "url") == "Bad." and refusal.error("headers", "url") is None
    assert refusal.focus("settings") == "url" and refusal.focus("headers") is None
    assert not NOTHING.about("") and NOTHING.value("settings", "url", 5) == "5"


def test_a_field_the_form_does_not_list_is_named_as_the_schema_names_it_above_the_form() -> None:
    with pytest.raises(ValidationError) as caught:
        ApplicationIn.model_validate({"name": "", "throttleRate": 0})
    refusal = refuse(FORM, {}, caught.value)
    assert refusal.errors == {"throttle_rate": "The throttle must be at least 1; leave it empty for no limit."}
    assert refusal.summary == "Name is required."
    with pytest.raises(ValidationError) as caught:
        EndpointIn.model_validate({"url": "https://ok.example", "keyType": "rsa"})
    assert refuse(FORM, {}, caught.value).summary == "The key type must be one of 'hmac' or 'ed25519'."


def test_a_nested_config_field_goes_to_the_form_field_named_for_its_path() -> None:
    # A source's config error names a path (config.hmac.header); the deepest name that starts it wins.
    source = Form(
        "source",
        {
            "secret": forms.Field("Signing secret", "The signing secret", api=("config.secret", "config.hmac.secret")),
            "header": forms.Field("Signature header", "The signature header", api=("config.hmac.header",)),
            "config": forms.Field("Config", "The config", api=("config",)),
            "destination": forms.Field("Destination URL", "The destination URL", api=("destinations.0.url",)),
        },
    )

    def field(path: list[str], message: str) -> dict[str, str]:
        return dict(refuse(source, {}, Invalid(["body", *path], message)).errors)

    assert field(["config", "hmac", "header"], "config.hmac.header must be a non-empty string") == {
        "header": "Signature header is required."
    }
    assert field(["config", "hmac", "secret"], "config.hmac.secret must be a non-empty string") == {
        "secret": "Signing secret is required."
    }
    assert field(["config", "hmac", "algorithm"], "config.hmac: no such algorithm") == {
        "config": "Config.hmac: no such algorithm."
    }
    assert field(["destinations", "0", "url"], "endpoint URLs must use https") == {
        "destination": "Endpoint URLs must use https."
    }
    assert field(["destinations", "1", "url"], "endpoint URLs must use https") == {}
    assert source.field_for(["body", "configuration"]) is None  # a name starts a path only whole
