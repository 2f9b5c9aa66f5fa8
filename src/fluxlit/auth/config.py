"""JWTAuthConfig: what a bearer token must prove (issuer, audience, algorithm) and where its keys come from."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from jwt.algorithms import get_default_algorithms

from ..settings import FluxlitSettings, SettingsError

HMAC_MIN_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
"""RFC 7518 §3.2: an HMAC key at least as long as the hash output."""

NEW_SECRET_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"


@dataclass(frozen=True)
class JWTAuthConfig:
    """Expected ``iss`` and ``aud``, accepted algorithms, and one key source: a JWKS URL or an HS256 secret."""

    issuer: str
    audience: str
    algorithms: Sequence[str] = ("RS256",)
    jwks_url: str | None = None
    hs256_secret: str | None = field(default=None, repr=False)
    leeway_seconds: int = 0

    def __post_init__(self) -> None:
        # A lone "RS256" would otherwise become the algorithms "R", "S", "2", ...
        algorithms = (self.algorithms,) if isinstance(self.algorithms, str) else tuple(self.algorithms)
        object.__setattr__(self, "algorithms", algorithms)
        if not self.issuer:
            raise ValueError("JWTAuthConfig needs issuer: the `iss` value your identity provider writes into tokens")
        if not self.audience:
            raise ValueError("JWTAuthConfig needs audience: the `aud` value tokens for this API carry")
        if not self.jwks_url and not self.hs256_secret:
            raise ValueError(
                "JWTAuthConfig needs a key source: jwks_url (tokens from an identity provider) "
                "or hs256_secret (HS256 tokens this app mints)"
            )
        if self.jwks_url and self.hs256_secret:
            raise ValueError("JWTAuthConfig takes jwks_url or hs256_secret, not both")
        if self.leeway_seconds < 0:
            raise ValueError(f"leeway_seconds must be 0 or more, got {self.leeway_seconds}")
        check_algorithms(self.algorithms, symmetric=bool(self.hs256_secret))
        if self.hs256_secret:
            check_secret(self.hs256_secret, self.algorithms)
        elif self.jwks_url and urlsplit(self.jwks_url).scheme not in ("http", "https"):
            raise ValueError(f"jwks_url must be an http:// or https:// URL, got {self.jwks_url!r}")


def check_algorithms(algorithms: Sequence[str], *, symmetric: bool) -> None:
    """Refuse algorithm lists that are empty, unknown, unsigned, or that mix up secrets and public keys."""
    if not algorithms:
        raise ValueError("algorithms must name at least one signing algorithm, e.g. ('RS256',)")
    known = get_default_algorithms()
    for alg in algorithms:
        if alg.lower() == "none":
            raise ValueError("algorithm 'none' is never accepted: an unsigned token proves nothing")
        if alg not in known:
            raise ValueError(f"unknown signing algorithm {alg!r}; PyJWT knows {', '.join(sorted(a for a in known if a != 'none'))}")
        if alg in HMAC_MIN_SECRET_BYTES and not symmetric:
            raise ValueError(f"{alg} needs hs256_secret: keys from a JWKS are public and must never serve as HMAC secrets")
        if alg not in HMAC_MIN_SECRET_BYTES and symmetric:
            raise ValueError(
                f"hs256_secret verifies HMAC tokens only, not {alg}: pass algorithms=('HS256',), or use jwks_url for {alg}"
            )


def check_secret(secret: str, algorithms: Sequence[str]) -> None:
    """Refuse an HMAC secret shorter than the strongest algorithm's hash."""
    needed = max(HMAC_MIN_SECRET_BYTES.get(alg, 0) for alg in algorithms)
    length = len(secret.encode())
    if length < needed:
        raise ValueError(f"hs256_secret is {length} bytes; {'/'.join(algorithms)} needs at least {needed} (RFC 7518 §3.2): {NEW_SECRET_HINT}")


def config_from_settings(settings: FluxlitSettings) -> JWTAuthConfig:
    """The config the ``FLUXLIT_JWT_*`` settings describe; with only a secret set, algorithms default to HS256."""
    unset = [name for name in ("jwt_issuer", "jwt_audience") if not getattr(settings, name)]
    if unset:
        raise SettingsError(f"JWT bearer auth needs FLUXLIT_JWT_ISSUER and FLUXLIT_JWT_AUDIENCE; unset: {', '.join('FLUXLIT_' + n.upper() for n in unset)}")
    if bool(settings.jwt_jwks_url) == bool(settings.jwt_hs256_secret):
        state = "both are set, keep one" if settings.jwt_jwks_url else "neither is set"
        raise SettingsError(
            "JWT bearer auth needs FLUXLIT_JWT_JWKS_URL (tokens from an identity provider) "
            f"or FLUXLIT_JWT_HS256_SECRET (tokens this app mints); {state}"
        )
    algorithms = settings.jwt_algorithms
    if settings.jwt_hs256_secret and "jwt_algorithms" not in settings.model_fields_set:
        algorithms = ["HS256"]
    try:
        return JWTAuthConfig(
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            algorithms=algorithms,
            jwks_url=settings.jwt_jwks_url or None,
            hs256_secret=settings.jwt_hs256_secret or None,
            leeway_seconds=settings.jwt_leeway_seconds,
        )
    except ValueError as exc:
        raise SettingsError(f"invalid FLUXLIT_JWT_* settings: {exc}") from None
