"""Editing the event-type catalogue from the dashboard, over HTTP as the operator posts the forms
(on SQLite and PostgreSQL): create an event type with every field the form offers, edit it one
schema version at a time, archive and restore it; each change reaches the API's view of the
catalogue, and a refused form (bad JSON in the schema box among them) comes back as typed with a
sentence under the field. The portal's and an application's event-type pages stay read-only."""

import json
import re
import time
from typing import Any

import httpx
from tests.support.servers import Hookline
from tests.ui.forms import Shown, read
from tests.ui.support import open_portal, portal_link, signed_in

HOSTILE = '"><script>alert(1)</script>'
SCHEMA = {"type": "object", "properties": {"amount": {"type": "integer"}}, "required": ["amount"]}


def event_type(hookline: Hookline, name: str) -> dict[str, Any]:
    with hookline.client() as api:
        resp = api.get(f"/api/v1/event-type/{name}")
        assert resp.status_code == 200, resp.text
        return dict(resp.json())


def names(hookline: Hookline, **params: str) -> list[str]:
    with hookline.client() as api:
        return [t["name"] for t in api.get("/api/v1/event-type", params=params).json()["data"]]


def refused(resp: httpx.Response) -> Shown:
    assert resp.status_code == 400, resp.text
    assert "<script>alert(1)" not in resp.text
    return read(resp.text)


def new_type(**fields: str) -> dict[str, str]:
    """The new-event-type form as a browser posts it: the checkbox's hidden "off" first."""
    form = {"name": "", "description": "", "schema": "", "schema_validation": "off", "feature_flag": ""}
    form.update(fields)
    return {**form, "deprecated": fields.get("deprecated", "off")}


def test_a_new_event_type_gets_every_field_of_the_form(hookline: Hookline) -> None:
    with signed_in(hookline) as (client, token):
        typed = new_type(
            name=" invoice.paid ",
            description=f"Paid {HOSTILE}",
            schema=json.dumps(SCHEMA, indent=2),
            schema_validation="enforce",
            feature_flag="beta",
            deprecated="on",
        )
        resp = client.post("/ui/event-types", data={"csrf_token": token, **typed})
        assert resp.status_code == 303, resp.text
        assert resp.headers["location"] == "/ui/event-types#event-type-invoice.paid"
        plain = client.post("/ui/event-types", data={"csrf_token": token, **new_type(name="user.created")})
        assert plain.status_code == 303, plain.text
        page = client.get("/ui/event-types")
    got = event_type(hookline, "invoice.paid")
    assert got["description"] == f"Paid {HOSTILE}" and got["schemas"] == {"1": SCHEMA}
    assert (got["schemaValidation"], got["featureFlag"], got["deprecated"], got["archived"]) == (
        "enforce",
        "beta",
        True,
        False,
    )
    plain_type = event_type(hookline, "user.created")
    assert plain_type["schemas"] is None and plain_type["featureFlag"] is None and plain_type["deprecated"] is False
    assert plain_type["schemaValidation"] == "off" and plain_type["description"] == ""
    # The schema is honoured where it matters: a publish whose payload fails it is refused.
    with hookline.client() as api:
        assert api.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).status_code == 201
        sent = api.post("/api/v1/app/acme/msg", json={"eventType": "invoice.paid", "payload": {"amount": "five"}})
        assert sent.status_code == 422, sent.text
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "Paid &#34;&gt;&lt;script&gt;" in page.text
    assert 'id="event-type-invoice.paid"' in page.text and 'action="/ui/event-types/invoice.paid/edit"' in page.text
    shown = read(page.text)
    # Each event type's edit form holds what it has: the first one is invoice.paid.
    assert json.loads(shown.values["edit-1-schema"]) == SCHEMA
    assert (shown.values["edit-1-description"], shown.values["edit-1-flag"]) == (f"Paid {HOSTILE}", "beta")
    assert shown.values["edit-1-validation"] == "enforce"


