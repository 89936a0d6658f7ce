"""Optional OpenTelemetry tracing (``pip install 'hookline[otel]'``, ``HOOKLINE_OTEL_ENABLED=true``).

Spans for every API request (FastAPI instrumentation) and every outgoing delivery
(aiohttp client instrumentation). Where they go is the standard ``OTEL_*``
configuration: by default OTLP over HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT``.
Nothing here is imported unless tracing is enabled.
"""

from typing import Any


class TracingUnavailableError(RuntimeError):
    """HOOKLINE_OTEL_ENABLED is set but the otel extra is not installed."""


def install(app: Any, exporter: Any = None) -> Any:
    """Instrument ``app`` and aiohttp; returns the tracer provider (tests pass an exporter)."""
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as exc:
        raise TracingUnavailableError("tracing needs the otel extra: pip install 'hookline[otel]'") from exc
    provider = TracerProvider(resource=Resource.create({"service.name": "hookline"}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    AioHttpClientInstrumentor().instrument(tracer_provider=provider)
    return provider
