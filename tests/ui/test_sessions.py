"""The CSRF derivation and the failed-login limiter, as pure policy with a hand-driven clock."""

from hookline.ui.sessions import LoginLimiter, csrf_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_session_has_its_own_csrf_token() -> None:
    first, second = csrf_for("one session token"), csrf_for("another session token")
    assert first != second and len(first) >= 32
    assert csrf_for("one session token") == first  # any process derives the same one


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
