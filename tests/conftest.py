import json
import os
import pathlib

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=300, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SHARED = pathlib.Path(__file__).resolve().parent.parent.parent / "shared"
SAMPLES = SHARED / "realworld" / "samples.jsonl"


@pytest.fixture(scope="session")
def realworld_samples():
    if not SAMPLES.exists():
        pytest.skip("../shared/realworld/samples.jsonl is not beside this checkout")
    return [json.loads(line) for line in SAMPLES.read_text().splitlines() if line.strip()]
