"""cffi build module for ``pm._native`` (out-of-line API mode).

``csrc/pm.h`` is the single source of truth for the C API: the text between its
``CDEF-BEGIN``/``CDEF-END`` markers is handed to ``ffi.cdef`` and the same header is
included by every C file, which are all the ``csrc/*.c`` files. Nothing is downloaded or
linked: libsecp256k1 is reached at run time through pointers from the coincurve wheel.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cffi import FFI

CSRC = Path(__file__).resolve().parent


def cdef_text(header: str) -> str:
    """Return the declarations between every CDEF-BEGIN/CDEF-END pair of ``header``."""
    blocks = re.findall(r"/\* CDEF-BEGIN \*/(.*?)/\* CDEF-END \*/", header, flags=re.S)
    if not blocks:
        raise RuntimeError("csrc/pm.h has no CDEF-BEGIN/CDEF-END block")
    return "\n".join(blocks)


def _sources() -> list[str]:
    # Paths relative to the project root, where setuptools runs the build.
    root = CSRC.parent
    return sorted(str(p.relative_to(root)) for p in CSRC.glob("*.c"))


def _extra_compile_args() -> list[str]:
    args = ["-O2", "-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"]
    # PM_CFLAGS lets the sanitizer test build the same core with -fsanitize=... flags.
    args += os.environ.get("PM_CFLAGS", "").split()
    return args


ffibuilder = FFI()
ffibuilder.cdef(cdef_text((CSRC / "pm.h").read_text()))
ffibuilder.set_source(
    "pm._native",
    '#include "pm.h"\n',
    sources=_sources(),
    include_dirs=[str(CSRC.relative_to(CSRC.parent))],
    extra_compile_args=_extra_compile_args(),
    extra_link_args=os.environ.get("PM_LDFLAGS", "").split(),
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
