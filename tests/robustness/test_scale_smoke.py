"""benchmarks/scale.py keeps working: a 2,000-photo run, browsing only (the 100k run with
training is the benchmark itself, too slow for the suite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCALE = Path(__file__).parents[2] / "benchmarks" / "scale.py"


def test_the_scale_benchmark_runs_and_ends_with_its_json_line(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(SCALE), "--photos", "2000", "--no-train", "--keep", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["photos"] == 2000
    assert figures["train_s"] is None
    assert figures["meets_open_paint_under_2000_ms"] and figures["meets_filter_under_200_ms"]
    assert {"open_ms", "first_paint_ms", "filter_by_tag_ms", "browse_peak_rss_mb"} <= set(figures)
