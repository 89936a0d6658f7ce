"""The unmodified ``svix`` npm package drives the workflow of tests/api/test_svix_sdk_flow.py.

Nothing is installed here: ``.ci/run`` installs the package with npm into a scratch folder.
The test finds it through ``HOOKLINE_NPM_SVIX`` (a ``node_modules`` folder holding ``svix``)
or in ``~/.cache/hookline-npm/node_modules``, and skips, saying why, without node or the package.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import standardwebhooks
from tests.support.servers import ADMIN_TOKEN, Receiver

SCRIPT = Path(__file__).with_name("js") / "svix_flow.js"
WAIT = 60.0


def _node_modules() -> Path | None:
    configured = os.environ.get("HOOKLINE_NPM_SVIX")
    folder = Path(configured) if configured else Path.home() / ".cache" / "hookline-npm" / "node_modules"
    return folder if (folder / "svix" / "package.json").is_file() else None


def test_svix_npm_package_drives_the_whole_flow(hookline, receiver: Receiver) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (.ci/run installs Debian's nodejs)")
    modules = _node_modules()
    if modules is None:
        pytest.skip("the svix npm package is missing: set HOOKLINE_NPM_SVIX or run .ci/run to install it")

    env = {**os.environ, "NODE_PATH": str(modules)}
    done = subprocess.run(
        [node, str(SCRIPT), hookline.url, ADMIN_TOKEN, receiver.url()],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])

    assert out["appId"].startswith("app_")
    assert out["endpoint"]["filterTypes"] == ["invoice.paid"]
    assert out["msg"]["id"].startswith("msg_") and out["msg"]["tags"] == ["billing"]
    assert out["attempts"][0]["responseStatusCode"] == 200
    assert out["attempts"][0]["msgId"] == out["msg"]["id"]
    assert out["messageTypes"] == ["other.event", "invoice.paid"]
    assert out["tagged"] == [out["msg"]["id"]]
    assert out["newSecret"] != out["secret"]
    assert out["upserted"]["uid"] == "shipping" and out["upserted"]["filterTypes"] == ["invoice.paid"]
    assert out["upsertedAgain"]["id"] == out["upserted"]["id"]
    assert out["upsertedAgain"]["description"] == "second"
    assert out["endpointCount"] == 2

    # Only the subscribed type was delivered: first the message, then the manual resend,
    # signed with the old and the new secret during the grace period.
    first, resent = receiver.wait_for(2, timeout=WAIT)[:2]
    assert first.headers["webhook-id"] == resent.headers["webhook-id"] == out["msg"]["id"]
    assert json.loads(first.body) == {"amount": 42}
    standardwebhooks.Webhook(out["secret"]).verify(first.body, first.headers)
    standardwebhooks.Webhook(out["secret"]).verify(resent.body, resent.headers)
    standardwebhooks.Webhook(out["newSecret"]).verify(resent.body, resent.headers)
    assert all(r.headers["webhook-id"] == out["msg"]["id"] for r in receiver.requests)
