"""Optional OpenTelemetry tracing: API requests and deliveries become spans."""

from typing import Any

from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tests.support.api import make_endpoint, publish
from tests.support.servers import Receiver, wait_until

from hookline import tracing


def test_requests_and_deliveries_are_traced(hookline_factory, receiver: Receiver) -> None:
    exporter = InMemorySpanExporter()
    providers: list[Any] = []
    try:
        with hookline_factory(prepare=lambda app: providers.append(tracing.install(app, exporter))) as hl:
            with hl.client() as c:
                make_endpoint(c, receiver.url())
                publish(c, "acme")
                receiver.wait_for(1)

            def spans() -> list[str]:
                return [s.name for s in exporter.get_finished_spans()]

            names = wait_until(lambda: "POST" in spans() and spans(), 10, "the delivery's span")
    finally:
        for provider in providers:
            provider.shutdown()
        AioHttpClientInstrumentor().uninstrument()
    assert any(n.startswith("POST /api/v1/app/{app_id}/msg") for n in names), names
    assert "POST" in names  # the outgoing delivery, as aiohttp names it
