"""``hookline.AsyncClient``: the same surface as :class:`Client`, over ``httpx.AsyncClient``."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar, Unpack

import httpx

from hookline.client import _ingest as ingest
from hookline.client import _operations as ops
from hookline.client._calls import (
    DEFAULT_TIMEOUT,
    Call,
    HooklineError,
    check_limits,
    default_headers,
    finish,
    retry_delay,
    settings,
    unreachable,
)
from hookline.client._ingest_models import (
    IngestDestination,
    IngestReplay,
    IngestRequest,
    IngestRequestDetail,
    IngestSource,
)
from hookline.client._models import (
    Application,
    Attempt,
    BackgroundTask,
    Endpoint,
    EndpointMessage,
    EndpointSecret,
    EventType,
    Message,
    MessageEndpoint,
    Page,
    next_iterator,
)

T = TypeVar("T")


class AsyncClient:
    """A typed asyncio client for hookline's management API.

    ``url`` and ``token`` default to ``HOOKLINE_URL`` and ``HOOKLINE_TOKEN``.
    Failed reads, and POSTs (which carry an idempotency key), are retried
    ``retries`` times on connection errors and 429/502/503/504 answers.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        check_limits(timeout, retries)
        self.url, token = settings(url, token)
        self.retries = retries
        self._http = httpx.AsyncClient(
            base_url=self.url, headers=default_headers(token), timeout=timeout, transport=transport
        )
        self.applications = Applications(self)
        self.endpoints = Endpoints(self)
        self.event_types = EventTypes(self)
        self.messages = Messages(self)
        self.attempts = Attempts(self)
        self.tasks = Tasks(self)
        self.ingest = Ingest(self)

    async def request(self, call: Call[T]) -> T:
        """Send one call (retrying when that is safe) and return its parsed answer."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(
                    call.method, call.path, params=call.params, json=call.body, headers=call.headers
                )
            except httpx.HTTPError as exc:
                delay = retry_delay(call, attempt, self.retries, None)
                if delay is None:
                    raise unreachable(self.url, exc) from None
            else:
                delay = retry_delay(call, attempt, self.retries, response)
                if delay is None:
                    return finish(call, response)
            await asyncio.sleep(delay)

    async def iterate(
        self, list_method: Callable[..., Awaitable[Page[T]]], /, *args: Any, **kwargs: Any
    ) -> AsyncIterator[T]:
        """Every item of a list, following its pages: ``async for app in client.iterate(client.applications.list)``."""
        while True:
            page = await list_method(*args, **kwargs)
            for item in page.data:
                yield item
            kwargs["iterator"] = next_iterator(page, kwargs.get("iterator"))
            if kwargs["iterator"] is None:
                return

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class _Resource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client


class Applications(_Resource):
    async def list(self, **options: Unpack[ops.OrderedPaging]) -> Page[Application]:
        return await self._client.request(ops.list_applications(**options))

    async def create(self, name: str, **options: Unpack[ops.ApplicationOptions]) -> Application:
        return await self._client.request(ops.create_application(name, **options))

    async def get(self, app_id: str) -> Application:
        return await self._client.request(ops.get_application(app_id))

    async def patch(self, app_id: str, **changes: Unpack[ops.ApplicationChanges]) -> Application:
        """Change only the given fields; None clears one (``throttle_rate=None``: no limit)."""
        return await self._client.request(ops.patch_application(app_id, **changes))

    async def delete(self, app_id: str) -> None:
        await self._client.request(ops.delete_application(app_id))

    async def bulk_replay(
        self, app_id: str, since: datetime, **options: Unpack[ops.BulkReplayOptions]
    ) -> BackgroundTask:
        """Send every endpoint again the messages of the window that match: returns the background task."""
        return await self._client.request(ops.bulk_replay_application(app_id, since, **options))


class Endpoints(_Resource):
    async def list(self, app_id: str, **options: Unpack[ops.OrderedPaging]) -> Page[Endpoint]:
        return await self._client.request(ops.list_endpoints(app_id, **options))

    async def create(self, app_id: str, url: str, **options: Unpack[ops.EndpointOptions]) -> Endpoint:
        return await self._client.request(ops.create_endpoint(app_id, url, **options))

    async def get(self, app_id: str, endpoint_id: str) -> Endpoint:
        return await self._client.request(ops.get_endpoint(app_id, endpoint_id))

    async def patch(self, app_id: str, endpoint_id: str, **changes: Unpack[ops.EndpointChanges]) -> Endpoint:
        """Change only the given fields; None clears one (``throttle_rate=None``: no limit,
        ``event_types=None``: every event type). ``disabled=True`` stops deliveries, ``False``
        resumes them."""
        return await self._client.request(ops.patch_endpoint(app_id, endpoint_id, **changes))

    async def delete(self, app_id: str, endpoint_id: str) -> None:
        await self._client.request(ops.delete_endpoint(app_id, endpoint_id))

    async def bulk_replay(
        self, app_id: str, endpoint_id: str, since: datetime, **options: Unpack[ops.BulkReplayOptions]
    ) -> BackgroundTask:
        """Send the endpoint again the messages of the window that match: returns the background task."""
        return await self._client.request(ops.bulk_replay_endpoint(app_id, endpoint_id, since, **options))

    async def get_secret(self, app_id: str, endpoint_id: str) -> EndpointSecret:
        return await self._client.request(ops.get_endpoint_secret(app_id, endpoint_id))

    async def rotate_secret(
        self,
        app_id: str,
        endpoint_id: str,
        *,
        key: str | None = None,
        grace_period_seconds: int | None = None,
        key_type: ops.KeyType | None = None,
    ) -> EndpointSecret:
        """A new current secret: ``key``, or one generated of ``key_type`` (``hmac``, the
        default, or ``ed25519``); the old one keeps signing for ``grace_period_seconds``."""
        call = ops.rotate_endpoint_secret(app_id, endpoint_id, key, grace_period_seconds, key_type=key_type)
        return await self._client.request(call)

    async def recover(
        self, app_id: str, endpoint_id: str, since: datetime, until: datetime | None = None
    ) -> BackgroundTask:
        """Resend every failed message since ``since``: returns the background task doing it."""
        return await self._client.request(ops.recover_endpoint(app_id, endpoint_id, since, until))

    async def replay_missing(
        self, app_id: str, endpoint_id: str, since: datetime, until: datetime | None = None
    ) -> BackgroundTask:
        """Send the messages this endpoint never got since ``since``: returns the background task."""
        return await self._client.request(ops.replay_missing(app_id, endpoint_id, since, until))


class EventTypes(_Resource):
    async def list(self, **options: Unpack[ops.EventTypeListOptions]) -> Page[EventType]:
        return await self._client.request(ops.list_event_types(**options))

    async def create(self, name: str, description: str = "", **options: Unpack[ops.EventTypeOptions]) -> EventType:
        return await self._client.request(ops.create_event_type(name, description, **options))

    async def get(self, name: str) -> EventType:
        return await self._client.request(ops.get_event_type(name))

    async def import_openapi(
        self, spec_raw: str, *, dry_run: bool = False, replace_all: bool = False
    ) -> tuple[str, ...]:
        """Create or update event types from an OpenAPI 3.1 document's ``webhooks``."""
        return await self._client.request(ops.import_openapi(spec_raw, dry_run=dry_run, replace_all=replace_all))


