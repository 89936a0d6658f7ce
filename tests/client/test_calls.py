"""The pure decisions every call shares: errors, retries, query strings, pagination, progress."""

import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from tests.support.servers import free_port

from hookline import AsyncClient, Client, HooklineError
from hookline.client import BackgroundTask, Call, Page
from hookline.client._calls import creating, describe, error_of, finish, query, retry_delay, segment, settings
from hookline.client._models import next_iterator
from hookline.client._operations import patch_application, patch_endpoint

GET = Call("GET", "/api/v1/app", dict)
POST_WITH_KEY = Call("POST", "/api/v1/app", dict, headers={"idempotency-key": "k"})
POST_WITHOUT_KEY = Call("POST", "/api/v1/app/a/msg/m/endpoint/e/resend-like", dict)


def response(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    request = httpx.Request("GET", "http://hookline.test/api/v1/app/x")
    return httpx.Response(status, content=content, headers=headers, request=request)


def test_error_detail_becomes_one_line() -> None:
    detail = [
        {"loc": ["body", "url"], "msg": "must be an absolute\nhttp URL", "type": "value_error"},
        {"loc": ["query", "limit"], "msg": "too big", "type": "value_error"},
    ]
    assert describe(detail) == "url: must be an absolute http URL; query.limit: too big"
    error = error_of(response(422, {"code": "validation", "detail": detail}))
    assert (error.status, error.code, error.detail) == (422, "validation", detail)
    assert str(error) == "422 validation: url: must be an absolute http URL; query.limit: too big"


def test_non_json_errors_and_unknown_routes() -> None:
    assert str(error_of(response(502))) == "502 http_error: Bad Gateway"
    missing = error_of(response(404, {"code": "not_found", "detail": "Not Found"}))
    assert "GET /api/v1/app/x: no such route" in str(missing)


def test_finish_parses_success_and_rejects_surprises() -> None:
    assert finish(GET, response(200, {"a": 1})) == {"a": 1}
    with pytest.raises(HooklineError, match="409 conflict: uid taken"):
        finish(GET, response(409, {"code": "conflict", "detail": "uid taken"}))
    strict = Call("GET", "/x", lambda data: data["missing"])
    with pytest.raises(HooklineError, match="invalid_response"):
        finish(strict, response(200, {}))


def test_retry_policy() -> None:
    assert retry_delay(GET, 1, 2, None) == pytest.approx(0.2)
    assert retry_delay(GET, 2, 2, response(503)) == pytest.approx(0.4)
    assert retry_delay(GET, 3, 2, response(503)) is None  # out of retries
    assert retry_delay(GET, 1, 2, response(429, headers={"retry-after": "3"})) == 3.0
    assert retry_delay(GET, 1, 2, response(429, headers={"retry-after": "999"})) == 30.0
    assert retry_delay(GET, 1, 2, response(500)) is None
    assert retry_delay(GET, 1, 2, response(200)) is None
    assert retry_delay(POST_WITH_KEY, 1, 2, None) is not None
    assert retry_delay(POST_WITHOUT_KEY, 1, 2, None) is None


def test_query_and_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    when = datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert query(limit=5, iterator=None, event_types=["a", "b"], with_content=False, after=when, channels=[]) == {
        "limit": "5",
        "event_types": "a,b",
        "with_content": "false",
        "after": "2024-05-01T12:00:00+00:00",
    }
    monkeypatch.delenv("HOOKLINE_URL", raising=False)
    monkeypatch.delenv("HOOKLINE_TOKEN", raising=False)
    with pytest.raises(HooklineError, match="no API token"):
        settings(None, None)
    assert settings(None, "t") == ("http://127.0.0.1:8071", "t")
    monkeypatch.setenv("HOOKLINE_URL", "https://hooks.example.com/")
    assert settings(None, "t") == ("https://hooks.example.com", "t")


def test_an_id_becomes_exactly_one_path_segment() -> None:
    assert segment("app_1") == "app_1" and segment("a.b..c") == "a.b..c"
    assert segment("..") == "%2E%2E" and segment(".") == "%2E" and segment("...") == "%2E%2E%2E"
    assert segment("../x") == "..%2Fx" and segment("a?b#c d") == "a%3Fb%23c%20d"
    with pytest.raises(HooklineError, match="cannot be empty"):
        segment("")


@pytest.mark.parametrize("key", ["", "ключ", "a\nb", "tab\there"])
def test_an_idempotency_key_a_header_cannot_carry_is_refused(key: str) -> None:
    with pytest.raises(HooklineError, match="idempotency key"):
        creating(key)


def test_a_patch_sends_what_is_given_and_none_as_what_clears() -> None:
    assert patch_endpoint("a", "e").body == {}
    cleared = patch_endpoint("a", "e", throttle_rate=None, event_types=None, description=None, metadata=None)
    assert cleared.body == {"throttleRate": None, "eventTypes": None, "description": "", "metadata": {}}
    assert patch_endpoint("a", "e", disabled=False, fifo_on_exhausted="skip").body == {
        "disabled": False,
        "fifoOnExhausted": "skip",
    }
    assert patch_application("a", uid=None, name="x").body == {"uid": None, "name": "x"}
    with pytest.raises(HooklineError, match=r"^invalid_argument: fifo cannot be cleared"):
        patch_endpoint("a", "e", fifo=None)  # type: ignore[typeddict-item]


def test_idempotency_keys_given_or_generated() -> None:
    assert creating("order-42") == {"idempotency-key": "order-42"}
    assert creating(None)["idempotency-key"].startswith("hookline-")


@pytest.mark.parametrize(
    ("url", "token", "code"),
    [
        ("http://[::1", "t", "invalid_url"),
        ("ftp://x", "t", "invalid_url"),
        ("x:1", "t", "invalid_url"),
        ("http://x", "tök", "invalid_token"),
        ("http://x", "a b", "invalid_token"),
    ],
)
def test_settings_refuse_what_no_request_could_use(url: str, token: str, code: str) -> None:
    with pytest.raises(HooklineError) as caught:
        settings(url, token)
    assert caught.value.code == code


@pytest.mark.parametrize("options", [{"timeout": float("nan")}, {"timeout": -1}, {"timeout": 0}, {"retries": -1}])
def test_a_client_refuses_limits_no_request_can_use(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        Client("http://127.0.0.1:8071", "t", **options)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be"):
        AsyncClient("http://127.0.0.1:8071", "t", **options)  # type: ignore[arg-type]


def test_next_iterator_stops_when_done_or_stuck() -> None:
    assert next_iterator(Page(data=[1], iterator="b", prev_iterator="-a", done=False), "a") == "b"
    assert next_iterator(Page(data=[1], iterator="b", prev_iterator="-a", done=True), "a") is None
    assert next_iterator(Page(data=[], iterator="b", prev_iterator=None, done=False), "b") is None


def test_task_progress() -> None:
    base = {"id": "qtask_1", "status": "running", "task": "endpoint.recover", "updatedAt": "2024-05-01T12:00:00Z"}
    task = BackgroundTask.from_json({**base, "data": {"done": 3, "total": 10}})
    assert task.progress == (3, 10) and not task.finished
    assert BackgroundTask.from_json(base).progress == (0, None)
    assert BackgroundTask.from_json({**base, "status": "failed"}).finished


@pytest.fixture
def flaky_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server that answers 503 once, then an empty application list."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            if len(seen) == 1:
                body, status = b'{"code": "database_unavailable", "detail": "retry"}', 503
            else:
                body, status = b'{"data": [], "iterator": null, "prevIterator": null, "done": true}', 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_retries_a_503_then_succeeds(flaky_server: tuple[str, list[str]]) -> None:
    url, seen = flaky_server
    with Client(url, "t") as client:
        assert client.applications.list().data == []
    assert len(seen) == 2
    with Client(url, "t", retries=0) as client, pytest.raises(HooklineError, match="503 database_unavailable"):
        seen.clear()
        client.applications.list()


def test_server_down_is_one_error() -> None:
    with Client(f"http://127.0.0.1:{free_port()}", "t", retries=1) as client, pytest.raises(HooklineError) as caught:
        client.applications.list()
    assert caught.value.status == 0 and caught.value.code == "connection_error"
    assert str(caught.value).startswith("connection_error: cannot reach http://127.0.0.1:")
