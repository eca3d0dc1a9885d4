#!/usr/bin/env bash
# Run .ci/run (build, lint, types, stubs, fuzz replay, tests; the release checks once) on
# every CPython from 3.10 up found on this machine, the oldest of them with the oldest
# numpy pyproject.toml allows, and print one line per version.  Exit 1 if any fails.
#
#   bash tools/check_pythons.sh            # logs in $TMPDIR/check_pythons.*/<version>.log
#
# Pythons are found as python3.X on the PATH (a working one, not a pyenv shim that only
# names other versions) or under `pyenv root`/versions/3.X.*.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
logs="$(mktemp -d "${TMPDIR:-/tmp}/check_pythons.XXXXXX")"
oldest_numpy="$(sed -n 's/.*"numpy>=\([0-9.]*\)".*/\1/p' "$repo/pyproject.toml" | head -1)"

find_python() {  # find_python 10 -> the path of a working python3.10, or nothing
    local minor="$1" candidate root
    candidate="$(command -v "python3.$minor" 2>/dev/null || true)"
    if [ -n "$candidate" ] && "$candidate" -c 'import sys' >/dev/null 2>&1; then
        echo "$candidate"; return
    fi
    root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
    for candidate in $(ls -d "$root"/versions/3."$minor".* 2>/dev/null | sort -V -r); do
        if [ -x "$candidate/bin/python" ] && "$candidate/bin/python" -c 'import sys' 2>/dev/null; then
            echo "$candidate/bin/python"; return
        fi
    done
}

pythons=()
for minor in $(seq 10 20); do
    py="$(find_python "$minor")"
    [ -n "$py" ] && pythons+=("$py")
done
if [ "${#pythons[@]}" -eq 0 ]; then
    echo "no CPython 3.10 or newer found"; exit 1
fi

status=0
for k in "${!pythons[@]}"; do
    py="${pythons[$k]}"
    version="$("$py" -c 'import platform; print(platform.python_version())')"
    log="$logs/$version.log"
    env=(PYTHON="$py")
    numpy_note="newest numpy"
    if [ "$k" -eq 0 ] && [ -n "$oldest_numpy" ]; then
        # The oldest Python gets the oldest numpy the project claims to support.
        echo "numpy==${oldest_numpy}.*" > "$logs/constraints.txt"
        env+=(PIP_CONSTRAINT="$logs/constraints.txt")
        numpy_note="numpy ${oldest_numpy}.*"
    fi
    # The release checks (sdist, wheels, workflows) do not depend on the Python: once.
    [ "$k" -gt 0 ] && env+=(RLECODEC_SKIP_DIST=1)
    start=$SECONDS
    if env "${env[@]}" bash "$repo/.ci/run" > "$log" 2>&1; then
        result="pass"
    else
        result="FAIL"; status=1
    fi
    numpy_seen="$(sed -n 's/^== numpy \(.*\)$/\1/p' "$log" | head -1)"
    counts="$(grep -E '^[0-9]+ passed' "$log" | tail -1 | sed 's/ in [0-9.]*s.*//')"
    printf '%-8s %-5s numpy %-8s (%s) %s, %ss, log %s\n' "$version" "$result" \
        "${numpy_seen:-?}" "$numpy_note" "${counts:-no test summary}" "$((SECONDS - start))" "$log"
done
exit $status
