"""The end-to-end benchmark runs on the real components and produces its figures (one short image task).

No timing assertion: this only proves that the benchmark still finds every point of its timeline (the
emulator's completion and polls, the trigger log, the REST API's task instance times, the task log).
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.system.stack import ROOT


def load_bench():
    spec = importlib.util.spec_from_file_location("xai_bench_e2e", ROOT / "benchmarks" / "bench_e2e.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.system
@pytest.mark.timeout(240)
def test_e2e_benchmark_on_real_components(migrated_template):
    bench = load_bench()
    result = bench.run(images=1, image_seconds=3.0, videos=0, parallelism=2, template=migrated_template)

    assert result["run_state"] == "success", bench.format_result(result)
    (record,) = result["tasks"]
    assert record["state"] == "success", record
    missing = [name for name, moment in record["times"].items() if moment is None]
    assert not missing, f"timeline points not found: {missing}\n{record}"
    for figure in ("total", "detection", "expected_detection", "resume", "event_to_scheduled", "storing"):
        assert isinstance(record[figure], float), (figure, record)
    assert result["kinds"]["image"]["clean"] + len(result["retried"]) == 1
    assert len(bench.checks(result)) == 1
    assert "completion -> success" in bench.format_result(result)
