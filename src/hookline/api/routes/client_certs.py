"""/api/v1/app/{app}/endpoint/{ep}/client-certificate: mutual TLS towards receivers (hookline)."""

from fastapi import APIRouter, Response

from hookline.api.deps import AppId, Auth, Ctx, EndpointId
from hookline.api.schemas import ClientCertificateIn, ClientCertificateOut, ms_to_datetime
from hookline.domain.certificates import CertificateInfo
from hookline.services import client_certs

router = APIRouter(prefix="/api/v1/app/{app_id}/endpoint/{endpoint_id}/client-certificate", tags=["Endpoint"])


def _out(info: CertificateInfo) -> ClientCertificateOut:
    return ClientCertificateOut(
        subject=info.subject, issuer=info.issuer, not_after=ms_to_datetime(info.not_after), fingerprint=info.fingerprint
    )


@router.get("", response_model=ClientCertificateOut, operation_id="hookline.endpoint.get-client-certificate")
async def get_client_certificate(app_id: AppId, endpoint_id: EndpointId, who: Auth, ctx: Ctx) -> ClientCertificateOut:
    """The certificate this endpoint presents to receivers that demand mutual TLS (never its key)."""
    return _out(await client_certs.get(ctx, app_id, endpoint_id, tenant=who.app_id))


@router.put("", response_model=ClientCertificateOut, operation_id="hookline.endpoint.put-client-certificate")
async def put_client_certificate(
    app_id: AppId, endpoint_id: EndpointId, body: ClientCertificateIn, who: Auth, ctx: Ctx
) -> ClientCertificateOut:
    """Present this certificate when a receiver asks for one (mutual TLS); replaces any earlier one."""
    return _out(await client_certs.put(ctx, app_id, endpoint_id, body.cert, body.key, tenant=who.app_id))


@router.delete("", status_code=204, response_class=Response, operation_id="hookline.endpoint.delete-client-certificate")
async def delete_client_certificate(app_id: AppId, endpoint_id: EndpointId, who: Auth, ctx: Ctx) -> Response:
    await client_certs.remove(ctx, app_id, endpoint_id, tenant=who.app_id)
    return Response(status_code=204)