def test_editing_changes_the_fields_and_one_schema_version_keeping_the_others(hookline: Hookline) -> None:
    first, second = {"type": "object"}, {"type": "object", "properties": {"id": {"type": "string"}}}
    with hookline.client() as api:
        body = {"name": "order.shipped", "description": "Shipped", "schemas": {"1": first, "2": second}}
        assert (
            api.post("/api/v1/event-type", json={**body, "featureFlag": "beta", "deprecated": True}).status_code == 201
        )
    with signed_in(hookline) as (client, token):
        shown = read(client.get("/ui/event-types").text)
        # The box holds the latest version, and says which.
        assert json.loads(shown.values["edit-1-schema"]) == second

        def edit(**fields: str) -> httpx.Response:
            form = {"csrf_token": token, "description": "Shipped", "version": "2", "schema_validation": "off"}
            form.update({"feature_flag": "beta", "deprecated": "off", "new_version": "off", **fields})
            return client.post("/ui/event-types/order.shipped/edit", data=form)

        third = {"type": "object", "required": ["id"]}
        resp = edit(
            description="Left the warehouse", schema=json.dumps(third), schema_validation="warn", feature_flag=""
        )
        assert resp.status_code == 303, resp.text
        assert resp.headers["location"] == "/ui/event-types#event-type-order.shipped"
        got = event_type(hookline, "order.shipped")
        assert got["schemas"] == {"1": first, "2": third}  # version 2 replaced, version 1 kept
        assert (got["description"], got["schemaValidation"]) == ("Left the warehouse", "warn")
        assert got["featureFlag"] is None and got["deprecated"] is False  # emptied and unticked
        assert got["archived"] is False

        # Ticked, the box becomes the version after the latest.
        assert edit(schema=json.dumps(second), new_version="on", deprecated="on").status_code == 303
        got = event_type(hookline, "order.shipped")
        assert got["schemas"] == {"1": first, "2": third, "3": second} and got["deprecated"] is True
        assert "The other versions (1, 2) are kept as they are." in client.get("/ui/event-types").text

        # Emptied, the box removes its version; with none left, the event type has no schema.
        assert edit(version="3", schema="  ").status_code == 303
        assert event_type(hookline, "order.shipped")["schemas"] == {"1": first, "2": third}
        assert edit(version="2", schema="").status_code == 303
        assert edit(version="1", schema="").status_code == 303
        assert event_type(hookline, "order.shipped")["schemas"] is None


def test_an_edit_over_a_version_someone_changed_since_is_refused_and_keeps_both(hookline: Hookline) -> None:
    with hookline.client() as api:
        body = {"name": "refund.made", "description": "Made", "schemas": {"1": {"type": "object"}}}
        assert api.post("/api/v1/event-type", json=body).status_code == 201
    with signed_in(hookline) as (client, token):
        [opened_at] = re.findall(r'name="updated_at" value="(\d+)"', client.get("/ui/event-types").text)
        # Meanwhile someone else saves a second schema version.
        time.sleep(0.01)
        with hookline.client() as api:
            changed = {"schemas": {"1": {"type": "object"}, "2": {"type": "string"}}}
            assert api.patch("/api/v1/event-type/refund.made", json=changed).status_code == 200
        form = {"csrf_token": token, "description": "Refunded", "version": "1", "schema": '{"type": "object"}'}
        form.update({"schema_validation": "off", "feature_flag": "", "deprecated": "off", "new_version": "off"})
        shown = refused(client.post("/ui/event-types/refund.made/edit", data={**form, "updated_at": opened_at}))
        assert any("Someone changed this event type after this page was opened" in a for a in shown.alerts), shown
        assert shown.values["edit-1-description"] == "Refunded"  # as typed
        got = event_type(hookline, "refund.made")
        assert (got["description"], set(got["schemas"])) == ("Made", {"1", "2"})  # nothing overwritten
        # The refused form carries the latest version's stamp: saved again, it is taken.
        page = client.post("/ui/event-types/refund.made/edit", data={**form, "updated_at": opened_at}).text
        [latest] = re.findall(r'name="updated_at" value="(\d+)"', page)
        assert latest != opened_at
        assert client.post("/ui/event-types/refund.made/edit", data={**form, "updated_at": latest}).status_code == 303
        got = event_type(hookline, "refund.made")
        assert (got["description"], set(got["schemas"])) == ("Refunded", {"1", "2"})
        # A damaged stamp is refused, not ignored.
        damaged = refused(client.post("/ui/event-types/refund.made/edit", data={**form, "updated_at": "x"}))
        assert any("reload the page" in a for a in damaged.alerts), damaged


