"""Shared route dependencies: the caller, the database, the app being addressed."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials

from hookline.api.auth import Principal, authenticate, bearer
from hookline.config import Settings
from hookline.domain.model import Application
from hookline.services import applications
from hookline.services.context import Context, Database
from hookline.services.listings import MAX_LIMIT


async def principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    return await authenticate(request, credentials)


async def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


async def context(request: Request) -> Context:
    """What the use-cases run against, from what the process set up (``api.app``)."""
    state = request.app.state
    return Context(db=state.db, settings=state.settings, engine=state.engine, sandbox=getattr(state, "sandbox", None))


Auth = Annotated[Principal, Depends(principal)]
Db = Annotated[Database, Depends(database)]
Conf = Annotated[Settings, Depends(settings)]
Ctx = Annotated[Context, Depends(context)]
ID_PATTERN = r"^[a-zA-Z0-9\-_.]+$"
AppId = Annotated[
    str, Path(description="The application's id or uid", min_length=1, max_length=256, pattern=ID_PATTERN)
]
EndpointId = Annotated[
    str, Path(description="The endpoint's id or uid", min_length=1, max_length=256, pattern=ID_PATTERN)
]
MsgId = Annotated[
    str, Path(description="The message's id or eventId", min_length=1, max_length=256, pattern=ID_PATTERN)
]
# Documented here, honoured by the idempotency middleware.
IdempotencyKey = Annotated[str | None, Header(alias="idempotency-key", description="Repeat a POST safely for 12 hours")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most 250")]
Iterator = Annotated[str | None, Query(max_length=64, pattern=r"^-?[A-Za-z0-9_.\-]+$")]
Order = Literal["ascending", "descending"]
When = Annotated[datetime | None, Query(description="An ISO 8601 time; without a zone, UTC")]
# Validated like the channels it is compared with: it becomes part of a LIKE pattern.
ChannelQuery = Annotated[str | None, Query(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9\-_.]+$")]
CsvList = Annotated[list[str] | None, Query()]


def split_csv(values: list[str] | None) -> list[str] | None:
    """Accept ``event_types=a,b`` (what the svix SDK sends) and repeated parameters."""
    if not values:
        return None
    out = [part for value in values for part in value.split(",") if part]
    return out or None


async def load_app(db: Database, who: Principal, app_id: str) -> Application:
    """The addressed application, or 404 when it does not exist or is not the caller's."""
    return await applications.visible(db, app_id, tenant=who.app_id)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(value: datetime | None) -> int | None:
    """Unix milliseconds (a time without a zone is UTC), never below 0: ids cannot encode earlier times."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # Exact, rounding down: through a float of seconds, .001 could become 0.9999... ms.
    return max(0, (value - _EPOCH) // timedelta(milliseconds=1))
