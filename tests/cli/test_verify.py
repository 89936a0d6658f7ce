"""``hookline verify``: a saved request checked against a secret, with no server involved."""

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.cli.conftest import assert_one_line_error

from hookline.cli import main
from hookline.cli.verify import check, load_request
from hookline.domain.signing import generate_secret, sign

SECRET = generate_secret()
BODY = '{"type": "invoice.paid", "amount": 42}'


def signed_headers(body: str = BODY, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if at is None else at
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, "msg_1", timestamp, body.encode()),
        "content-type": "application/json",
    }


def saved_json(tmp_path: Path, headers: dict[str, str], body: str = BODY) -> str:
    path = tmp_path / "request.json"
    path.write_text(json.dumps({"method": "POST", "url": "https://example.com/hook", "headers": headers, "body": body}))
    return str(path)


def raw_http(headers: dict[str, str], body: str = BODY, newline: str = "\r\n") -> str:
    head = ["POST /hook HTTP/1.1", "Host: example.com", f"Content-Length: {len(body.encode())}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    return newline.join(head) + newline + newline + body


def verify(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["verify", *args], input=input, env=env)


def test_a_signed_json_request_verifies(tmp_path: Path) -> None:
    result = verify(saved_json(tmp_path, signed_headers()), "--secret", SECRET)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["RESULT  PROVIDER", "valid   standard-webhooks"]


def test_raw_http_from_stdin_and_the_secret_from_the_environment() -> None:
    for newline in ("\r\n", "\n"):
        result = verify(
            input=raw_http(signed_headers(), newline=newline) + "\n", env={"HOOKLINE_WEBHOOK_SECRET": SECRET}
        )
        assert result.exit_code == 0, result.output


def test_a_wrong_secret_fails_in_one_line(tmp_path: Path) -> None:
    line = assert_one_line_error(verify(saved_json(tmp_path, signed_headers()), "--secret", generate_secret()))
    assert line == "Error: invalid: no signature matches"


def test_a_changed_body_fails(tmp_path: Path) -> None:
    path = saved_json(tmp_path, signed_headers(), body=BODY.replace("42", "43"))
    assert assert_one_line_error(verify(path, "--secret", SECRET)) == "Error: invalid: no signature matches"


def test_a_stale_request_says_the_signature_matched(tmp_path: Path) -> None:
    path = saved_json(tmp_path, signed_headers(at=int(time.time()) - 3600))
    line = assert_one_line_error(verify(path, "--secret", SECRET))
    assert "timestamp is too old" in line and "the signature itself matches" in line
    assert verify(path, "--secret", SECRET, "--ignore-time").exit_code == 0
    assert verify(path, "--secret", SECRET, "--tolerance", "7200").exit_code == 0


def test_json_output_for_both_outcomes(tmp_path: Path) -> None:
    good = verify(saved_json(tmp_path, signed_headers()), "--secret", SECRET, "--json")
    assert good.exit_code == 0 and json.loads(good.stdout) == {
        "valid": True,
        "provider": "standard-webhooks",
        "error": None,
    }
    bad = verify(saved_json(tmp_path, signed_headers()), "--secret", generate_secret(), "--json")
    assert bad.exit_code == 1 and json.loads(bad.stdout)["error"] == "no signature matches"


def test_other_providers_and_binary_bodies(tmp_path: Path) -> None:
    body = b'{"action": "opened"}\xff'
    digest = hmac.new(b"gh-secret", body, hashlib.sha256).hexdigest()
    path = tmp_path / "github.json"
    headers = [["X-Hub-Signature-256", f"sha256={digest}"], ["X-GitHub-Event", "push"]]
    path.write_text(json.dumps({"headers": headers, "bodyBase64": base64.b64encode(body).decode()}))
    assert verify(str(path), "--secret", "gh-secret", "--provider", "github").exit_code == 0
    assert verify(str(path), "--secret", "other", "--provider", "github").exit_code == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{nope", "not valid JSON"),
        ('{"headers": {}, "body": {"a": 1}}', '"body" must be the raw body as a string'),
        ('{"body": ""}', '"headers"'),
        ("nothing useful", "expected a JSON saved request or a raw HTTP request"),
        ("POST / HTTP/1.1\nnot a header\n\n{}", "not a header line"),
    ],
)
def test_unreadable_saved_requests_are_usage_errors(content: str, message: str) -> None:
    line = assert_one_line_error(verify("--secret", SECRET, input=content), exit_code=2)
    assert message in line


def test_unknown_provider_and_missing_secret_are_usage_errors(tmp_path: Path) -> None:
    path = saved_json(tmp_path, signed_headers())
    assert "unknown provider 'acme'" in assert_one_line_error(
        verify(path, "--secret", SECRET, "--provider", "acme"), exit_code=2
    )
    assert "Missing option '--secret'" in assert_one_line_error(verify(path), exit_code=2)


def test_load_request_keeps_the_body_bytes() -> None:
    saved = load_request(raw_http({"webhook-id": "x"}, body="a\r\n\r\nb").encode() + b"\n")
    assert saved.method == "POST" and saved.url == "https://example.com/hook"
    assert saved.body == b"a\r\n\r\nb"  # cut to Content-Length: the editor's newline goes
    assert ("webhook-id", "x") in saved.headers
    problem = check(saved, provider="standard-webhooks", secret=SECRET)
    assert problem is not None and "webhook-timestamp" in problem
