"""Cursor pagination: limit bounds, forward to done, and back with prevIterator."""

from tests.support.api import make_endpoint, publish


def _walk(c, path: str, limit: int) -> list[str]:
    seen: list[str] = []
    iterator = None
    for _ in range(20):
        params = {"limit": limit} | ({"iterator": iterator} if iterator else {})
        page = c.get(path, params=params).json()
        seen += [item["id"] for item in page["data"]]
        if page["done"]:
            return seen
        iterator = page["iterator"]
    raise AssertionError("pagination never finished")


def test_forward_and_back(hookline, receiver) -> None:
    with hookline.client() as c:
        make_endpoint(c, receiver.url())
        ids = [publish(c, "acme") for _ in range(7)]
        newest_first = list(reversed(ids))
        assert _walk(c, "/api/v1/app/acme/msg", 3) == newest_first
        first = c.get("/api/v1/app/acme/msg", params={"limit": 3}).json()
        second = c.get("/api/v1/app/acme/msg", params={"limit": 3, "iterator": first["iterator"]}).json()
        assert [m["id"] for m in second["data"]] == newest_first[3:6]
        back = c.get("/api/v1/app/acme/msg", params={"limit": 3, "iterator": second["prevIterator"]}).json()
        assert [m["id"] for m in back["data"]] == newest_first[:3]
        assert not back["done"]
        for app in range(5):
            c.post("/api/v1/app", json={"name": f"app{app}"})
        apps = _walk(c, "/api/v1/app", 2)
        assert len(apps) == len(set(apps)) == 6
        assert apps == sorted(apps)  # ascending by default
        descending = c.get("/api/v1/app", params={"order": "descending", "limit": 250}).json()["data"]
        assert [a["id"] for a in descending] == sorted(apps, reverse=True)


def test_empty_list(hookline) -> None:
    with hookline.client() as c:
        page = c.get("/api/v1/event-type").json()
    assert page == {"data": [], "iterator": None, "prevIterator": None, "done": True}


def test_prev_iterator_walks_back_to_the_first_item(hookline) -> None:
    with hookline.client() as c:
        for n in range(7):
            make_endpoint(c, f"https://hooks.example/{n}")
        path = "/api/v1/app/acme/endpoint"
        ids = [e["id"] for e in c.get(path, params={"limit": 250}).json()["data"]]
        assert len(ids) == 7 and ids == sorted(ids)

        pages = []
        page = c.get(path, params={"limit": 3}).json()
        while True:
            pages.append(page)
            if page["done"]:
                break
            page = c.get(path, params={"limit": 3, "iterator": page["iterator"]}).json()
        assert [[e["id"] for e in p["data"]] for p in pages] == [ids[0:3], ids[3:6], ids[6:7]]

        back = []
        iterator = pages[-1]["prevIterator"]
        while True:
            page = c.get(path, params={"limit": 3, "iterator": iterator}).json()
            if not page["data"]:
                break
            back.append([e["id"] for e in page["data"]])
            iterator = page["prevIterator"]
        assert back == [ids[3:6], ids[0:3]]
        # Nothing before the first item; going forward from there starts at the first item again.
        assert page["iterator"] is None and page["done"]
        again = c.get(path, params={"limit": 3, **({"iterator": page["iterator"]} if page["iterator"] else {})}).json()
        assert [e["id"] for e in again["data"]] == ids[0:3]

        descending = c.get(path, params={"limit": 4, "order": "descending"}).json()
        assert [e["id"] for e in descending["data"]] == ids[::-1][:4]
        rest = c.get(path, params={"limit": 4, "order": "descending", "iterator": descending["iterator"]}).json()
        assert [e["id"] for e in rest["data"]] == ids[::-1][4:] and rest["done"]
