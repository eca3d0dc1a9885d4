# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, freethreading_compatible=True
"""The compiled core of rlecodec: parse, check, write, scan and format run-length masks.

One extension, one C translation unit (so the compiler inlines across files), assembled
from files named after the concepts (see the include list below and the README's map).
Every kernel is ``noexcept nogil`` and returns an error code; the bindings release the GIL
around them and raise :class:`KernelError` with the raw facts (code, token index, byte
offset), which the pure-Python facade turns into ``RLEError``.
Everything is 64-bit: a pixel index or run length is ``int64_t``, a byte stride
``Py_ssize_t``.  The only global state, which reader of plain pairs suits this CPU, is set
once at import and only read afterwards.
"""

from libc.stdint cimport (int32_t, int64_t, uint64_t, uint8_t, uint16_t, uint32_t, INT64_MAX,
                          INT32_MAX)
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memset, memcpy, memcmp, memchr
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_RECORDS, PyBUF_RECORDS_RO
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_AsUTF8AndSize
from cpython.pythread cimport (PyThread_type_lock, PyThread_allocate_lock, PyThread_free_lock,
                              PyThread_acquire_lock, PyThread_release_lock, WAIT_LOCK)

import numpy as np

# Order matters only for types: a struct or class is declared before a file that uses it.
include "core.pxi"      # errors, run buffers, grids, buffers, argument checks
include "coco.pxi"      # COCO counts: read, written, to and from runs
include "parse.pxi"     # text and tokens -> checked runs
include "format.pxi"    # runs -> text
include "write.pxi"     # runs -> pixels (decode)
include "scan.pxi"      # pixels -> runs (encode)
include "labels.pxi"    # label maps and stacks -> runs per label
include "bands.pxi"     # one large mask in bands of lines, in threads
include "decode.pxi"    # decoding bindings
include "encode.pxi"    # encoding bindings
include "csv.pxi"       # CSV files indexed for random access
include "ops.pxi"       # masks compared and combined in run space
include "slides.pxi"    # whole slides: a window decoded, a mask encoded from tiles
include "polygons.pxi"  # polygons and boxes rasterised as pycocotools does
include "cocolist.pxi"  # many COCO objects parsed once, measured and compared
