"""Where a request goes: the in-process API, a probe, or the Streamlit proxy."""

from dataclasses import dataclass
from enum import Enum


class Dispatch(str, Enum):
    """The destination class of a request."""

    API = "api"
    HEALTHZ = "healthz"
    READYZ = "readyz"
    STREAMLIT = "streamlit"
    REFUSED = "refused"
    """A path that means another one once normalised: answered 400, never routed."""


PROBES = {"/healthz": Dispatch.HEALTHZ, "/readyz": Dispatch.READYZ}


@dataclass(frozen=True, slots=True)
class Route:
    """A routing decision.

    For the API, ``path``/``raw_path``/``root_path`` form the ASGI scope FastAPI sees (full path with
    ``root_path`` = public prefix + mount, so routes match mount-relative). For Streamlit, ``raw_path``
    is the upstream request target path exactly as received, with the root path restored when an edge
    proxy stripped it.
    """

    dispatch: Dispatch
    path: str
    raw_path: bytes
    root_path: str = ""
    reason: str = ""
    """Why a ``REFUSED`` path is refused."""


def under_prefix(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or below it (``/api`` covers ``/api/x``, not ``/apix``)."""
    return path == prefix or path.startswith(prefix + "/")


def _strip_raw(raw: bytes, prefix: str, rest: str) -> bytes:
    # The raw target normally starts with the prefix byte for byte; if a client percent-encoded
    # part of the prefix, fall back to the decoded remainder.
    encoded = prefix.encode()
    return raw[len(encoded) :] if raw.startswith(encoded) else rest.encode()


@dataclass(frozen=True, slots=True)
class Router:
    """Routes by ``root_path`` (public subpath, may be empty) and ``api_mount`` (``/api``).

    Both edge styles work: a proxy that passes the full path (``/apps/x/api/...``) and one that
    strips the prefix (``/api/...``).
    """

    root_path: str
    api_mount: str

    def route(self, path: str, raw_path: bytes | None) -> Route:
        """Classify one request path; ``raw_path`` is the undecoded target path when the server has it."""
        raw = raw_path if raw_path is not None else path.encode("utf-8")
        root = self.root_path
        if root and under_prefix(path, root):
            rel = path[len(root) :] or "/"
            raw_rel = _strip_raw(raw, root, rel)
        else:
            rel, raw_rel = path, raw
        if under_prefix(rel, self.api_mount):
            api_rel = rel[len(self.api_mount) :]
            probe = PROBES.get(api_rel)
            prefix = root + self.api_mount
            raw_api = _strip_raw(raw_rel, self.api_mount, api_rel)
            return Route(probe or Dispatch.API, prefix + api_rel, prefix.encode() + raw_api, prefix)
        return Route(Dispatch.STREAMLIT, root + rel, root.encode() + raw_rel)
