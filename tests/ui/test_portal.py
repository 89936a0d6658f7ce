"""The tenant portal over HTTP: magic links (single use, expiry, revocation), scope, rights,
CSRF and framing. The browser tests (test_pages_browser.py) drive the same pages in Chromium."""

import sqlite3
import time
from pathlib import Path

import httpx
from tests.support.api import make_endpoint, publish
from tests.support.servers import Hookline, run_hookline
from tests.support.servers import test_settings as settings_for
from tests.ui.support import csrf_token, open_portal, portal_link, signed_in

from hookline.store.database import now_ms


def _portal_client(hookline: Hookline) -> httpx.Client:
    return httpx.Client(base_url=hookline.url, timeout=30)


def test_a_link_opens_the_portal_once_and_holds_the_tenant_to_its_application(hookline: Hookline) -> None:
    with hookline.client() as api:
        _, own = make_endpoint(api, "https://own.example/hook", app_uid="acme")
        _, foreign = make_endpoint(api, "https://foreign.example/hook", app_uid="globex")
        foreign_msg = publish(api, "globex")
        own_msg = publish(api, "acme")
        url = portal_link(api, "acme", sessionId="browser-1")
    with _portal_client(hookline) as tenant:
        opened = open_portal(tenant, url)
        assert opened.status_code == 303, opened.text
        assert opened.headers["location"].startswith("/portal/")
        cookie = next(c for c in opened.headers.get_list("set-cookie") if c.startswith("hookline_portal="))
        assert "HttpOnly" in cookie and "Path=/portal" in cookie
        home = tenant.get("/portal/")
        assert home.status_code == 200
        assert "https://own.example/hook" in home.text
        assert "foreign.example" not in home.text and "globex" not in home.text
        assert "<title>Endpoints · acme</title>" in home.text  # the page, then the name: once
        # Framing is denied unless HOOKLINE_PORTAL_FRAME_ANCESTORS names origins.
        assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
        assert home.headers["x-frame-options"] == "DENY"
        assert tenant.get(f"/portal/endpoints/{own}").status_code == 200
        assert tenant.get(f"/portal/messages/{own_msg}").status_code == 200
        for path in (f"/portal/endpoints/{foreign}", f"/portal/messages/{foreign_msg}", "/portal/jobs/task_nope"):
            resp = tenant.get(path)
            assert resp.status_code == 404, path
            assert "foreign.example" not in resp.text
        # A page that does not exist keeps to the portal: its title, and a way back into it.
        missing = tenant.get("/portal/no/such/page")
        assert missing.status_code == 404
        assert "· Webhooks</title>" in missing.text and "hookline" not in missing.text.lower()
        assert 'href="/portal/" data-testid="portal-home"' in missing.text
        # A change posted without the page's CSRF token is refused.
        assert tenant.post(f"/portal/endpoints/{own}/state", data={"disabled": "true"}).status_code == 403
    # The same link, in another browser: refused, also by another server process on the same database.
    with _portal_client(hookline) as other:
        assert open_portal(other, url).status_code == 403
    with run_hookline(hookline.settings) as second, _portal_client(second) as other:
        assert open_portal(other, url).status_code == 403


def test_expiry_and_expire_all_end_links_and_sessions(hookline: Hookline) -> None:
    with hookline.client() as api:
        make_endpoint(api, "https://own.example/hook", app_uid="acme")
        first = portal_link(api, "acme", sessionId="s1", expiry=3600)
        second = portal_link(api, "acme", sessionId="s2")
        unused = portal_link(api, "acme", sessionId="s3")
        with _portal_client(hookline) as one, _portal_client(hookline) as two:
            assert open_portal(one, first).status_code == 303
            assert open_portal(two, second).status_code == 303
            # expire-all for one session ends that session alone.
            resp = api.post("/api/v1/auth/app/acme/expire-all", json={"sessionIds": ["s1"]})
            assert resp.status_code == 204
            assert one.get("/portal/").status_code == 401
            assert two.get("/portal/").status_code == 200
        # A token past its expiry: its unused link no longer opens anything.
        if hookline.settings.database_url.startswith("sqlite"):
            with sqlite3.connect(hookline.settings.database_url.removeprefix("sqlite:///")) as db:
                db.execute("UPDATE api_token SET expires_at = ? WHERE session_id = 's3'", (now_ms() - 1000,))
            with _portal_client(hookline) as three:
                assert open_portal(three, unused).status_code == 403


def test_revoking_or_expiring_the_portal_token_ends_its_open_session(hookline: Hookline) -> None:
    with hookline.client() as api:
        make_endpoint(api, "https://own.example/hook", app_uid="acme")
        links = {name: portal_link(api, "acme", sessionId=name) for name in ("revoked", "expiring", "kept")}
        ids = {t["sessionId"]: t["id"] for t in api.get("/api/v1/auth/token").json()["data"] if t["sessionId"]}
        with (
            _portal_client(hookline) as revoked,
            _portal_client(hookline) as expiring,
            _portal_client(hookline) as kept,
        ):
            for name, tenant in (("revoked", revoked), ("expiring", expiring), ("kept", kept)):
                assert open_portal(tenant, links[name]).status_code == 303
                assert tenant.get("/portal/").status_code == 200
            assert api.delete(f"/api/v1/auth/token/{ids['revoked']}").status_code == 204
            assert revoked.get("/portal/").status_code == 401
            resp = api.post("/api/v1/auth/app/acme/expire-all", json={"sessionIds": ["expiring"], "expiry": 1})
            assert resp.status_code == 204
            time.sleep(1.2)
            ended = expiring.get("/portal/")
            assert ended.status_code == 401 and "This portal session has ended" in ended.text
            assert kept.get("/portal/").status_code == 200


