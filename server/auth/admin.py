"""Admin-only routes: one check, one pair of answers (401 without a principal, 403 for a
principal that is not an admin)."""

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from server.auth.principal import Principal, Principals


def require_admin(connection: ASGIConnection, principals: Principals, what: str) -> Principal:
    """The admin making this request; ``what`` completes "… is for admins"."""
    principal = principals.resolve_principal(connection)
    if principal is None:
        raise NotAuthorizedException("Sign in with an admin token.")
    if not principal.admin:
        raise PermissionDeniedException(f"{what} is for admins.")
    return principal
