"""The FluxLit object as a plain ASGI app, called by an ASGI client that never runs the lifespan."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from fluxlit import FluxLit

pytestmark = pytest.mark.integration


def call(app: FluxLit, path: str) -> httpx.Response:
    """GET through httpx's ASGI transport, which sends no lifespan events."""

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            return await client.get(path)

    # A thread of its own: the session's Playwright fixture may own this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def test_api_and_probes_work_and_readiness_says_not_configured() -> None:
    app = FluxLit(title="bare")

    @app.api.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    assert call(app, "/api/ping").json() == {"pong": "yes"}
    assert call(app, "/api/healthz").json() == {"status": "ok"}
    ready = call(app, "/api/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "streamlit": "not_configured"}
    page = call(app, "/")
    assert page.status_code == 502 and "no Streamlit upstream is configured" in page.text
