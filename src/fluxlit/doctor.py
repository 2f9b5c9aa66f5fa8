"""``fluxlit doctor``: PASS/WARN/FAIL rows about the target, the environment and the settings."""

import os
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any, Literal

from packaging.requirements import Requirement

from .config_report import CheckResult, settings_checks
from .runtime.server import BindError, bind_socket
from .runtime.target import Target, TargetError, load_app, resolve_target
from .settings import FluxlitSettings, SettingsError, load_settings, redact_value

if TYPE_CHECKING:
    from .app import FluxLit

Status = Literal["PASS", "WARN", "FAIL"]
CORE_DEPENDENCIES = ("fastapi", "aiohttp", "uvicorn")


@dataclass(frozen=True)
class Row:
    """One doctor row: a stable id users grep for, a status and a one-line detail."""

    name: str
    status: Status
    detail: str


def _floor(distribution: str) -> Requirement | None:
    """FluxLit's declared requirement on ``distribution``."""
    for line in metadata.requires("fluxlit") or []:
        requirement = Requirement(line)
        if requirement.name.lower() == distribution and requirement.marker is None:
            return requirement
    return None


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def version_report(lane: str) -> str:
    """``fluxlit version``: one ``name version`` line per component, then the lane and the kernel twin."""
    import platform

    from ._speedups import IMPLEMENTATION

    lines = [f"fluxlit {_version('fluxlit') or 'not installed'}", f"python {platform.python_version()}"]
    lines += [f"{name} {_version(name) or 'not installed'}" for name in ("uvloop", "httptools", "streamlit", "fastapi")]
    return "\n".join([*lines, f"lane {lane}", f"kernels {IMPLEMENTATION}"])


def dependencies_row() -> Row:
    """The core runtime packages are installed and new enough."""
    found, problems = [], []
    for name in (*CORE_DEPENDENCIES, "streamlit"):
        version = _version(name)
        requirement = _floor(name)
        if version is None:
            problems.append(f"{name} is not installed")
        elif requirement is not None and name != "streamlit" and not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{name} {version} does not satisfy {requirement}")
        found.append(f"{name} {version or 'missing'}")
    if problems:
        return Row("dependencies", "FAIL", "; ".join(problems) + "; reinstall with pip install -U fluxlit")
    return Row("dependencies", "PASS", ", ".join(found))


def streamlit_row() -> Row:
    """Streamlit is at least the version FluxLit declares (``st.navigation`` pages)."""
    version = _version("streamlit")
    requirement = _floor("streamlit")
    if version is None:
        return Row("streamlit_version", "FAIL", "streamlit is not installed; pip install -U fluxlit")
    if requirement is not None and not requirement.specifier.contains(version, prereleases=True):
        return Row("streamlit_version", "FAIL", f"streamlit {version} is older than {requirement}; pip install -U streamlit")
    return Row("streamlit_version", "PASS", f"streamlit {version} ({requirement or 'no floor declared'})")


AUTH_SETTINGS = ("jwt_issuer", "jwt_jwks_url", "jwt_hs256_secret", "oidc_issuer", "oidc_client_id", "oidc_bff_secret")
ALLOWED_SKEW_S = 5.0


