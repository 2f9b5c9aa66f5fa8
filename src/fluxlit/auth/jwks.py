"""JWKSKeys: an issuer's published signing keys, fetched on first use and cached, with bounded refetches."""

import logging
import math
import threading
import time

import httpx
from jwt import PyJWK, PyJWKSet, PyJWTError

from ..settings import redact_value

log = logging.getLogger("fluxlit.auth")


class SigningKeysUnavailable(RuntimeError):
    """No signing keys could be fetched from the JWKS URL; the message names it and the last failure."""

    def __init__(self, message: str, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class JWKSKeys:
    """Signing keys from a JWKS URL, looked up by ``kid``.

    The set is fetched on first use and again once it is ``max_age_seconds`` old (the old keys keep
    serving while one thread refreshes, and when that fetch fails). A ``kid`` that is not in the set
    forces a refetch, at most once per ``refetch_interval_seconds``, so tokens with made-up ``kid``
    values cannot make this process hammer the issuer. A failed fetch is retried after the same interval.
    """

    def __init__(
        self,
        url: str,
        *,
        max_age_seconds: float = 300.0,
        refetch_interval_seconds: float = 30.0,
        timeout_seconds: float = 10.0,
    ) -> None:
        if max_age_seconds <= 0 or refetch_interval_seconds < 0 or timeout_seconds <= 0:
            raise ValueError(
                "JWKS max age and timeout must be more than 0 s and the refetch interval 0 s or more, got "
                f"max_age_seconds={max_age_seconds}, refetch_interval_seconds={refetch_interval_seconds}, timeout_seconds={timeout_seconds}"
            )
        self.url = url
        self.max_age_seconds = max_age_seconds
        self.refetch_interval_seconds = refetch_interval_seconds
        self.timeout_seconds = timeout_seconds
        self._keys: dict[str, PyJWK] = {}
        self._refresh_at = -math.inf
        self._refetch_allowed_at = -math.inf
        self._last_failure = ""
        self._lock = threading.Lock()

    def signing_key(self, kid: str) -> PyJWK | None:
        """The published key named ``kid``, or ``None``; blocks while fetching, so call it from a worker thread."""
        if time.monotonic() >= self._refresh_at:
            # Only callers that have no keys at all wait for a running fetch; the rest use the keys they have.
            self._refresh(wait=not self._keys)
        if not self._keys:
            raise SigningKeysUnavailable(
                f"no signing keys from {redact_value('url', self.url)}: {self._last_failure}; "
                f"the next attempt is at most {self.refetch_interval_seconds:g} s away",
                self.refetch_interval_seconds,
            )
        if kid not in self._keys and time.monotonic() >= self._refetch_allowed_at:
            self._refetch_for(kid)
        return self._keys.get(kid)

    def _refresh(self, *, wait: bool) -> None:
        if not self._lock.acquire(blocking=wait):
            return
        try:
            if time.monotonic() >= self._refresh_at:
                self._fetch()
        finally:
            self._lock.release()

    def _refetch_for(self, kid: str) -> None:
        with self._lock:
            now = time.monotonic()
            if kid in self._keys or now < self._refetch_allowed_at:
                return
            self._refetch_allowed_at = now + self.refetch_interval_seconds
            self._fetch()

    def _fetch(self) -> None:
        started = time.monotonic()
        try:
            keys = self._download()
        except (httpx.HTTPError, ValueError, PyJWTError) as exc:
            self._last_failure = f"{type(exc).__name__}: {exc}"
            self._refresh_at = started + self.refetch_interval_seconds
            log.warning(
                "could not fetch signing keys from %s (%s); keeping %d known key(s)",
                redact_value("url", self.url),
                self._last_failure,
                len(self._keys),
            )
            return
        self._keys = keys
        self._refresh_at = started + self.max_age_seconds
        log.info("fetched %d signing key(s) from %s", len(keys), redact_value("url", self.url))

    def _download(self) -> dict[str, PyJWK]:
        response = httpx.get(self.url, timeout=self.timeout_seconds, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("the JWKS is not a JSON object")
        keys = {
            key.key_id: key
            for key in PyJWKSet.from_dict(document).keys
            if key.key_id and key.public_key_use in ("sig", None)
        }
        if not keys:
            raise ValueError("the JWKS holds no signing key with a kid")
        return keys
