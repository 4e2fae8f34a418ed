#!/bin/sh
# Builds pm's C core together with csrc/tests/test_core.c twice and runs it against the
# libsecp256k1 of the installed coincurve, the same library pm uses at run time:
#   1. AddressSanitizer + UndefinedBehaviorSanitizer (every report fatal, leaks checked);
#   2. ThreadSanitizer (every report fatal), where test_threads drives the core from 8 threads.
#
#   sh csrc/tests/run.sh [seed]        PYTHON (default python3) must be able to import coincurve;
#                                      CC defaults to gcc (clang works too).
#   PM_SANITIZERS="asan" sh csrc/tests/run.sh     only the first build ("asan tsan" by default).
#
# Optional batch-verification sources (csrc/bv_*.c) are compiled in when they compile; a core
# file that does not compile is a failure.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
csrc=$(dirname "$here")
PY=${PYTHON:-python3}
CC=${CC:-gcc}

lib=$("$PY" -c 'import coincurve._libsecp256k1 as m; print(m.__file__)')
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT INT TERM

# build_and_run NAME "SANITIZER FLAGS" ARGS...: compiles everything into $build/NAME and runs it.
build_and_run() {
    name=$1
    san=$2
    shift 2
    out="$build/$name"
    mkdir -p "$out"
    cflags="-std=c11 -O1 -g -Wall -Wextra -Wno-comment -fno-omit-frame-pointer $san -I$csrc"
    objs=""
    have_bv=0
    for src in "$csrc"/*.c; do
        base=$(basename "$src" .c)
        obj="$out/$base.o"
        case "$base" in
        bv_*)
            if ! $CC $cflags -c "$src" -o "$obj" 2>"$out/$base.log"; then
                echo "csrc/tests: skipping $base.c (does not compile yet):" >&2
                sed 's/^/    /' "$out/$base.log" >&2
                continue
            fi
            have_bv=1
            ;;
        *)
            $CC $cflags -c "$src" -o "$obj"
            ;;
        esac
        objs="$objs $obj"
    done
    # The harness drives the pm_bv_* entry points of pm.h only when their sources compiled.
    harness_flags=""
    if [ "$have_bv" = 1 ] && grep -q "pm_bv_validate_tickets" "$csrc/pm.h"; then
        harness_flags="-DPM_TEST_HAVE_BV"
    fi
    # shellcheck disable=SC2086
    $CC $cflags $harness_flags -c "$here/test_core.c" -o "$out/test_core.o"
    # -rdynamic exports the harness's stand-in for libpython's _Py_NoneStruct to the dlopen()ed
    # cffi extension (see test_core.c).
    # shellcheck disable=SC2086
    $CC $san -rdynamic -pthread -o "$out/test_core" $objs "$out/test_core.o" -ldl
    echo "csrc/tests: == $name"
    "$out/test_core" "$lib" "$@"
}

for s in ${PM_SANITIZERS:-asan tsan}; do
    case "$s" in
    asan)
        ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
            build_and_run asan "-fsanitize=address,undefined -fno-sanitize-recover=all" "$@"
        ;;
    tsan)
        TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
            build_and_run tsan "-fsanitize=thread" "$@"
        ;;
    *)
        echo "csrc/tests: unknown sanitizer '$s' (use asan, tsan)" >&2
        exit 2
        ;;
    esac
done