def test_bad_json_in_the_schema_box_comes_back_as_a_sentence_under_it(hookline: Hookline) -> None:
    with signed_in(hookline) as (client, token):

        def create(schema: str) -> Shown:
            typed = new_type(name="invoice.paid", description=HOSTILE, schema=schema, feature_flag="beta")
            shown = refused(client.post("/ui/event-types", data={"csrf_token": token, **typed}))
            assert shown.values["new-type-schema"] == schema  # as typed
            assert shown.values["new-type-description"] == HOSTILE and shown.values["new-type-flag"] == "beta"
            assert shown.invalid == ["new-type-schema"] and shown.autofocus == ["new-type-schema"]
            assert shown.alerts == ["Not created. Check the field marked below: what you typed is kept."]
            return shown

        shown = create('{"type": "object",\n "properties": {,}}')
        assert shown.errors == {
            "new-type-schema": "The schema is not valid JSON: expecting property name enclosed in double quotes "
            "at line 2, column 17."
        }
        shown = create('["type", "object"]')
        assert shown.errors["new-type-schema"] == 'The schema must be a JSON object, such as {"type": "object"}.'
        shown = create('{"maximum": NaN}')
        assert shown.errors["new-type-schema"] == (
            "The schema is not valid JSON: NaN is not a JSON number; send a number or null (at /maximum)."
        )
        shown = create('{"type": "object", "type": "string"}')
        assert shown.errors["new-type-schema"] == "The schema is not valid JSON: duplicate key 'type' (at /type)."
        # JSON, but not a JSON Schema: the meta-schema's reason, placed in the box's own terms.
        shown = create('{"properties": {"amount": {"type": "integer-ish"}}}')
        assert shown.errors["new-type-schema"].startswith(
            "The schema is not a valid JSON Schema at /properties/amount/type: 'integer-ish' is not valid"
        )
    assert names(hookline, include_archived="true") == []  # nothing was made


def test_a_refused_edit_comes_back_under_its_own_event_type(hookline: Hookline) -> None:
    with hookline.client() as api:
        for name in ("a.first", "b.second"):
            assert api.post("/api/v1/event-type", json={"name": name, "description": name}).status_code == 201
    with signed_in(hookline) as (client, token):
        typed = {
            "description": HOSTILE,
            "schema": '{"type": 1',
            "version": "1",
            "schema_validation": "off",
            "feature_flag": "no flags!",
            "deprecated": "off",
        }
        shown = refused(client.post("/ui/event-types/b.second/edit", data={"csrf_token": token, **typed}))
        page = client.post("/ui/event-types/b.second/edit", data={"csrf_token": token, **typed}).text
    assert shown.errors == {
        "edit-2-schema": "The schema is not valid JSON: expecting ',' delimiter at line 1, column 11."
    }
    assert shown.values["edit-2-description"] == HOSTILE and shown.values["edit-2-schema"] == '{"type": 1'
    assert shown.values["edit-1-description"] == "a.first"  # the other form as stored
    assert shown.alerts == ["Not saved. Check the field marked below: what you typed is kept."]
    assert page.count('<details class="change" open>') == 1  # its own edit form, opened
    with signed_in(hookline) as (client, token):
        typed["schema"] = '{"type": "object"}'
        shown = refused(client.post("/ui/event-types/b.second/edit", data={"csrf_token": token, **typed}))
    assert list(shown.errors) == ["edit-2-flag"]
    assert shown.errors["edit-2-flag"].startswith("The feature flag may use letters, digits")
    assert event_type(hookline, "b.second")["description"] == "b.second"  # nothing saved


def test_names_are_checked_and_a_taken_one_says_where_it_may_be(hookline: Hookline) -> None:
    with hookline.client() as api:
        assert api.post("/api/v1/event-type", json={"name": "invoice.paid", "description": ""}).status_code == 201
        assert api.delete("/api/v1/event-type/invoice.paid").status_code == 204
    with signed_in(hookline) as (client, token):
        shown = refused(client.post("/ui/event-types", data={"csrf_token": token, **new_type(name="invoice paid")}))
        assert shown.errors["new-type-name"] == "The name may use letters, digits, '-', '_' and '.'."
        shown = refused(client.post("/ui/event-types", data={"csrf_token": token, **new_type(name="-paid")}))
        assert shown.errors["new-type-name"].endswith("(write it like invoice.paid).")
        shown = refused(client.post("/ui/event-types", data={"csrf_token": token, **new_type(name="")}))
        assert shown.errors["new-type-name"] == "Name is required."
        shown = refused(client.post("/ui/event-types", data={"csrf_token": token, **new_type(name="invoice.paid")}))
        assert shown.errors["new-type-name"] == (
            "An event type already has this name (perhaps an archived one: show archived ones to restore it)."
        )


