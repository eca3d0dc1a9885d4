#!/usr/bin/env bash
# Build the extension with AddressSanitizer and UndefinedBehaviorSanitizer (gcc) and run
# the whole test suite plus the fuzz corpus under them.  Any report fails the run.
#
#   bash tools/sanitize.sh            # needs gcc with libasan/libubsan (Debian: gcc)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python="${PYTHON:-python3}"

# Build from a copy: pip builds in the source tree's build/, and instrumented objects left
# there would be reused by the next ordinary `pip install .`.
mkdir "$work/src"
git -C "$repo" ls-files -z | (cd "$repo" && xargs -0 cp --parents -t "$work/src")
"$python" -m venv "$work/venv"
py="$work/venv/bin/python"
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
echo "== building with: $flags"
CFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined" \
    "$py" -m pip install --quiet --no-cache-dir "$work/src[test]" 2>&1 | grep -v "^WARNING: Location" || true

so="$("$py" -c 'import rlecodec._codec as c; print(c.__file__)' 2>/dev/null || true)"
if [ -z "$so" ] || ! grep -q "__asan_report" "$so" || ! grep -q "__ubsan_handle" "$so"; then
    # Importing needs the runtime preloaded; look for the instrumented build instead.
    so="$(find "$work/venv" -name '_codec*.so' | head -1)"
    grep -q "__asan_report" "$so" && grep -q "__ubsan_handle" "$so" \
        || { echo "the extension was not built with the sanitizers: $so"; exit 1; }
fi
echo "== instrumented: $so"

asan="$(gcc -print-file-name=libasan.so)"
ubsan="$(gcc -print-file-name=libubsan.so)"
cd "$work"
# Left out below: 2 GiB masks under ASan's shadow memory take minutes, not findings; and
# ASan's quarantine holds freed blocks back on purpose, so RSS grows under it whatever the
# code does (the RSS test runs in the ordinary build, in .ci/run).
# CPython itself leaks by design at exit: leak checking is for tools/leaks, not here.
# --capture=sys: a report is written to file descriptor 2 just before the process exits,
# and pytest's default capture of that descriptor would swallow it with the process.
LD_PRELOAD="$asan:$ubsan" RLECODEC_SANITIZERS=1 \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$py" -m pytest -q -p no:cacheprovider --capture=sys --rootdir "$repo" "$repo/tests" \
    -k "not test_large and not test_memory_stays_flat"
echo "== sanitizers: clean"
