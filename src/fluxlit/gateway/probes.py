"""Liveness and readiness answers (served by the gateway, so they never appear in OpenAPI)."""

import aiohttp

from .upstream import UPSTREAM_ERRORS, Upstream

READINESS_TIMEOUT_S = 2.0

LIVENESS = {"status": "ok"}


async def readiness(upstream: Upstream, root_path: str) -> tuple[int, dict[str, str]]:
    """200 when Streamlit answers 2xx on ``GET /``, 503 with the reason when it does not."""
    if not upstream.started:
        return 200, {"status": "ready", "streamlit": "not_configured"}
    if reason := upstream.unavailable_reason():
        return 503, {"status": "not_ready", "detail": reason}
    try:
        async with upstream.session.get(
            upstream.url((root_path + "/").encode()),
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=READINESS_TIMEOUT_S),
        ) as response:
            status = response.status
    except UPSTREAM_ERRORS as exc:
        return 503, {"status": "not_ready", "detail": upstream.unavailable_reason() or f"Streamlit did not answer ({type(exc).__name__})"}
    if 200 <= status < 300:
        return 200, {"status": "ready", "streamlit": "ok"}
    return 503, {"status": "not_ready", "detail": f"Streamlit answered {status} on GET /"}