def test_archiving_takes_an_event_type_off_the_list_and_restoring_brings_it_back(hookline: Hookline) -> None:
    with hookline.client() as api:
        for name in ("invoice.paid", "user.created"):
            assert api.post("/api/v1/event-type", json={"name": name, "description": "d"}).status_code == 201
    with signed_in(hookline) as (client, token):
        resp = client.post("/ui/event-types/invoice.paid/archive", data={"csrf_token": token})
        assert resp.status_code == 303 and resp.headers["location"] == "/ui/event-types"
        assert event_type(hookline, "invoice.paid")["archived"] is True
        assert names(hookline) == ["user.created"]
        live = client.get("/ui/event-types").text
        assert 'id="event-type-invoice.paid"' not in live and 'id="event-type-user.created"' in live
        assert 'href="/ui/event-types?archived"' in live
        # Messages of an archived type are still accepted, as the archive button says.
        with hookline.client() as api:
            assert api.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).status_code == 201
            sent = api.post("/api/v1/app/acme/msg", json={"eventType": "invoice.paid", "payload": {}})
            assert sent.status_code == 202, sent.text

        every = client.get("/ui/event-types?archived").text
        assert 'id="event-type-invoice.paid"' in every and 'data-testid="archived">archived</span>' in every
        assert 'action="/ui/event-types/invoice.paid/restore"' in every
        assert 'action="/ui/event-types/invoice.paid/edit"' not in every  # restored first, then edited
        assert 'href="/ui/event-types" data-testid="archived-toggle">Hide archived</a>' in every
        resp = client.post("/ui/event-types/invoice.paid/restore", data={"csrf_token": token})
        assert (
            resp.status_code == 303 and resp.headers["location"] == "/ui/event-types?archived#event-type-invoice.paid"
        )
        assert event_type(hookline, "invoice.paid")["archived"] is False
        assert names(hookline) == ["invoice.paid", "user.created"]
        # From the list with archived ones shown, an archive goes back there.
        resp = client.post("/ui/event-types/user.created/archive", data={"csrf_token": token, "archived_shown": "on"})
        assert resp.headers["location"] == "/ui/event-types?archived#event-type-user.created"
        missing = client.post("/ui/event-types/no.such/archive", data={"csrf_token": token})
        assert missing.status_code == 404 and "There is no such event type." in missing.text
        missing = client.post("/ui/event-types/no.such/edit", data={"csrf_token": token, "description": "x"})
        assert missing.status_code == 404


def test_every_change_needs_a_session_and_the_pages_token(hookline: Hookline) -> None:
    with hookline.client() as api:
        assert api.post("/api/v1/event-type", json={"name": "invoice.paid", "description": "d"}).status_code == 201
    posts = {
        "/ui/event-types": new_type(name="user.created"),
        "/ui/event-types/invoice.paid/edit": {"description": "changed", "version": "1"},
        "/ui/event-types/invoice.paid/archive": {},
        "/ui/event-types/invoice.paid/restore": {},
    }
    with signed_in(hookline) as (client, _):
        for url, form in posts.items():
            assert client.post(url, data={"csrf_token": "forged", **form}).status_code == 403
            assert client.post(url, data=form).status_code == 403
    with httpx.Client(base_url=hookline.url, timeout=30) as stranger:
        for url, form in posts.items():
            resp = stranger.post(url, data=form)
            assert resp.status_code == 303 and resp.headers["location"] == "/ui/login"
    assert names(hookline, include_archived="true") == ["invoice.paid"]
    assert event_type(hookline, "invoice.paid")["description"] == "d"


def test_the_portal_and_an_applications_pages_show_the_catalogue_without_its_forms(hookline: Hookline) -> None:
    with hookline.client() as api:
        assert api.post("/api/v1/event-type", json={"name": "invoice.paid", "description": "d"}).status_code == 201
        assert api.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).status_code == 201
        link = portal_link(api, "acme")
    with signed_in(hookline) as (client, _):
        app_page = client.get("/ui/apps/acme/event-types")
        assert app_page.status_code == 200
        assert 'action="/ui/event-types' not in app_page.text and "Add an event type" not in app_page.text
        assert '<a href="/ui/event-types">Event types</a> page' in app_page.text
    with httpx.Client(base_url=hookline.url, timeout=30) as tenant:
        assert open_portal(tenant, link).status_code in (200, 303)
        portal = tenant.get("/portal/event-types")
    assert portal.status_code == 200 and "invoice.paid" in portal.text
    assert "/ui/event-types" not in portal.text and "Archive" not in portal.text and "Edit" not in portal.text