class Messages(_Resource):
    async def list(self, app_id: str, **options: Unpack[ops.MessageListOptions]) -> Page[Message]:
        """Newest first."""
        return await self._client.request(ops.list_messages(app_id, **options))

    async def create(
        self, app_id: str, event_type: str, payload: dict[str, Any], **options: Unpack[ops.MessageOptions]
    ) -> Message:
        return await self._client.request(ops.create_message(app_id, event_type, payload, **options))

    async def get(self, app_id: str, msg_id: str) -> Message:
        return await self._client.request(ops.get_message(app_id, msg_id))

    async def list_by_endpoint(
        self, app_id: str, endpoint_id: str, **options: Unpack[ops.EndpointMessageListOptions]
    ) -> Page[EndpointMessage]:
        """The messages sent to one endpoint, each with its delivery status there."""
        return await self._client.request(ops.list_endpoint_messages(app_id, endpoint_id, **options))

    async def destinations(self, app_id: str, msg_id: str, **options: Unpack[ops.Paging]) -> Page[MessageEndpoint]:
        """The endpoints a message goes to, each with its delivery status."""
        return await self._client.request(ops.list_message_endpoints(app_id, msg_id, **options))


class Attempts(_Resource):
    async def list_by_endpoint(
        self, app_id: str, endpoint_id: str, **options: Unpack[ops.AttemptListOptions]
    ) -> Page[Attempt]:
        """Newest first."""
        return await self._client.request(ops.list_attempts_by_endpoint(app_id, endpoint_id, **options))

    async def list_by_msg(
        self, app_id: str, msg_id: str, **options: Unpack[ops.MsgAttemptListOptions]
    ) -> Page[Attempt]:
        """Newest first."""
        return await self._client.request(ops.list_attempts_by_msg(app_id, msg_id, **options))

    async def resend(self, app_id: str, msg_id: str, endpoint_id: str) -> None:
        """Queue one more attempt of a message to an endpoint, now."""
        await self._client.request(ops.resend(app_id, msg_id, endpoint_id))


class Tasks(_Resource):
    async def get(self, task_id: str) -> BackgroundTask:
        return await self._client.request(ops.get_task(task_id))

    async def wait(
        self,
        task: BackgroundTask | str,
        *,
        interval: float = 0.5,
        timeout: float | None = None,
        on_progress: Callable[[BackgroundTask], None] | None = None,
    ) -> BackgroundTask:
        """Poll a task until it is no longer running; ``on_progress`` sees each state."""
        task_id = task if isinstance(task, str) else task.id
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            current = await self.get(task_id)
            if on_progress is not None:
                on_progress(current)
            if current.finished:
                return current
            if deadline is not None and time.monotonic() > deadline:
                raise HooklineError(0, "timeout", f"task {task_id} still running after {timeout:g}s")
            await asyncio.sleep(interval)


