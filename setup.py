"""Build the one C extension of rlecodec; everything else lives in pyproject.toml."""
import os
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

# RLECODEC_DEBUG=1 builds with Cython's bounds, wraparound and initialisation checks on.
DEBUG = os.environ.get("RLECODEC_DEBUG", "") not in ("", "0")

directives = {"language_level": 3}
if DEBUG:
    directives.update(boundscheck=True, wraparound=True, initializedcheck=True)

extension = Extension(
    "rlecodec._codec",
    sources=["src/_codec.pyx"],
    include_dirs=["src"],
    # The .pxi files _codec.pyx includes and the C headers: a change to any rebuilds it.
    depends=sorted(str(p) for pattern in ("*.pxi", "*.h") for p in Path("src").glob(pattern)),
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
)

setup(ext_modules=cythonize([extension], compiler_directives=directives))
