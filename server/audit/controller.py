"""``GET /api/audit``: the bypass audit trail, newest first, for admins only."""

from typing import Annotated

from litestar import Request, Router, get
from litestar.di import NamedDependency, Provide
from litestar.params import Parameter

from server.audit.trail import AuditEntry, AuditTrail
from server.auth.admin import require_admin
from server.auth.principal import Principals


@get("/")
async def audit_entries(
    request: Request,
    principals: NamedDependency[Principals],
    trail: NamedDependency[AuditTrail],
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
) -> list[AuditEntry]:
    """Every bypass: when, who, which upload, why (a code), priority and size. Needs a Bearer
    token minted with ``medpress token --admin``."""
    require_admin(request, principals, "The audit trail")
    return await trail.entries(limit)


def create_audit_router(trail: AuditTrail) -> Router:
    def provide_trail() -> AuditTrail:
        return trail

    return Router(
        path="/api/audit",
        route_handlers=[audit_entries],
        dependencies={"trail": Provide(provide_trail, sync_to_thread=False)},
        tags=["audit"],
    )
