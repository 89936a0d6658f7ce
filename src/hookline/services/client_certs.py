"""Endpoint client certificates for receivers that demand mutual TLS."""

from hookline.domain.certificates import CertificateError, CertificateInfo, inspect_pair
from hookline.errors import Invalid, NotFound
from hookline.services import endpoints
from hookline.services.context import Context
from hookline.store import client_certs
from hookline.store.secrets import SecretBox


async def get(ctx: Context, app_key: str, endpoint_key: str, *, tenant: str | None) -> CertificateInfo:
    endpoint = await endpoints.get(ctx, app_key, endpoint_key, tenant=tenant)
    async with ctx.db.read() as conn:
        info = await client_certs.get(conn, endpoint.id)
    if info is None:
        raise NotFound("this endpoint has no client certificate")
    return info


async def put(
    ctx: Context, app_key: str, endpoint_key: str, cert: str, key: str, *, tenant: str | None
) -> CertificateInfo:
    """Set (or replace) the certificate the endpoint presents; the key is sealed at rest."""
    try:
        info = inspect_pair(cert, key)
    except CertificateError as exc:
        raise Invalid(["body", exc.field], str(exc)) from None
    endpoint = await endpoints.to_change(ctx, app_key, endpoint_key, tenant=tenant)
    sealed = SecretBox.from_settings(ctx.settings).seal(key)
    async with ctx.db.write() as conn:
        await client_certs.put(conn, endpoint.app_id, endpoint.id, cert, sealed, info)
    return info


async def remove(ctx: Context, app_key: str, endpoint_key: str, *, tenant: str | None) -> None:
    endpoint = await endpoints.to_change(ctx, app_key, endpoint_key, tenant=tenant)
    async with ctx.db.write() as conn:
        if not await client_certs.remove(conn, endpoint.id):
            raise NotFound("this endpoint has no client certificate")