def test_capabilities_and_read_only_limit_what_the_tenant_can_change(hookline: Hookline) -> None:
    with hookline.client() as api:
        _, ep = make_endpoint(api, "https://own.example/hook", app_uid="acme")
        viewer = portal_link(api, "acme", capabilities=["ViewBase"])
        read_only = portal_link(api, "acme", readOnly=True)
        manager = portal_link(api, "acme", capabilities=["ManageEndpoint"])
        assert api.post("/api/v1/auth/app-portal-access/acme", json={"expiry": 60}).status_code == 422
    for url in (viewer, read_only):
        with _portal_client(hookline) as tenant:
            open_portal(tenant, url)
            page = tenant.get(f"/portal/endpoints/{ep}")
            assert "Disable endpoint" not in page.text
            # The API's own policy: read-only is ViewBase alone, and neither may read the secret.
            assert "Reveal secret" not in page.text
            assert "whsec_" not in tenant.get(f"/portal/endpoints/{ep}?secret=show").text
            token = csrf_token(page.text) if 'name="csrf_token"' in page.text else ""
            home = tenant.get("/portal/")
            assert "Add an endpoint" not in home.text
            # The hidden form refused when posted anyway (the CSRF token is the session's).
            resp = tenant.post("/portal/endpoints", data={"url": "https://x.example/", "csrf_token": token or "x"})
            assert resp.status_code == 403
    with _portal_client(hookline) as tenant:
        open_portal(tenant, manager)
        home = tenant.get("/portal/")
        assert "Add an endpoint" in home.text
        resp = tenant.post(
            "/portal/endpoints", data={"url": "https://new.example/", "csrf_token": csrf_token(home.text)}
        )
        assert resp.status_code == 303
        assert "https://new.example/" in tenant.get("/portal/").text
        bad = tenant.post("/portal/endpoints", data={"url": "not a url", "csrf_token": csrf_token(home.text)})
        assert bad.status_code == 400
        assert "url" in bad.text


def test_framing_and_theme_follow_the_setting_and_the_query(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path}/hl.db", portal_frame_ancestors=("https://crm.example.org",))
    with run_hookline(settings, run_engine=False) as hl, hl.client() as api, _portal_client(hl) as tenant:
        make_endpoint(api, "https://own.example/hook", app_uid="acme")
        url = portal_link(api, "acme")
        open_portal(tenant, url)
        home = tenant.get("/portal/", params={"primaryColor": "#ff0066", "darkMode": "true", "hideNav": "true"})
        assert home.status_code == 200
        csp = home.headers["content-security-policy"]
        assert "frame-ancestors https://crm.example.org" in csp
        assert "x-frame-options" not in home.headers
        nonce = csp.split("'nonce-", 1)[1].split("'", 1)[0]
        assert f'<style nonce="{nonce}">' in home.text and "--accent: #ff0066" in home.text
        assert 'data-theme="dark" data-theme-fixed' in home.text
        assert 'class="topbar"' not in home.text
        # The theme is remembered for the next pages of the session, and changed one parameter at a time.
        assert "--accent: #ff0066" in tenant.get("/portal/messages").text
        light = tenant.get("/portal/messages", params={"darkMode": "false"}).text
        assert "--accent: #ff0066" in light and 'data-theme="light" data-theme-fixed' in light
        bad = tenant.get("/portal/", params={"primaryColor": "red;}body{display:none"})
        assert bad.status_code == 400
        assert "primaryColor" in bad.text


def test_operator_forms_need_their_csrf_token_and_messages_filter(hookline: Hookline) -> None:
    with hookline.client() as api:
        app_id, _ = make_endpoint(api, "https://own.example/hook", app_uid="acme", disabled=True)
        publish(api, "acme", event_type="gift.made", payload={"donor": "Needle Smith"})
        publish(api, "acme", event_type="gift.refunded", payload={"donor": "Hay Stack"}, eventId="evt-42")
    with signed_in(hookline) as (client, token):
        listing = f"/ui/apps/{app_id}/messages"

        def shown(**params: str) -> set[str]:
            page = client.get(listing, params=params)
            assert page.status_code == 200, page.text
            return {t for t in ("gift.made", "gift.refunded") if f">{t}</a>" in page.text}

        assert shown() == {"gift.made", "gift.refunded"}
        assert shown(search="needle") == {"gift.made"}
        assert shown(event_type="gift.refunded") == {"gift.refunded"}
        assert shown(event_id="evt-42") == {"gift.refunded"}
        assert shown(status="0") == set()  # the endpoint is disabled: nothing succeeded
        assert shown(since="2999-01-01T00:00") == set()
        assert client.get(listing, params={"since": "yesterday"}).status_code == 400
        assert client.post("/ui/apps", data={"name": "Acme"}).status_code == 403
        bad_uid = client.post(
            "/ui/apps",
            data={"name": "Acme", "uid": "..", "csrf_token": token},
            headers={"Referer": f"{hookline.url}/ui/apps"},
        )
        assert bad_uid.status_code == 400
        assert "Your own id may use letters, digits, &#39;-&#39;, &#39;_&#39; and &#39;.&#39;" in bad_uid.text
        assert 'name="uid" type="text" placeholder="acme" spellcheck="false" value=".."' in bad_uid.text
        created = client.post("/ui/apps", data={"name": "Acme", "csrf_token": token})
        assert created.status_code == 303
        app_page = client.get(created.headers["location"])
        assert app_page.status_code == 200
        assert "No endpoints yet." in app_page.text
        # No state-changing GET: the change routes answer GET with a 404 page.
        base = created.headers["location"].rstrip("/")
        assert client.get(f"{base}/endpoints").status_code in (404, 405)