class Ingest:
    """The receiving side: ``sources`` (ingest URLs), their ``destinations``, and the
    ``requests`` each source received."""

    def __init__(self, client: AsyncClient) -> None:
        self.sources = Sources(client)
        self.destinations = Destinations(client)
        self.requests = IngestRequests(client)


class Sources(_Resource):
    async def list(self, **options: Unpack[ops.OrderedPaging]) -> Page[IngestSource]:
        return await self._client.request(ingest.list_sources(**options))

    async def create(self, name: str, type: str, **options: Unpack[ingest.SourceOptions]) -> IngestSource:
        """``type`` is ``generic-webhook`` or a provider (``github``, ``stripe``...), ``config`` its
        settings with the secret (``{"secret": ...}`` for a provider)."""
        return await self._client.request(ingest.create_source(name, type, **options))

    async def get(self, source_id: str) -> IngestSource:
        return await self._client.request(ingest.get_source(source_id))

    async def update(
        self, source_id: str, name: str, type: str, **options: Unpack[ingest.SourceUpdateOptions]
    ) -> IngestSource:
        """Replace the source (``PUT``), or create it with ``source_id`` as its uid. The uid, and
        ``allowed_ips`` and ``rate_limit`` unless given (None removes them), stay as they are."""
        return await self._client.request(ingest.update_source(source_id, name, type, **options))

    async def patch(self, source_id: str, **changes: Unpack[ingest.SourceChanges]) -> IngestSource:
        """Change only the given fields; None removes one (``rate_limit=None``: no limit,
        ``response=None``: the default answer). The secrets stay unless ``config`` is given."""
        return await self._client.request(ingest.patch_source(source_id, **changes))

    async def delete(self, source_id: str) -> None:
        await self._client.request(ingest.delete_source(source_id))

    async def rotate_token(self, source_id: str) -> str:
        """A new ingest URL (returned); the previous one keeps working for 24 hours."""
        return await self._client.request(ingest.rotate_source_token(source_id))


class Destinations(_Resource):
    async def list(self, source_id: str, **options: Unpack[ops.OrderedPaging]) -> Page[IngestDestination]:
        return await self._client.request(ingest.list_destinations(source_id, **options))

    async def create(self, source_id: str, url: str, **options: Unpack[ingest.DestinationOptions]) -> IngestDestination:
        return await self._client.request(ingest.create_destination(source_id, url, **options))

    async def get(self, source_id: str, endpoint_id: str) -> IngestDestination:
        return await self._client.request(ingest.get_destination(source_id, endpoint_id))

    async def update(
        self, source_id: str, endpoint_id: str, url: str, **options: Unpack[ingest.DestinationFields]
    ) -> IngestDestination:
        """Replace the destination (``PUT``), or create it with ``endpoint_id`` as its uid; ``uid``
        and ``path_forwarding_disabled`` stay unless given."""
        return await self._client.request(ingest.update_destination(source_id, endpoint_id, url, **options))

    async def patch(
        self, source_id: str, endpoint_id: str, **changes: Unpack[ingest.DestinationChanges]
    ) -> IngestDestination:
        """Change only the given fields, as ``endpoints.patch`` does; None clears one."""
        return await self._client.request(ingest.patch_destination(source_id, endpoint_id, **changes))

    async def delete(self, source_id: str, endpoint_id: str) -> None:
        await self._client.request(ingest.delete_destination(source_id, endpoint_id))

    async def get_secret(self, source_id: str, endpoint_id: str) -> EndpointSecret:
        return await self._client.request(ingest.get_destination_secret(source_id, endpoint_id))

    async def rotate_secret(
        self,
        source_id: str,
        endpoint_id: str,
        *,
        key: str | None = None,
        grace_period_seconds: int | None = None,
        key_type: ops.KeyType | None = None,
    ) -> None:
        """A new signing secret (``get_secret`` shows it): ``key``, or one generated of ``key_type``;
        the old one keeps signing for ``grace_period_seconds``."""
        call = ingest.rotate_destination_secret(source_id, endpoint_id, key, grace_period_seconds, key_type=key_type)
        await self._client.request(call)


class IngestRequests(_Resource):
    async def list(self, source_id: str, **options: Unpack[ingest.IngestRequestListOptions]) -> Page[IngestRequest]:
        """Newest first."""
        return await self._client.request(ingest.list_ingest_requests(source_id, **options))

    async def get(self, source_id: str, request_id: str) -> IngestRequestDetail:
        """The request with its headers and body."""
        return await self._client.request(ingest.get_ingest_request(source_id, request_id))

    async def replay(self, source_id: str, request_id: str) -> None:
        """Forward it again to the destinations that take it now; a rejected one once it verifies
        with the source's current config (409 while it does not)."""
        await self._client.request(ingest.replay_ingest_request(source_id, request_id))

    async def replay_range(self, source_id: str, since: datetime, until: datetime) -> IngestReplay:
        """Forward again every request received in [since, until) (duplicates excepted; at most 1000)."""
        return await self._client.request(ingest.replay_ingest_range(source_id, since, until))
