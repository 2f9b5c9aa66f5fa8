"""issue_hs256_access_token: mint a first-party HS256 access token that a secret-mode JWTBearer accepts."""

import secrets
import time
from collections.abc import Mapping
from typing import Any

import jwt

from .config import check_secret

SET_BY_ISSUER = frozenset({"sub", "iss", "aud", "iat", "exp", "jti"})


def issue_hs256_access_token(
    subject: str,
    issuer: str,
    audience: str,
    secret: str,
    ttl_seconds: int,
    extra_claims: Mapping[str, Any] | None = None,
) -> str:
    """A signed HS256 JWT for ``subject``, valid for ``ttl_seconds`` from now, with a random ``jti``."""
    if not subject or not issuer or not audience:
        raise ValueError("issue_hs256_access_token needs a non-empty subject, issuer and audience")
    if ttl_seconds <= 0:
        raise ValueError(f"ttl_seconds must be more than 0, got {ttl_seconds}")
    check_secret(secret, ("HS256",))
    clashing = sorted(SET_BY_ISSUER.intersection(extra_claims or {}))
    if clashing:
        raise ValueError(f"extra_claims may not set {', '.join(clashing)}: pass subject, issuer, audience or ttl_seconds instead")
    now = int(time.time())
    claims = {
        **(extra_claims or {}),
        "sub": subject,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, secret, algorithm="HS256")