def auth_rows(settings: FluxlitSettings) -> list[Row]:
    """The auth extra when auth is configured; the issuer answering; the clock agreeing with it."""
    configured = [f"FLUXLIT_{name.upper()}" for name in AUTH_SETTINGS if getattr(settings, name)]
    version = _version("pyjwt")
    if not configured:
        detail = f"pyjwt {version} installed" if version else "pyjwt not installed; needed only for JWT/OIDC auth (pip install 'fluxlit[auth]')"
        return [Row("fluxlit_auth_extra", "PASS", detail)]
    if version is None:
        return [Row("fluxlit_auth_extra", "FAIL", f"{', '.join(configured)} set, but the auth extra is missing: pip install 'fluxlit[auth]'")]
    rows = [Row("fluxlit_auth_extra", "PASS", f"pyjwt {version}; auth configured by {', '.join(configured)}")]
    url = settings.jwt_jwks_url or (settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration" if settings.oidc_issuer else "")
    if url:
        rows += issuer_rows(url, settings.jwt_leeway_seconds)
    return rows


def issuer_rows(url: str, leeway_s: float) -> list[Row]:
    """Fetch the issuer's keys or discovery document; compare its clock (``Date``) with ours."""
    import email.utils
    import time

    import httpx

    shown = redact_value("jwks_url", url)
    try:
        response = httpx.get(url, timeout=5.0)
    except httpx.HTTPError as exc:
        return [Row("auth_issuer_reachable", "FAIL", f"{shown} did not answer ({type(exc).__name__}: {exc}); check the URL and the network")]
    if response.status_code != 200:
        return [Row("auth_issuer_reachable", "FAIL", f"{shown} answered {response.status_code}; check the URL")]
    rows = [Row("auth_issuer_reachable", "PASS", f"{shown} answered 200")]
    date = response.headers.get("date")
    if not date:
        return [*rows, Row("jwt_clock_skew", "WARN", f"{shown} sent no Date header; the clock skew could not be checked")]
    skew = time.time() - email.utils.parsedate_to_datetime(date).timestamp()
    allowed = max(ALLOWED_SKEW_S, float(leeway_s))
    if abs(skew) > allowed:
        detail = f"this clock is {skew:+.0f} s off the issuer's, beyond {allowed:.0f} s: tokens may be refused; sync the clock (NTP) or raise FLUXLIT_JWT_LEEWAY_SECONDS"
        return [*rows, Row("jwt_clock_skew", "WARN", detail)]
    return [*rows, Row("jwt_clock_skew", "PASS", f"{skew:+.1f} s from the issuer's clock (allowed {allowed:.0f} s)")]


def kernels_row() -> Row:
    """Which twin of the hot-path kernels is loaded."""
    from ._speedups import IMPLEMENTATION, PURE_PYTHON_ENV, pure_python_requested

    if IMPLEMENTATION == "compiled":
        return Row("compiled_kernels", "PASS", "compiled kernels loaded")
    if pure_python_requested(os.environ.get(PURE_PYTHON_ENV)):
        return Row("compiled_kernels", "PASS", f"pure-Python kernels, as {PURE_PYTHON_ENV} requests")
    return Row(
        "compiled_kernels",
        "WARN",
        "compiled kernels are not built, so the pure-Python twins run (same behaviour, slower); "
        f"install a prebuilt wheel or rebuild with a C compiler, or set {PURE_PYTHON_ENV}=1 to acknowledge",
    )


def lane_row(settings: FluxlitSettings) -> Row:
    """How ``fluxlit run`` moves proxied traffic (``--lane`` / ``FLUXLIT_GATEWAY_LANE``)."""
    if settings.gateway_lane == "fast":
        return Row("gateway_lane", "PASS", "fast: proxied HTTP and WebSockets are spliced by the edge (FLUXLIT_GATEWAY_LANE=fast)")
    return Row("gateway_lane", "PASS", "asgi: proxied traffic goes through ASGI and aiohttp (FLUXLIT_GATEWAY_LANE=asgi; fast is quicker)")


def import_row(spec: str | None) -> tuple[Row, "FluxLit | None", str]:
    """Import the target; also returns the app (when it loaded) and the target as resolved."""
    target: Target | None = None
    try:
        target = resolve_target(spec)
        app = load_app(target)
    except (TargetError, SettingsError) as exc:
        return Row("import_target", "FAIL", str(exc)), None, str(target or spec or "")
    pages = sum(1 for _ in app.pages)
    file = getattr(sys.modules.get(target.module), "__file__", target.app_dir)
    return Row("import_target", "PASS", f"{target} from {file} ({pages} pages)"), app, str(target)


def pages_rows(app: "FluxLit") -> list[Row]:
    """``--check-pages``: every page's parameters resolved, and the async dependencies named."""
    from .pages.plan import Call, Source, callable_name

    described, asynchronous = [], set()
    for spec in app.pages:
        parts = [
            f"{d['name']}←{d['key']}()" if d["source"] == "depends" else f"{d['name']}←{d['source']}" + (f" {d['key']}" if d["key"] else "")
            for d in spec.plan.describe()
        ]
        described.append(f"{spec.path} ({', '.join(parts) or 'no parameters'})")
        asynchronous |= {callable_name(d.call) for d in spec.plan.dependencies() if d.kind in (Call.ASYNC, Call.ASYNC_GENERATOR)}
    rows = [Row("pages_validate", "PASS" if described else "WARN", "; ".join(described) or "the app has no pages; add one with @app.page('/')")]
    dropped = {
        f"{p.key} ({spec.path})": reason
        for spec in app.pages
        for plan in (spec.plan, *spec.plan.dependencies())
        for p in plan.params
        if p.source is Source.HEADER and (reason := app.header_refusal(p.key)) is not None
    }
    if dropped:
        rows.append(Row("page_headers", "WARN", "; ".join(f"header {name} never reaches the page: {why}" for name, why in dropped.items())))
    if asynchronous:
        detail = f"{', '.join(sorted(asynchronous))} run on FluxLit's page event loop thread: they may await, but must not draw with st.*"
    else:
        detail = "no async page dependencies"
    return [*rows, Row("async_depends_streamlit", "PASS", detail)]


def page_overrides_row(settings: FluxlitSettings) -> Row | None:
    """``FLUXLIT_TEST_PAGE_OVERRIDES``: fakes replace real page dependencies (meant for browser tests only)."""
    if not settings.test_page_overrides:
        return None
    from .pages.navigation import env_overrides
    from .pages.plan import PageError

    try:
        env_overrides(tuple(settings.test_page_overrides.items()))
    except PageError as exc:
        return Row("test_page_overrides", "FAIL", str(exc))
    pairs = ", ".join(f"{name} -> {fake}" for name, fake in settings.test_page_overrides.items())
    return Row("test_page_overrides", "WARN", f"page dependencies are replaced by fakes ({pairs}); unset FLUXLIT_TEST_PAGE_OVERRIDES outside tests")


def bind_row(settings: FluxlitSettings) -> Row:
    """The gateway address can be bound right now."""
    address = f"{settings.gateway_host}:{settings.gateway_port}"
    try:
        bind_socket(settings.gateway_host, settings.gateway_port).close()
    except BindError as exc:
        if "already in use" in str(exc):
            return Row("gateway_bind", "WARN", f"{exc} (fine if this app is already running there)")
        return Row("gateway_bind", "FAIL", str(exc))
    return Row("gateway_bind", "PASS", f"{address} is free")


def settings_row(result: CheckResult, *, strict: bool) -> Row:
    """A shared settings check as a doctor row: errors FAIL, warnings WARN (FAIL when strict and the check allows)."""
    if not result.findings:
        return Row(result.name, "PASS", result.detail)
    detail = "; ".join(f.message for f in result.findings)
    failed = any(f.level == "error" for f in result.findings) or (strict and result.strict)
    return Row(result.name, "FAIL" if failed else "WARN", detail)


def diagnose(spec: str | None, *, strict: bool = False, check_pages: bool = False) -> tuple[str, list[Row]]:
    """Run every check; returns the resolved target and the rows in report order."""
    rows = [dependencies_row(), streamlit_row()]
    try:
        settings = load_settings()
    except SettingsError as exc:
        return spec or "", [*rows, Row("settings", "FAIL", str(exc)), kernels_row()]
    import_result, app, target = import_row(spec)
    effective = app.settings if app is not None else settings
    rows += [import_result, bind_row(effective)]
    if check_pages and app is not None:
        rows += pages_rows(app)
    if (overrides := page_overrides_row(effective)) is not None:
        rows.append(overrides)
    rows += [settings_row(result, strict=strict) for result in settings_checks(effective)]
    rows += [*auth_rows(effective), lane_row(effective), kernels_row()]
    return target, rows


def overall(rows: list[Row]) -> str:
    """``fail`` if any row failed, else ``warn`` if any warned, else ``pass``."""
    statuses = {row.status for row in rows}
    return "fail" if "FAIL" in statuses else "warn" if "WARN" in statuses else "pass"


def payload(target: str, rows: list[Row], shown: list[Row]) -> dict[str, Any]:
    """What ``fluxlit doctor --json`` prints (``status`` covers every row, ``checks`` the shown ones)."""
    return {"status": overall(rows), "target": target, "checks": [asdict(row) for row in shown]}


def render(rows: list[Row], all_rows: list[Row]) -> str:
    """The table form, with a summary line."""
    width = max((len(row.name) for row in rows), default=4)
    lines = [f"{row.name:<{width}}  {row.status}  {row.detail}" for row in rows]
    counts = {status: sum(row.status == status for row in all_rows) for status in ("PASS", "WARN", "FAIL")}
    lines.append(f"doctor: {counts['PASS']} PASS, {counts['WARN']} WARN, {counts['FAIL']} FAIL")
    return "\n".join(lines)
