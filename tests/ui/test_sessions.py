"""Sessions and the failed-login limiter, as pure policy with a hand-driven clock."""

from hookline.ui.sessions import LoginLimiter, SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_is_found_by_its_cookie_until_it_expires() -> None:
    clock = Clock()
    store = SessionStore(lifetime_seconds=60, clock=clock)
    session, cookie = store.create()
    assert store.get(cookie) is session
    clock.now += 59
    assert store.get(cookie) is session
    clock.now += 1
    assert store.get(cookie) is None


def test_a_forged_or_unknown_cookie_finds_nothing() -> None:
    store = SessionStore(lifetime_seconds=60)
    session, cookie = store.create()
    assert store.get(session.id) is None  # the id alone, unsigned
    assert store.get(cookie[:-1] + ("0" if cookie[-1] != "0" else "1")) is None
    assert store.get(SessionStore(lifetime_seconds=60).create()[1]) is None  # signed by another process
    assert store.get("") is None
    assert store.get(None) is None


def test_ending_a_session_revokes_its_cookie() -> None:
    store = SessionStore(lifetime_seconds=60)
    session, cookie = store.create()
    store.end(session)
    assert store.get(cookie) is None


def test_each_session_has_its_own_csrf_token() -> None:
    store = SessionStore(lifetime_seconds=60)
    first, _ = store.create()
    second, _ = store.create()
    assert first.csrf_token != second.csrf_token
    assert len(first.csrf_token) >= 32


def test_login_limiter_blocks_an_address_after_five_failures_for_the_window() -> None:
    clock = Clock()
    limiter = LoginLimiter(limit=5, window=60, clock=clock)
    for _ in range(4):
        limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") is None
    limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == 60
    assert limiter.retry_after("10.0.0.2") is None  # other addresses are unaffected
    clock.now += 30
    assert limiter.retry_after("10.0.0.1") == 30
    clock.now += 30
    assert limiter.retry_after("10.0.0.1") is None


def test_session_hours_setting_is_read_and_checked() -> None:
    import pytest

    from hookline.config import ConfigError, load_settings

    assert load_settings({}).ui_session_hours == 12
    assert load_settings({"HOOKLINE_UI_SESSION_HOURS": "0.5"}).ui_session_hours == 0.5
    for bad in ("0", "-1", "721", "soon"):
        with pytest.raises(ConfigError, match="HOOKLINE_UI_SESSION_HOURS"):
            load_settings({"HOOKLINE_UI_SESSION_HOURS": bad})
