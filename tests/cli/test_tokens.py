"""``hookline token create --expires``, ``token list`` and ``token revoke`` against a running server's database."""

import httpx
from click.testing import CliRunner, Result
from tests.cli.conftest import assert_one_line_error

from hookline.cli import main


def _token(hookline, *args: str) -> Result:
    return CliRunner().invoke(main, ["token", "--database-url", hookline.settings.database_url, *args])


def _ok(hookline, *args: str) -> str:
    result = _token(hookline, *args)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout


def _get(hookline, token: str) -> int:
    with httpx.Client(base_url=hookline.url, headers={"Authorization": f"Bearer {token}"}) as c:
        return c.get("/api/v1/app").status_code


def test_create_list_revoke(hookline) -> None:
    with hookline.client() as admin:
        assert admin.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).status_code == 201
    expiring = _ok(hookline, "create", "--expires", "30d", "--name", "deploy").strip()
    tenant = _ok(hookline, "create", "--app", "acme", "--name", "tenant").strip()
    assert expiring.startswith("hl_") and tenant.startswith("hl_")

    lines = _ok(hookline, "list").splitlines()
    assert lines[0].split() == ["ID", "SCOPE", "NAME", "ORIGIN", "CREATED", "EXPIRES", "REVOKED"]
    rows = {line.split()[2]: line for line in lines[1:]}
    deploy, scoped = rows["deploy"].split(), rows["tenant"].split()
    assert deploy[1] == "admin" and deploy[3] == "cli" and deploy[6] != "never" and deploy[-1] == "-"
    assert scoped[1].startswith("app_") and scoped[6] == "never"
    assert expiring not in "\n".join(lines)

    assert _get(hookline, expiring) == 200
    result = _token(hookline, "revoke", deploy[0])
    assert result.exit_code == 0 and f"revoked {deploy[0]}" in result.stderr
    relisted = {line.split()[0]: line.split() for line in _ok(hookline, "list").splitlines()[1:]}
    assert relisted[deploy[0]][-1] != "-" and relisted[scoped[0]][-1] == "-"
    # Another process revoked it: the server refuses it once its token cache (10 s) forgets it;
    # a token it has not seen yet is refused at once.
    tenant_id = scoped[0]
    _ok(hookline, "revoke", tenant_id)
    assert _get(hookline, tenant) == 401


def test_errors_are_one_line(hookline) -> None:
    assert "token 'tok_nope' not found" in assert_one_line_error(_token(hookline, "revoke", "tok_nope"))
    assert "application 'nope' not found" in assert_one_line_error(_token(hookline, "create", "--app", "nope"))
    line = assert_one_line_error(_token(hookline, "create", "--expires", "soon"), exit_code=2)
    assert "--expires" in line
    line = assert_one_line_error(_token(hookline, "create", "--name", ""), exit_code=2)
    assert "--name" in line
    # An already expired token (the API's floor is 60 s, its ceiling 10 years): refused, not made.
    for expires in ("0s", "59s", "522w"):
        line = assert_one_line_error(_token(hookline, "create", "--expires", expires), exit_code=2)
        assert "a token lives from 60s to 10 years" in line


def test_a_name_set_through_the_api_keeps_one_row_and_cannot_drive_the_terminal(hookline) -> None:
    with hookline.client() as admin:
        made = admin.post("/api/v1/auth/token", json={"name": "two\nlines \x1b[31mred"})
        assert made.status_code == 201, made.text
    lines = _ok(hookline, "list").splitlines()
    (row,) = [line for line in lines if made.json()["id"] in line]
    assert "two lines \\x1b[31mred" in row and "\x1b" not in "\n".join(lines)
    assert len(lines) == 1 + len([line for line in lines[1:] if line.startswith("tok_")])
