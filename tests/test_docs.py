"""Every example in the docstrings runs and prints what it says."""

import doctest
import importlib

import pytest

MODULES = ["rlecodec", "rlecodec.coco", "rlecodec._decode", "rlecodec._encode",
           "rlecodec._runs", "rlecodec._errors", "rlecodec._classes", "rlecodec._masktable",
           "rlecodec._table", "rlecodec._csvfile", "rlecodec._sizes", "rlecodec._ops",
           "rlecodec._output", "rlecodec._window", "rlecodec._tiles",
           "rlecodec.coco.mask"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
