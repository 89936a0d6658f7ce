"""A typed client for hookline's management API, sync (:class:`Client`) and async (:class:`AsyncClient`).

Needs only the core dependencies (httpx)::

    from hookline import Client

    with Client("http://127.0.0.1:8071", token) as client:
        app = client.applications.create("Acme", uid="acme")
        client.messages.create("acme", "invoice.paid", {"amount": 42})
        for attempt in client.iterate(client.attempts.list_by_msg, "acme", msg_id):
            print(attempt.status_text, attempt.response_status_code)
        source = client.ingest.sources.create("GitHub", "github", config={"secret": secret})
        client.ingest.destinations.create(source.id, "https://ci.example.com/hooks")
"""

from hookline.client._async import AsyncClient
from hookline.client._calls import Call, HooklineError
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
)
from hookline.client._sync import Client

__all__ = [
    "Application",
    "AsyncClient",
    "Attempt",
    "BackgroundTask",
    "Call",
    "Client",
    "Endpoint",
    "EndpointMessage",
    "EndpointSecret",
    "EventType",
    "HooklineError",
    "IngestDestination",
    "IngestReplay",
    "IngestRequest",
    "IngestRequestDetail",
    "IngestSource",
    "Message",
    "MessageEndpoint",
    "Page",
]
