"""What Windows gets, checked here without Windows: the package imports without POSIX-only modules
(``uvicorn app:app`` works), and the serving commands refuse with one line naming what works."""

import subprocess
import sys
import textwrap

import pytest

POSIX_ONLY = ("resource", "fcntl", "termios", "pwd", "grp", "uvloop")


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, check=False)


def test_the_asgi_app_needs_no_posix_only_module() -> None:
    result = python(
        f"""
        import sys
        for name in {POSIX_ONLY!r}:
            sys.modules[name] = None  # importing it now raises ImportError, as on Windows
        import fluxlit.cli, fluxlit.runtime.server
        from fluxlit import FluxLit
        from fluxlit.runtime.server import raise_open_file_limit
        from fluxlit.testing import FluxLitTestClient
        raise_open_file_limit()
        app = FluxLit(title="Windows")
        app.api.get("/hello")(lambda: {{"hello": "windows"}})
        print(FluxLitTestClient(app).api.get("/api/hello").json()["hello"])
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "windows"


@pytest.mark.parametrize("command", ["run", "dev", "workbench", "shutdown"])
def test_serving_commands_on_windows_refuse_in_one_line(command: str) -> None:
    result = python(
        f"""
        import sys
        from fluxlit.cli import main
        sys.platform = "win32"
        sys.argv = ["fluxlit", {command!r}]
        main()
        """
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"fluxlit: `fluxlit {command}` needs Linux or macOS; on Windows serve the app with `uvicorn app:app` (the ASGI lane) or run fluxlit in WSL 2"
    ]
