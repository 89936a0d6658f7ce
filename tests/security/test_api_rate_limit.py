"""HOOKLINE_API_RATE_LIMIT: an optional per-token limit on the management API (off by default)."""


def test_a_token_past_its_rate_gets_429_and_others_do_not(hookline_factory) -> None:
    with hookline_factory(api_rate_limit=2) as hl, hl.client() as admin:
        created = admin.post("/api/v1/auth/token", json={"name": "second"})
        assert created.status_code == 201, created.text
        answers = [admin.get("/api/v1/app") for _ in range(30)]
        statuses = [a.status_code for a in answers]
        assert set(statuses) == {200, 429}, statuses
        refused = next(a for a in answers if a.status_code == 429)
        body = refused.json()
        assert body["code"] == "rate_limited" and "2 requests per second" in body["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        # Another token has an allowance of its own; a wrong token is still told 401.
        with hl.client(created.json()["token"]) as second:
            assert second.get("/api/v1/app").status_code == 200
        with hl.client("not-a-token") as stranger:
            assert stranger.get("/api/v1/app").status_code == 401


def test_no_limit_by_default(hookline) -> None:
    with hookline.client() as admin:
        assert {admin.get("/api/v1/app").status_code for _ in range(40)} == {200}
