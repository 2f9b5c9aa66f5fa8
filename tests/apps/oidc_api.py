"""An API behind the OIDC BFF: ``/api/auth/*`` log users in, ``/api/me`` answers only to the first-party token."""

from typing import Annotated, Any

from fastapi import Depends

from fluxlit import FluxLit
from fluxlit.auth import JWTBearer, OIDCBFFConfig, StandardClaims, register_oidc_bff_routes


def create_app(**bff_options: Any) -> FluxLit:
    """The app as ``FLUXLIT_OIDC_*`` and ``FLUXLIT_JWT_*`` describe it; ``bff_options`` go to ``OIDCBFFConfig``."""
    app = FluxLit(title="oidc")
    register_oidc_bff_routes(app, OIDCBFFConfig.from_fluxlit_settings(**bff_options))
    bearer = JWTBearer.from_fluxlit_settings()

    @app.api.get("/me")
    def me(claims: Annotated[StandardClaims, Depends(bearer)]) -> dict[str, Any]:
        return claims.model_dump(exclude_none=True)

    return app
