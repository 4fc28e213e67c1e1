"""Open-loop load (`bench --serve --rate`) and --protocol v2, against a real server."""

from __future__ import annotations

import json
import subprocess

import numpy as np

from tests.helpers.serve import CNNKIT
from toolkit.serve.openloop import arrival_times
from toolkit.serve.scrape import parse_totals


def test_arrivals_are_evenly_spaced_or_poisson_at_the_rate():
    constant = arrival_times(20, 2.0, "constant")
    assert len(constant) == 40 and np.allclose(np.diff(constant), 0.05)
    poisson = arrival_times(200, 10.0, "poisson")
    assert 1800 < len(poisson) < 2200 and poisson.max() < 10.0
    assert np.array_equal(poisson, arrival_times(200, 10.0, "poisson"))  # seeded


def test_batch_sizes_come_from_the_histogram_buckets():
    def buckets(counts) -> str:
        bounds = ("1.0", "2.0", "4.0", "8.0", "+Inf")
        return "".join(
            f'cnnkit_batch_size_bucket{{model="m",le="{le}"}} {n}\n'
            for le, n in zip(bounds, counts, strict=True)
        )

    before = parse_totals(buckets((2, 2, 2, 2, 2)), "m")  # two batches of one, earlier
    text = buckets((5, 5, 9, 10, 10))
    text += 'cnnkit_batch_size_count{model="m"} 10.0\ncnnkit_batch_size_sum{model="m"} 30.0\n'
    split = parse_totals(text, "m").minus(before)
    assert split.batch_sizes == {"1": 3, "3-4": 4, "5-8": 1}


def test_rate_levels_over_v2_finish_within_their_bound(serve, lenet_onnx, digits_pngs, tmp_path):
    plot = tmp_path / "rates.png"
    with serve(lenet_onnx, "--max-batch", "8") as server:
        result = subprocess.run(
            [str(CNNKIT), "bench", "--serve", f"{server.url}/v2/models/lenet", "--protocol", "v2"]
            + ["--inputs", str(digits_pngs[0].parent), "--rate", "20,40", "--arrivals", "poisson"]
            + ["--duration", "1", "--slo-ms", "5000", "--json", "--plot", str(plot)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=300,
        )
    assert result.returncode == 0, result.stderr
    levels = json.loads(result.stdout)["levels"]
    assert [level["offered_per_s"] for level in levels] == [20.0, 40.0]
    for level in levels:
        assert level["errors"] == 0 and level["statuses"] == {"200": level["requests"]}
        assert level["requests"] == round(level["sent_per_s"] * 1) > 0  # every arrival sent
        assert 1 <= level["seconds"] < 1 + 60  # new arrivals stop at --duration
        assert level["goodput_per_s"] <= level["requests_per_s"]
        sizes = level["server"]["batch_sizes"]
        assert sum(sizes.values()) == level["server"]["batches"] > 0
    assert plot.stat().st_size > 1000
