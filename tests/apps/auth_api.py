"""An API with routes behind JWT bearer auth: who the token names, and what its scopes and roles allow."""

from typing import Annotated, Any

from fastapi import Depends

from fluxlit import FluxLit
from fluxlit.auth import JWTBearer, RequireRoles, RequireScopes, StandardClaims


def create_app(bearer: JWTBearer | None = None) -> FluxLit:
    """The app guarded by ``bearer`` (default: the one the ``FLUXLIT_JWT_*`` settings describe)."""
    bearer = bearer or JWTBearer.from_fluxlit_settings()
    app = FluxLit(title="auth")
    read_reports = RequireScopes("reports:read", bearer=bearer)
    admin = RequireRoles("admin", bearer=bearer)

    @app.api.get("/public")
    def public() -> dict[str, bool]:
        return {"public": True}

    @app.api.get("/me")
    def me(claims: Annotated[StandardClaims, Depends(bearer)]) -> dict[str, Any]:
        return claims.model_dump()

    @app.api.get("/reports")
    def reports(claims: Annotated[StandardClaims, Depends(read_reports)]) -> dict[str, Any]:
        return {"reports_for": claims.sub}

    @app.api.get("/admin")
    def admin_area(
        claims: Annotated[StandardClaims, Depends(admin)], same: Annotated[StandardClaims, Depends(bearer)]
    ) -> dict[str, Any]:
        return {"admin": claims.sub, "verified_once": claims is same}

    return app
