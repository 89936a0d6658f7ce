"""/api/v1/event-type: the catalogue; DELETE archives, expunge deletes."""

from svix.models import EventTypeOut, ListResponseEventTypeOut

SCHEMA = {"1": {"type": "object", "properties": {"id": {"type": "string"}}, "examples": [{"id": "inv_1"}]}}


def _names(c, **params) -> list[str]:
    page = ListResponseEventTypeOut.model_validate(c.get("/api/v1/event-type", params=params).json())
    return [e.name for e in page.data]


def test_create_update_patch(hookline) -> None:
    with hookline.client() as c:
        created = c.post("/api/v1/event-type", json={"name": "invoice.paid", "description": "Paid", "schemas": SCHEMA})
        assert created.status_code == 201, created.text
        event_type = EventTypeOut.model_validate(created.json())
        assert (event_type.name, event_type.description, event_type.archived, event_type.deprecated) == (
            "invoice.paid",
            "Paid",
            False,
            False,
        )
        assert created.json()["schemas"] == SCHEMA
        assert c.get("/api/v1/event-type/invoice.paid").json() == created.json()

        duplicate = c.post("/api/v1/event-type", json={"name": "invoice.paid", "description": "again"})
        assert duplicate.status_code == 409, duplicate.text
        assert duplicate.json()["code"] == "conflict"

        upserted = c.put("/api/v1/event-type/user.created", json={"description": "A user"})
        assert upserted.status_code == 201, upserted.text
        assert upserted.json()["name"] == "user.created"
        replaced = c.put("/api/v1/event-type/user.created", json={"description": "A new user", "deprecated": True})
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["description"] == "A new user" and replaced.json()["deprecated"] is True
        assert replaced.json()["createdAt"] == upserted.json()["createdAt"]

        patched = c.patch("/api/v1/event-type/invoice.paid", json={"deprecated": True, "featureFlag": "beta"})
        assert patched.status_code == 200, patched.text
        assert patched.json()["description"] == "Paid" and patched.json()["schemas"] == SCHEMA
        assert patched.json()["deprecated"] is True and patched.json()["featureFlag"] == "beta"
        assert c.patch("/api/v1/event-type/invoice.paid", json={"description": None}).json()["description"] == "Paid"
        assert c.patch("/api/v1/event-type/nope", json={"description": "x"}).status_code == 404

        assert _names(c) == ["invoice.paid", "user.created"]
        # Schemas are listed only on request.
        listed = c.get("/api/v1/event-type").json()["data"][0]
        assert listed["schemas"] is None
        with_content = c.get("/api/v1/event-type", params={"with_content": "true"}).json()["data"][0]
        assert with_content["schemas"] == SCHEMA


def test_delete_archives_and_expunge_deletes(hookline) -> None:
    with hookline.client() as c:
        for name in ("a.one", "b.two"):
            assert c.post("/api/v1/event-type", json={"name": name, "description": name}).status_code == 201
        deleted = c.delete("/api/v1/event-type/a.one")
        assert deleted.status_code == 204 and deleted.content == b""
        assert _names(c) == ["b.two"]
        assert _names(c, include_archived="true") == ["a.one", "b.two"]
        archived = c.get("/api/v1/event-type/a.one")
        assert archived.status_code == 200 and archived.json()["archived"] is True
        # Unarchive by PATCH.
        assert c.patch("/api/v1/event-type/a.one", json={"archived": False}).json()["archived"] is False
        assert _names(c) == ["a.one", "b.two"]

        assert c.delete("/api/v1/event-type/a.one", params={"expunge": "true"}).status_code == 204
        assert c.get("/api/v1/event-type/a.one").status_code == 404
        assert _names(c, include_archived="true") == ["b.two"]
        assert c.delete("/api/v1/event-type/a.one").status_code == 404
        # Expunged, the name can be used again.
        assert c.post("/api/v1/event-type", json={"name": "a.one", "description": "new"}).status_code == 201
