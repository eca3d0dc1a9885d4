"""On a free-threaded CPython (3.13t/3.14t) importing rlecodec must not turn the GIL on."""

import subprocess
import sys
import sysconfig

import pytest

free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


@pytest.mark.skipif(not free_threaded, reason="this interpreter has a GIL anyway")
def test_import_keeps_the_gil_off():
    code = ("import sys, rlecodec, rlecodec._codec; "
            "rlecodec.decode('1 1', (2, 2)); print(sys._is_gil_enabled())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_the_extension_declares_free_threading_support():
    """Cython's freethreading_compatible directive is on in the source the wheel is built
    from (on a GIL build this is all that can be checked)."""
    import pathlib

    source = pathlib.Path(__file__).resolve().parent.parent / "src" / "_codec.pyx"
    assert "freethreading_compatible=True" in source.read_text().splitlines()[1]
