"""``hookline.AsyncClient``: the same surface as the sync client, awaited."""

import pytest
from tests.support.servers import ADMIN_TOKEN, Receiver

from hookline import AsyncClient, HooklineError
from hookline.client import Application, Attempt


async def wait_for_attempts(client: AsyncClient, app: str, endpoint: str) -> list[Attempt]:
    import asyncio

    for _ in range(500):
        found = (await client.attempts.list_by_endpoint(app, endpoint)).data
        if found:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError("no attempt recorded")


async def test_async_client_full_flow(hookline, receiver: Receiver) -> None:
    async with AsyncClient(hookline.url, ADMIN_TOKEN, timeout=10) as client:
        app = await client.applications.create("Acme", uid="acme")
        assert isinstance(app, Application) and (await client.applications.get("acme")).id == app.id
        await client.event_types.create("invoice.paid")
        endpoint = await client.endpoints.create("acme", receiver.url())
        assert (await client.endpoints.get_secret("acme", endpoint.id)).key.startswith("whsec_")
        message = await client.messages.create("acme", "invoice.paid", {"n": 1})
        assert receiver.wait_for(1)[0].headers["webhook-id"] == message.id
        [attempt] = await wait_for_attempts(client, "acme", endpoint.id)
        assert attempt.response_status_code == 200
        [destination] = (await client.messages.destinations("acme", message.id)).data
        assert destination.status_text == "success"
        await client.attempts.resend("acme", message.id, endpoint.id)
        assert len(receiver.wait_for(2)) == 2


async def test_async_iterate_follows_pages(hookline) -> None:
    async with AsyncClient(hookline.url, ADMIN_TOKEN) as client:
        created = [(await client.applications.create(f"app {i}")).id for i in range(5)]
        seen = [a.id async for a in client.iterate(client.applications.list, limit=2)]
        assert seen == created


async def test_async_errors(hookline) -> None:
    async with AsyncClient(hookline.url, ADMIN_TOKEN) as client:
        with pytest.raises(HooklineError) as caught:
            await client.messages.list("missing")
        assert (caught.value.status, caught.value.code) == (404, "not_found")
        assert str(caught.value) == "404 not_found: application not found"


async def test_async_patch_clears_and_rotate_takes_a_key_type(hookline) -> None:
    async with AsyncClient(hookline.url, ADMIN_TOKEN) as client:
        app = await client.applications.create("Acme", uid="acme", throttle_rate=5)
        assert (await client.applications.patch(app.id, throttle_rate=None)).throttle_rate is None
        endpoint = await client.endpoints.create("acme", "https://example.com/hook", event_types=["a.b"])
        cleared = await client.endpoints.patch("acme", endpoint.id, event_types=None, description=None)
        assert (cleared.event_types, cleared.description) == (None, "")
        rotated = await client.endpoints.rotate_secret("acme", endpoint.id, key_type="ed25519")
        assert rotated.key.startswith("whsk_") and (await client.endpoints.get_secret("acme", endpoint.id)) == rotated
