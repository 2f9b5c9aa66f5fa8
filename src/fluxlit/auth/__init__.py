"""Bearer-token auth for the API (the ``fluxlit[auth]`` extra): verify JWTs, require scopes and roles, mint tokens.

``Depends(JWTBearer(JWTAuthConfig(issuer, audience, jwks_url=...)))`` gives a route the token's claims;
``JWTBearer.from_fluxlit_settings()`` reads the same from ``FLUXLIT_JWT_*``.
"""

try:
    import cryptography  # noqa: F401
    import jwt  # noqa: F401
except ImportError:
    raise ImportError("fluxlit.auth needs the auth extra: pip install 'fluxlit[auth]'") from None

from .bearer import JWTBearer
from .claims import StandardClaims
from .config import JWTAuthConfig
from .jwks import JWKSKeys, SigningKeysUnavailable
from .scopes import RequireRoles, RequireScopes
from .tokens import issue_hs256_access_token
from .verify import InvalidToken, TokenVerifier

__all__ = [
    "InvalidToken",
    "JWKSKeys",
    "JWTAuthConfig",
    "JWTBearer",
    "RequireRoles",
    "RequireScopes",
    "SigningKeysUnavailable",
    "StandardClaims",
    "TokenVerifier",
    "issue_hs256_access_token",
]
