#!/bin/sh
# Runs pm's Python fuzzers (and the thread and secret tests) against a copy of the C core built
# with -fsanitize=address,undefined, so every input Hypothesis generates also goes through
# AddressSanitizer/UBSan in the real cffi bindings, not only in the C harness (run.sh).
#
#   sh csrc/tests/run_python_asan.sh [pytest args...]
#   HYPOTHESIS_PROFILE=long sh csrc/tests/run_python_asan.sh      # long soak, sanitized core
#
# PYTHON (default python3) must have pm's dependencies installed. The sanitized extension and a
# copy of the pure-Python package go to a temporary directory put first on PYTHONPATH; the
# repository is not modified. libasan is preloaded because the interpreter is not instrumented;
# leak checking is off (CPython keeps memory until exit by design). Tests that load
# pycryptodome (through the CLI's command modules) are skipped: it dlopen()s with RTLD_DEEPBIND,
# which ASan cannot run. --capture=sys leaves fd 2 alone, so a sanitizer report is never swallowed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
csrc=$(dirname "$here")
root=$(dirname "$csrc")
PY=${PYTHON:-python3}
CC=${CC:-gcc}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# Build from a copy: cffi compiles the relative csrc/*.c paths inside its tmpdir ($work) and
# writes the extension to $work/pm/, which becomes the package directory.
cp -r "$csrc" "$work/csrc"
rm -rf "$work/csrc/tests"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
PM_CFLAGS="$san -O1 -g" PM_LDFLAGS="-fsanitize=address,undefined" CC="$CC" \
    "$PY" -c "import sys; sys.path.insert(0, sys.argv[1]); import build_native as b; \
b.ffibuilder.compile(tmpdir=sys.argv[2])" "$work/csrc" "$work" >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; exit 1; }

# The pure-Python package next to the sanitized extension (never the prebuilt _native).
(cd "$root/src/pm" && find . -type f \( -name '*.py' -o -name '*.pyi' -o -name '*.proto' \
    -o -name 'py.typed' \) | while read -r f; do
    mkdir -p "$work/pm/$(dirname "$f")"
    cp "$f" "$work/pm/$f"
done)

asan=$($CC -print-file-name=libasan.so)
cd "$root"
PYTHONPATH="$work${PYTHONPATH:+:$PYTHONPATH}" \
LD_PRELOAD="$asan${LD_PRELOAD:+:$LD_PRELOAD}" \
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:detect_stack_use_after_return=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$PY" -c "import pm._native, sys; print('sanitized core:', pm._native.__file__); \
sys.exit(0 if pm._native.__file__.startswith(sys.argv[1]) else 1)" "$work"
PYTHONPATH="$work${PYTHONPATH:+:$PYTHONPATH}" \
LD_PRELOAD="$asan${LD_PRELOAD:+:$LD_PRELOAD}" \
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:detect_stack_use_after_return=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$PY" -m pytest -q -p no:cacheprovider --capture=sys \
    tests/test_fuzz_core.py tests/test_fuzz_wire.py tests/test_fuzz_roles.py \
    tests/test_fuzz_signer.py tests/test_threads.py tests/test_secrets.py \
    -k "not signer_command and not decode_cli" "$@"
