"""StandardClaims: the verified claims of a bearer token, registered ones typed and the rest kept."""

from typing import Any

from pydantic import BaseModel, ConfigDict


class StandardClaims(BaseModel):
    """Registered JWT claims plus ``scope``; any other claim is an attribute too (``claims.roles``) and is in ``model_extra``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    sub: str | None = None
    iss: str | None = None
    aud: str | list[str] | None = None
    exp: int | float | None = None
    iat: int | float | None = None
    nbf: int | float | None = None
    jti: str | None = None
    scope: str | list[str] | None = None

    def claim(self, name: str) -> Any:
        """The claim called ``name`` (registered or extra), or ``None`` when the token has none."""
        if name in type(self).model_fields:
            return getattr(self, name)
        return (self.model_extra or {}).get(name)

    def words(self, name: str) -> frozenset[str]:
        """A claim read as a set of words: a space-separated string or a list of strings; empty otherwise."""
        value = self.claim(name)
        if isinstance(value, str):
            return frozenset(value.split())
        if isinstance(value, list):
            return frozenset(item for item in value if isinstance(item, str))
        return frozenset()
