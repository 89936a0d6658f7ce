"""svix ``integration.*`` against a real server: per-application keys that are app tokens."""

import asyncio

import httpx
import pytest
from sqlalchemy import select
from svix import Svix, SvixOptions
from svix.api import ApplicationIn, IntegrationIn, IntegrationListOptions, IntegrationUpdate
from svix.exceptions import HttpError, HTTPValidationError
from tests.support.servers import ADMIN_TOKEN

from hookline.store import tables
from hookline.store.database import Database


def test_integration_lifecycle_with_the_sdk(hookline) -> None:
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    app = svix.application.create(ApplicationIn(name="Acme", uid="acme"))
    other = svix.application.create(ApplicationIn(name="Other"))

    created = svix.integration.create("acme", IntegrationIn(name="Zapier"))
    assert created.id.startswith("integ_")
    assert created.name == "Zapier"
    assert created.feature_flags == []
    second = svix.integration.create(app.id, IntegrationIn(name="Make"))

    listed = svix.integration.list(app.id, IntegrationListOptions(limit=1))
    assert [i.id for i in listed.data] == [created.id]
    assert not listed.done
    rest = svix.integration.list(app.id, IntegrationListOptions(iterator=listed.iterator))
    assert [i.id for i in rest.data] == [second.id]
    assert svix.integration.list(other.id).data == []

    renamed = svix.integration.update(app.id, created.id, IntegrationUpdate(name="Zapier EU"))
    assert renamed.name == "Zapier EU"
    assert svix.integration.get(app.id, created.id).name == "Zapier EU"

    # The key is an API token scoped to the application: it reads its app, not another.
    key = hookline.client().get(f"/api/v1/app/{app.id}/integration/{created.id}/key").json()["key"]
    scoped = Svix(key, SvixOptions(server_url=hookline.url))
    assert scoped.application.get(app.id).id == app.id
    with pytest.raises(HttpError) as err:
        scoped.application.get(other.id)
    assert err.value.status_code == 404
    with pytest.raises(HttpError) as err:
        scoped.integration.list(other.id)
    assert err.value.status_code == 404
    assert [i.id for i in scoped.integration.list(app.id).data] == [created.id, second.id]

    # Rotating revokes the old key at once.
    new_key = svix.integration.rotate_key(app.id, created.id).key
    assert new_key != key
    with pytest.raises(HttpError) as err:
        scoped.application.get(app.id)
    assert err.value.status_code == 401
    assert Svix(new_key, SvixOptions(server_url=hookline.url)).application.get(app.id).id == app.id

    svix.integration.delete(app.id, created.id)
    with pytest.raises(HttpError) as err:
        svix.integration.get(app.id, created.id)
    assert err.value.status_code == 404
    with pytest.raises(HttpError) as err:
        Svix(new_key, SvixOptions(server_url=hookline.url)).application.get(app.id)
    assert err.value.status_code == 401


def test_integration_key_is_sealed_at_rest(hookline_factory) -> None:
    with hookline_factory(main_secret="main-secret-for-tests") as hl:
        client: httpx.Client = hl.client()
        app = client.post("/api/v1/app", json={"name": "Acme"}).json()
        integ = client.post(f"/api/v1/app/{app['id']}/integration", json={"name": "Zapier"}).json()
        key = client.get(f"/api/v1/app/{app['id']}/integration/{integ['id']}/key").json()["key"]
        assert key.startswith("hl_")

        async def stored() -> str:
            db = Database(hl.settings.database_url)
            try:
                async with db.read() as conn:
                    query = select(tables.integration.c.key).where(tables.integration.c.id == integ["id"])
                    return str((await conn.execute(query)).scalar_one())
            finally:
                await db.close()

        sealed = asyncio.run(stored())
    assert sealed.startswith("enc:v1:")
    assert key not in sealed


def test_integration_refuses_feature_flags_and_unknown_fields(hookline) -> None:
    svix = Svix(ADMIN_TOKEN, SvixOptions(server_url=hookline.url))
    app = svix.application.create(ApplicationIn(name="Acme"))
    with pytest.raises(HTTPValidationError) as invalid:
        svix.integration.create(app.id, IntegrationIn(name="Zapier", feature_flags=["beta"]))
    assert invalid.value.detail[0].loc == ["body", "featureFlags"]
    with hookline.client() as c:
        r = c.post(f"/api/v1/app/{app.id}/integration", json={"name": "x", "colour": "red"})
    assert r.status_code == 422
    assert "colour" in r.text
