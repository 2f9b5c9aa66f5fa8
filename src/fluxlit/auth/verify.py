"""TokenVerifier: a compact JWT in, StandardClaims out, or InvalidToken with a reason safe to show."""

from typing import Any

import jwt
from pydantic import ValidationError

from .claims import StandardClaims
from .config import JWTAuthConfig
from .jwks import JWKSKeys

REQUIRED_CLAIMS = ("exp", "iss", "aud")
"""A bearer token without an expiry would be valid forever; ``iss`` and ``aud`` are checked against the config."""

# Fixed texts, never PyJWT's messages: those may quote parts of the token. Subclasses come before their bases.
REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "token has expired"),
    (jwt.ImmatureSignatureError, "token is not valid yet"),
    (jwt.InvalidAudienceError, "token is meant for another audience"),
    (jwt.InvalidIssuerError, "token is from another issuer"),
    (jwt.InvalidSignatureError, "token signature does not verify"),
    (jwt.InvalidAlgorithmError, "token is signed with an algorithm this API does not accept"),
    (jwt.DecodeError, "token is not a well-formed JWT"),
    (jwt.InvalidKeyError, "token does not fit its signing key"),
)


class InvalidToken(Exception):
    """A token was refused; ``description`` says why without quoting the token."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class TokenVerifier:
    """Checks signature, algorithm, issuer, audience and times of a token against one ``JWTAuthConfig``."""

    def __init__(self, config: JWTAuthConfig, keys: JWKSKeys | None = None) -> None:
        if (keys is None) != (config.jwks_url is None):
            raise ValueError("TokenVerifier needs JWKSKeys exactly when the config has a jwks_url")
        self.config = config
        self.keys = keys

    def verify(self, token: str) -> StandardClaims:
        """The token's claims; raises ``InvalidToken``, or ``SigningKeysUnavailable`` when the JWKS cannot be fetched."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("token is not a well-formed JWT") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.config.algorithms:
            raise InvalidToken("token is signed with an algorithm this API does not accept")
        try:
            payload = jwt.decode(
                token,
                self._key(header, alg),
                algorithms=list(self.config.algorithms),
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"token has no {exc.claim} claim") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(next((text for kind, text in REASONS if isinstance(exc, kind)), "token is invalid")) from None
        try:
            return StandardClaims.model_validate(payload)
        except ValidationError:
            raise InvalidToken("token claims have the wrong types (sub, iss, jti and scope are strings, times are numbers)") from None

    def _key(self, header: dict[str, Any], alg: str) -> Any:
        if self.keys is None:
            return self.config.hs256_secret
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("token header names no signing key (kid)")
        key = self.keys.signing_key(kid)
        if key is None:
            raise InvalidToken("token is signed with a key the issuer does not publish")
        # The key's own algorithm decides, so a token cannot pick how a published key is used.
        if key.algorithm_name != alg:
            raise InvalidToken("token algorithm does not match its signing key")
        return key.key
