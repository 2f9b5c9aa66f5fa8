"""Build the optional Cython kernels; fall back to a pure package when they cannot build."""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

KERNELS = ["request_id", "body_limit", "ws_frames", "headers"]


def _enabled(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _release_flags() -> dict[str, list[str]]:
    """Kernels ship without debug info or a symbol table; FLUXLIT_DEBUG_KERNELS=1 keeps both (gdb, perf)."""
    if _enabled("FLUXLIT_DEBUG_KERNELS") or sys.platform == "win32":  # MSVC keeps debug info in .pdb files anyway
        return {}
    # Python's own CFLAGS carry -g; a later -g0 wins.
    flags = {"extra_compile_args": ["-g0"]}
    if sys.platform.startswith("linux"):
        flags["extra_link_args"] = ["-Wl,--strip-all"]
    return flags


def _extensions() -> list[Extension]:
    if _enabled("FLUXLIT_NO_EXTENSIONS"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("fluxlit: Cython is missing, installing the pure-Python package", file=sys.stderr)
        return []
    modules = [
        Extension(f"fluxlit._speedups._{name}_c", [f"src/fluxlit/_speedups/_{name}_c.pyx"], **_release_flags())
        for name in KERNELS
    ]
    # Generated C goes under build/, next to the other build products, not into the source tree.
    return cythonize(modules, compiler_directives={"language_level": "3"}, build_dir="build/cython", quiet=True)


class OptionalBuildExt(build_ext):
    """A kernel that fails to compile (no C compiler, missing headers) leaves the pure twin in charge."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure means "install pure"
            print(f"fluxlit: compiled kernels skipped ({exc}); the pure twins will be used", file=sys.stderr)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            print(f"fluxlit: {ext.name} not compiled ({exc}); its pure twin will be used", file=sys.stderr)


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
