"""JWTBearer: a FastAPI dependency that turns ``Authorization: Bearer <jwt>`` into verified claims."""

import logging
from typing import Any

from anyio import to_thread
from fastapi import HTTPException
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from starlette.requests import HTTPConnection

from ..settings import FluxlitSettings, load_settings
from .claims import StandardClaims
from .config import JWTAuthConfig, config_from_settings
from .jwks import JWKSKeys, SigningKeysUnavailable
from .verify import InvalidToken, TokenVerifier

log = logging.getLogger("fluxlit.auth")

REALM = "fluxlit"
CLAIMS_SCOPE_KEY = "fluxlit.auth.claims"
"""Where verified claims are kept in the ASGI scope, per bearer, so one request verifies its token once."""


def challenge(**params: str) -> str:
    """A ``WWW-Authenticate`` value for the Bearer scheme (RFC 6750 §3); values are plain text without quotes."""
    return "Bearer " + ", ".join(f'{name}="{value}"' for name, value in params.items())


def bearer_token(authorization: str | None) -> str | None:
    """The credentials of an ``Authorization: Bearer`` header, or ``None`` for no header or another scheme."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


class JWTBearer(SecurityBase):
    """``Depends(JWTBearer(config))`` hands the route the token's ``StandardClaims``, or answers 401.

    With a ``jwks_url`` the keys are fetched on first use and cached (see ``JWKSKeys``); verification then
    runs in a worker thread because a fetch blocks. When the JWKS cannot be fetched at all the answer is 503.
    """

    def __init__(
        self,
        config: JWTAuthConfig,
        *,
        jwks_refetch_interval_seconds: float = 30.0,
        jwks_max_age_seconds: float = 300.0,
        jwks_timeout_seconds: float = 10.0,
        scheme_name: str | None = None,
    ) -> None:
        self.config = config
        self.keys = (
            JWKSKeys(
                config.jwks_url,
                max_age_seconds=jwks_max_age_seconds,
                refetch_interval_seconds=jwks_refetch_interval_seconds,
                timeout_seconds=jwks_timeout_seconds,
            )
            if config.jwks_url
            else None
        )
        self.verifier = TokenVerifier(config, self.keys)
        self.model = HTTPBearerModel(bearerFormat="JWT")
        self.scheme_name = scheme_name or type(self).__name__

    @classmethod
    def from_fluxlit_settings(cls, settings: FluxlitSettings | None = None, **options: Any) -> "JWTBearer":
        """A bearer configured by ``FLUXLIT_JWT_*``; ``options`` are the keyword arguments of ``JWTBearer``."""
        return cls(config_from_settings(settings or load_settings()), **options)

    async def __call__(self, request: HTTPConnection) -> StandardClaims:
        verified: dict[JWTBearer, StandardClaims] = request.scope.setdefault(CLAIMS_SCOPE_KEY, {})
        if self in verified:
            return verified[self]
        token = bearer_token(request.headers.get("authorization"))
        if not token:
            detail = "a bearer token is required: send Authorization: Bearer <token>"
            raise HTTPException(401, detail, {"WWW-Authenticate": challenge(realm=REALM)})
        try:
            claims = await self.verify(token)
        except InvalidToken as exc:
            log.debug("bearer token refused: %s", exc.description)
            headers = {"WWW-Authenticate": challenge(realm=REALM, error="invalid_token", error_description=exc.description)}
            raise HTTPException(401, exc.description, headers) from None
        except SigningKeysUnavailable as exc:
            log.debug("bearer token not checked: %s", exc)
            retry_after = str(max(1, round(exc.retry_after_seconds)))
            raise HTTPException(503, "signing keys are unavailable; try again later", {"Retry-After": retry_after}) from None
        verified[self] = claims
        return claims

    async def verify(self, token: str) -> StandardClaims:
        """Verify ``token`` outside a request, e.g. one a WebSocket client sent in its first message."""
        if self.keys is None:
            return self.verifier.verify(token)
        return await to_thread.run_sync(self.verifier.verify, token)
