"""Bearer-token auth for the API (the ``fluxlit[auth]`` extra): verify JWTs, require scopes and roles, mint tokens.

``Depends(JWTBearer(JWTAuthConfig(issuer, audience, jwks_url=...)))`` gives a route the token's claims;
``JWTBearer.from_fluxlit_settings()`` reads the same from ``FLUXLIT_JWT_*``.
``register_oidc_bff_routes`` adds an OIDC login (authorization code + PKCE) that hands pages first-party tokens.
"""

try:
    import cryptography  # noqa: F401
    import jwt  # noqa: F401
except ImportError:
    raise ImportError("fluxlit.auth needs the auth extra: pip install 'fluxlit[auth]'") from None

from .bearer import JWTBearer
from .bff import OIDCBFF, FirstPartyToken, OIDCBFFConfig, register_oidc_bff_routes
from .claims import StandardClaims
from .config import JWTAuthConfig
from .jwks import JWKSKeys, SigningKeysUnavailable
from .oidc_client import (
    AuthorizationRequest,
    GenericOIDCClient,
    GenericOIDCClientConfig,
    IdTokenInvalid,
    OIDCError,
)
from .scopes import RequireRoles, RequireScopes
from .streamlit import (
    bearer_headers_from_session,
    exchange_auth_code_from_query,
    forget_login,
    prepare_streamlit_api_client,
    resume_login_from_cookie,
    session_access_token,
)
from .token_store import (
    InMemoryOIDCBFFTokenStore,
    OIDCBFFTokenStore,
    RedisOIDCBFFTokenStore,
    TokenStoreUnavailable,
)
from .tokens import issue_hs256_access_token
from .trusted_proxy import TrustedProxyUser, TrustedProxyUserConfig
from .verify import InvalidToken, TokenVerifier

__all__ = [
    "AuthorizationRequest",
    "FirstPartyToken",
    "GenericOIDCClient",
    "GenericOIDCClientConfig",
    "IdTokenInvalid",
    "InMemoryOIDCBFFTokenStore",
    "InvalidToken",
    "JWKSKeys",
    "JWTAuthConfig",
    "JWTBearer",
    "OIDCBFF",
    "OIDCBFFConfig",
    "OIDCBFFTokenStore",
    "OIDCError",
    "RedisOIDCBFFTokenStore",
    "RequireRoles",
    "RequireScopes",
    "SigningKeysUnavailable",
    "StandardClaims",
    "TokenStoreUnavailable",
    "TokenVerifier",
    "TrustedProxyUser",
    "TrustedProxyUserConfig",
    "bearer_headers_from_session",
    "exchange_auth_code_from_query",
    "forget_login",
    "issue_hs256_access_token",
    "prepare_streamlit_api_client",
    "register_oidc_bff_routes",
    "resume_login_from_cookie",
    "session_access_token",
]
