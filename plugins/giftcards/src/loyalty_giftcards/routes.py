"""The batch export: a batch's codes as CSV, downloadable once, by a tenant admin.

Mounted at ``/modules/giftcards/batches/<id>/export``. The first download takes the CSV out
of the database in the same transaction (see :func:`repository.take_export`); any later or
concurrent second request gets ``410 Gone``: the printer's file is the only copy.
"""

from __future__ import annotations

from loyalty_core.sdk import AuthError, RequestContext, Unauthenticated, parse_id, require_admin
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from loyalty_giftcards import repository as repo


async def export_batch(request: Request) -> Response:
    context: RequestContext = request.state.context
    try:
        tenant_id = require_admin(context.principal)
    except AuthError as error:
        status = 401 if isinstance(error, Unauthenticated) else 403
        return JSONResponse({"errors": [{"message": error.message, "code": error.code}]}, status)
    batch_id = parse_id(str(request.path_params["batch_id"]))
    async with context.database.tenant_transaction(tenant_id) as conn:
        batch = None if batch_id is None else await repo.get_batch(conn, tenant_id, batch_id)
        if batch is None or batch_id is None:
            return JSONResponse({"detail": "Not Found"}, 404)
        export = await repo.take_export(conn, tenant_id, batch_id, context.now())
    if export is None:
        return JSONResponse({"detail": "this batch was exported already"}, 410)
    return Response(
        export,
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="giftcards-{batch_id}.csv"',
            "Cache-Control": "no-store",
        },
    )


ROUTES = [Route("/batches/{batch_id}/export", export_batch, methods=["GET"])]

__all__ = ["ROUTES", "export_batch"]
