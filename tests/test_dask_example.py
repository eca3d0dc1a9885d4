"""examples/dask_predecode.py on a real LocalCluster (worker processes) against the
reference decoder."""

import csv
import importlib.util
import pathlib
import sys

import numpy as np
import pytest
from reference import ref_decode

pytest.importorskip("dask.bag", reason="the dask extra is not installed")
distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
SHAPE = (256, 1600)


def load_example():
    spec = importlib.util.spec_from_file_location("dask_predecode",
                                                  EXAMPLES / "dask_predecode.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_dask_example_decodes_the_sample_on_a_local_cluster(tmp_path):
    example = load_example()
    sample = EXAMPLES / "severstal_sample.csv"
    truth: dict[str, np.ndarray] = {}
    with open(sample, newline="") as handle:
        for row in csv.DictReader(handle):
            stack = truth.setdefault(row["ImageId"], np.zeros((*SHAPE, 4), np.uint8))
            stack[:, :, int(row["ClassId"]) - 1] |= ref_decode(row["EncodedPixels"], SHAPE)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.upload_file(str(EXAMPLES / "dask_predecode.py"))  # the workers import it too
        paths = example.predecode(str(sample), SHAPE, str(tmp_path / "masks"), client,
                                  partitions=7, timeout=300)  # a stuck cluster fails, not hangs
    assert len(paths) == len(truth) == len(list((tmp_path / "masks").iterdir()))
    for image, stack in truth.items():
        got = np.load(tmp_path / "masks" / (image.rsplit(".", 1)[0] + ".npy"))
        np.testing.assert_array_equal(got, stack, err_msg=image)
