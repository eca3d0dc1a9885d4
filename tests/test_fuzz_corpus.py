"""Replay the fuzzing seed corpus through the fuzz harness's checks (no atheris needed)."""

import importlib.util
import pathlib

import pytest

FUZZ = pathlib.Path(__file__).resolve().parent.parent / "fuzz"


def load_harness():
    spec = importlib.util.spec_from_file_location("fuzz_rle", FUZZ / "fuzz_rle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SEEDS = sorted((FUZZ / "corpus").glob("*")) if (FUZZ / "corpus").exists() else []


def test_the_corpus_is_there():
    assert len(SEEDS) >= 100


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:10])
def test_seed(path):
    load_harness().check_one(path.read_bytes())
