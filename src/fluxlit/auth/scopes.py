"""RequireScopes and RequireRoles: dependencies that answer 403 unless the bearer's token grants every listed value."""

import re

from fastapi import HTTPException
from fastapi.security.base import SecurityBase
from starlette.requests import HTTPConnection

from .bearer import JWTBearer, challenge
from .claims import StandardClaims

# RFC 6749 §3.3 scope-token: printable ASCII without space, '"' or '\', so it can be quoted in WWW-Authenticate.
WORD = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def _checked(kind: str, words: tuple[str, ...]) -> tuple[str, ...]:
    if not words:
        raise ValueError(f"name at least one {kind}, e.g. Require{kind.title()}s('reader', bearer=bearer)")
    for word in words:
        if not isinstance(word, str) or not WORD.fullmatch(word):
            raise ValueError(f"{word!r} is not a valid {kind}: use printable ASCII without spaces, quotes or backslashes")
    return words


class _ClaimGuard(SecurityBase):
    """The bearer's claims, refused with 403 unless one claim holds every required word."""

    def __init__(self, kind: str, required: tuple[str, ...], claim: str, bearer: JWTBearer, www_authenticate: str) -> None:
        self.kind = kind
        self.required = required
        self.claim = claim
        self.bearer = bearer
        self.www_authenticate = www_authenticate
        # The bearer's OpenAPI security scheme, so the docs show these routes as protected by it.
        self.model = bearer.model
        self.scheme_name = bearer.scheme_name

    async def __call__(self, request: HTTPConnection) -> StandardClaims:
        claims = await self.bearer(request)
        granted = claims.words(self.claim)
        missing = [word for word in self.required if word not in granted]
        if missing:
            raise HTTPException(403, f"token lacks {self.kind}(s): {' '.join(missing)}", {"WWW-Authenticate": self.www_authenticate})
        return claims


class RequireScopes(_ClaimGuard):
    """``Depends(RequireScopes("read", bearer=bearer))``: the claims, or 403 unless the token has every scope.

    The scope claim may be a space-separated string (RFC 8693) or a list of strings.
    """

    def __init__(self, *scopes: str, bearer: JWTBearer, scope_claim: str = "scope") -> None:
        scopes = _checked("scope", scopes)
        super().__init__("scope", scopes, scope_claim, bearer, challenge(error="insufficient_scope", scope=" ".join(scopes)))


class RequireRoles(_ClaimGuard):
    """``Depends(RequireRoles("admin", bearer=bearer))``: the claims, or 403 unless the token has every role."""

    def __init__(self, *roles: str, bearer: JWTBearer, roles_claim: str = "roles") -> None:
        roles = _checked("role", roles)
        description = f"requires role(s): {' '.join(roles)}"
        super().__init__("role", roles, roles_claim, bearer, challenge(error="insufficient_scope", error_description=description))
