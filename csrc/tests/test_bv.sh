#!/bin/sh
# Builds csrc/tests/test_bv.c (the batch verifier, issue 10) with the core's keccak.c and
# secp.c, once optimised and once under AddressSanitizer + UndefinedBehaviorSanitizer (every
# report fatal), and runs both against the libsecp256k1 of the installed coincurve.
#
#   sh csrc/tests/test_bv.sh [rounds] [seed]     PYTHON (default python3) must import coincurve.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
csrc=$(dirname "$here")
PY=${PYTHON:-python3}
CC=${CC:-gcc}
rounds=${1:-40}
seed=${2:-0}
lib=$("$PY" -c 'import coincurve._libsecp256k1 as m; print(m.__file__)')
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT INT TERM
srcs="$here/test_bv.c $csrc/keccak.c $csrc/secp.c"
warn="-std=c11 -Wall -Wextra -Wno-comment -I$csrc"
# shellcheck disable=SC2086
$CC -O2 $warn -rdynamic -o "$build/test_bv" $srcs -ldl
"$build/test_bv" "$lib" "$rounds" "$seed"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# shellcheck disable=SC2086
$CC -O1 -g $warn $san -rdynamic -o "$build/test_bv_san" $srcs -ldl
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$build/test_bv_san" "$lib" "$(( (rounds + 3) / 4 ))" "$seed"
