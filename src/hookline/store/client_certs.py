"""Endpoint client certificates (mutual TLS): one per endpoint, the key kept sealed."""

from sqlalchemy import delete, insert, select

from hookline.domain.certificates import CertificateInfo
from hookline.store import tables as t
from hookline.store.database import Conn, now_ms

cc = t.endpoint_client_cert


async def get(conn: Conn, endpoint_id: str) -> CertificateInfo | None:
    query = select(cc.c.subject, cc.c.issuer, cc.c.not_after, cc.c.fingerprint).where(cc.c.endpoint_id == endpoint_id)
    row = (await conn.execute(query)).first()
    return None if row is None else CertificateInfo(row.subject, row.issuer, row.not_after, row.fingerprint)


async def put(conn: Conn, app_id: str, endpoint_id: str, cert: str, sealed_key: str, info: CertificateInfo) -> None:
    await remove(conn, endpoint_id)
    values = {
        "endpoint_id": endpoint_id,
        "app_id": app_id,
        "cert": cert,
        "key": sealed_key,
        "subject": info.subject,
        "issuer": info.issuer,
        "not_after": info.not_after,
        "fingerprint": info.fingerprint,
        "created_at": now_ms(),
    }
    await conn.execute(insert(cc).values(values))


async def remove(conn: Conn, endpoint_id: str) -> bool:
    return bool((await conn.execute(delete(cc).where(cc.c.endpoint_id == endpoint_id))).rowcount)
