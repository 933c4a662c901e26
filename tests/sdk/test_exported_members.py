"""The public surface of `inferwatch` is pinned: adding or removing a name is a decision."""

from __future__ import annotations

import subprocess
import sys

import inferwatch

EXPECTED = {
    "OutputError",
    "Prediction",
    "__version__",
    "configure",
    "force_flush",
    "last_prediction_id",
    "monitor",
    "prediction",
    "record_label",
    "semconv",
    "shutdown",
}


def test_all_is_the_documented_surface() -> None:
    assert set(inferwatch.__all__) == EXPECTED
    for name in inferwatch.__all__:
        assert hasattr(inferwatch, name), name


def test_import_pulls_in_nothing_heavy() -> None:
    script = (
        "import sys, inferwatch\n"
        "heavy = {'numpy', 'sklearn', 'chdb', 'grpc', 'pandas'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
