"""A real JWKS endpoint on loopback for bearer-token tests: publish RSA keys, rotate them, count fetches."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class SigningKey:
    """An RSA key pair with a ``kid``: signs tokens and describes its public half as a JWK."""

    def __init__(self, kid: str | None = None) -> None:
        self.kid = kid or uuid.uuid4().hex
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        """The public key as a JWK, as an issuer publishes it."""
        return {**RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True), "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        """An RS256 token over ``claims`` whose header names ``kid`` (default: this key's)."""
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": kid or self.kid})


def claims_for(issuer: str, audience: str, *, ttl_seconds: int = 300, **extra: Any) -> dict[str, Any]:
    """Claims of a token that is valid now for ``ttl_seconds`` (negative: expired that long ago)."""
    now = int(time.time())
    return {"sub": "user-1", "iss": issuer, "aud": audience, "iat": now, "exp": now + ttl_seconds, **extra}


class JWKSServer:
    """``with JWKSServer() as server:`` serves ``server.url`` from a loopback port until the block ends."""

    def __init__(self) -> None:
        self.keys: list[SigningKey] = []
        self.fetches = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="jwks-server", daemon=True)

    def publish(self, *keys: SigningKey) -> None:
        """Add ``keys`` to the set (a rotation publishes the new key next to the old one)."""
        with self._lock:
            self.keys.extend(keys)

    def _document(self) -> bytes:
        with self._lock:
            self.fetches += 1
            return json.dumps({"keys": [key.jwk() for key in self.keys]}).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/.well-known/jwks.json":
                    self.send_error(404)
                    return
                body = server._document()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output to what the tests print

        return Handler

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)
