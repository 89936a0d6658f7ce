"""Screenshots of the dashboard for docs/ui.md: ``python -m tests.ui.screenshots docs/ui``.

Starts hookline on a temporary SQLite file, creates a few applications and endpoints through the
API, back-fills a day of attempts so the chart has a shape, and photographs the sign-in page and
the overview, the application pages and the tenant portal in light and dark, at desktop and phone
width, with Debian's Chromium.
"""

import asyncio
import math
import random
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from tests.support.api import make_endpoint, publish
from tests.support.servers import ADMIN_TOKEN, Hookline, Receiver, Reply, run_hookline, test_settings, wait_until
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.ui.seed import add_attempts, add_endpoint

from hookline.store.database import Database, now_ms

SIZES = {"desktop": (1280, 860), "phone": (390, 844)}


async def backfill(url: str, app_id: str) -> None:
    db = Database(url)
    rng = random.Random(7)
    now = now_ms()
    rows = []
    for minute in range(24 * 60, 0, -1):
        at = now - minute * 60_000
        wave = 6 + 4 * math.sin(minute / 9) + (3 if minute < 25 else 0)
        for _ in range(max(0, round(wave + rng.uniform(-2, 2)))):
            rows.append((at + rng.randrange(60_000), rng.random() > 0.06, rng.randrange(40, 400)))
        if 18 < minute < 24:
            rows.extend((at + i, False, 10_000) for i in range(4))  # a short outage
    try:
        await add_attempts(db, rows)
        await add_endpoint(
            db, app_id, "https://crm.northwind.example/hooks/donations", disabled=False, failing_since=now - 5_400_000
        )
    finally:
        await db.close()


def first_visit(url: str, path: Path) -> None:
    """The overview of a new installation: every panel says what to do next."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{url}/ui/login")
        page.fill("#token", ADMIN_TOKEN)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=apps-empty]")
        page.screenshot(path=str(path), full_page=True)
        browser.close()


DONATION_SCHEMA = {
    "1": {
        "type": "object",
        "title": "A donation was made",
        "properties": {"amount": {"type": "number"}, "currency": {"type": "string"}, "donor": {"type": "string"}},
        "required": ["amount", "currency"],
        "examples": [{"amount": 25.0, "currency": "EUR", "donor": "Ada Lovelace", "campaign": "spring-appeal"}],
    }
}


def application_pages(hl: Hookline, out: Path) -> None:
    """The application pages (operator) and the tenant portal, light and dark, desktop and phone."""
    with hl.client() as api:
        api.post(
            "/api/v1/event-type",
            json={"name": "donation.created", "description": "A donor gave money.", "schemas": DONATION_SCHEMA},
        )
        api.post("/api/v1/event-type", json={"name": "donation.refunded", "description": "A gift was paid back."})
        app_id = api.get("/api/v1/app/acme-donations").json()["id"]
        endpoint_id = api.get("/api/v1/app/acme-donations/endpoint").json()["data"][0]["id"]
        for _ in range(3):
            publish(api, "acme-donations", event_type="donation.created", payload=DONATION_SCHEMA["1"]["examples"][0])
        msg = publish(
            api, "acme-donations", event_type="donation.refunded", payload={"amount": 10, "note": "<b>hi</b>"}
        )
        wait_until(lambda: len(api.get(f"/api/v1/app/acme-donations/attempt/msg/{msg}").json()["data"]) >= 1, 30)
        portal = api.post(
            "/api/v1/auth/app-portal-access/acme-donations", json={"capabilities": ["ManageEndpoint", "CreateAttempts"]}
        ).json()["url"]
    base = f"{hl.url}/ui/apps/{app_id}"
    shots = {
        "apps": f"{hl.url}/ui/apps",
        "app": f"{base}/",
        "endpoint": f"{base}/endpoints/{endpoint_id}",
        "messages": f"{base}/messages",
        "message": f"{base}/messages/{msg}",
        "event-types": f"{base}/event-types",
    }
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for size, (width, height) in SIZES.items():
            for scheme in ("light", "dark"):
                context = browser.new_context(
                    viewport={"width": width, "height": height}, color_scheme=scheme, device_scale_factor=1
                )
                page = context.new_page()
                page.goto(f"{hl.url}/ui/login")
                page.fill("#token", ADMIN_TOKEN)
                page.click("button[type=submit]")
                page.wait_for_url("**/ui/")
                for name, url in shots.items():
                    page.goto(url)
                    if name == "endpoint":
                        page.wait_for_selector("#deliveries-chart canvas")
                    page.screenshot(path=str(out / f"{name}-{size}-{scheme}.png"), full_page=True)
                context.close()
        context = browser.new_context(viewport={"width": 1024, "height": 760}, device_scale_factor=1)
        page = context.new_page()
        page.goto(portal.replace("/portal/open#", "/portal/open?primaryColor=%230f766e#"))
        page.wait_for_url("**/portal/?**")
        page.screenshot(path=str(out / "portal-desktop-light.png"), full_page=True)
        page.goto(f"{hl.url}/portal/messages/{msg}?darkMode=true")
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(out / "portal-message-phone-dark.png"), full_page=True)
        context.close()
        browser.close()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    receiver = Receiver()
    receiver.respond = lambda r: Reply(status=503 if r.path == "/down" else 200)
    with tempfile.TemporaryDirectory() as tmp, run_hookline(test_settings(f"sqlite:///{tmp}/hookline.db")) as hl:
        first_visit(hl.url, out / "overview-empty-desktop-light.png")
        with hl.client() as api:
            make_endpoint(api, receiver.url("/ok"), app_uid="acme-donations")
            app_id, _ = make_endpoint(api, receiver.url("/down"), app_uid="northwind-crm")
            make_endpoint(api, receiver.url("/old"), app_uid="greenfield-school", disabled=True)
            api.patch("/api/v1/app/acme-donations", json={"name": "Acme Donations"})
            api.patch("/api/v1/app/northwind-crm", json={"name": "Northwind CRM"})
            api.patch("/api/v1/app/greenfield-school", json={"name": "Greenfield School <script>alert(1)</script>"})
            publish(api, "acme-donations")
        asyncio.run(backfill(hl.settings.database_url, app_id))
        application_pages(hl, out)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for size, (width, height) in SIZES.items():
                for scheme in ("light", "dark"):
                    context = browser.new_context(
                        viewport={"width": width, "height": height}, color_scheme=scheme, device_scale_factor=1
                    )
                    page = context.new_page()
                    page.goto(f"{hl.url}/ui/login")
                    page.screenshot(path=str(out / f"login-{size}-{scheme}.png"))
                    page.fill("#token", ADMIN_TOKEN)
                    page.click("button[type=submit]")
                    page.wait_for_selector("#deliveries-chart canvas")
                    page.screenshot(path=str(out / f"overview-{size}-{scheme}.png"), full_page=True)
                    context.close()
            browser.close()
    receiver.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/ui"))
