"""``inferwatch demo``: a real scikit-learn model sends traffic to the running service.

::

    make run                       # terminal 1: inferwatch serve --config inferwatch.yaml
    .venv/bin/inferwatch demo      # terminal 2

A logistic regression on scikit-learn's breast cancer data, instrumented with
``@inferwatch.monitor``, sends its predictions over OTLP/HTTP; their labels follow late, and
some never come. After a healthy minute one region's inputs drift, F1 drops below the rule
of ``inferwatch.yaml`` and its alert fires; then the inputs recover and the alert resolves.
``docs/demo.md`` describes the phases and the flags. The modules:

* ``demo_plan.py``: the settings and the timetable of phases;
* ``demo_model.py``: the model and the traffic (scikit-learn is used there only);
* ``demo_labels.py``: labels held back until they are due;
* ``demo_service.py``: is the service there, and what does its ``/metrics`` say;
* ``demo_run.py``: the loop that ties them together.

The demo opens no store: everything it sends and reads goes through the service's port.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .demo_plan import DemoOptions

INSTALL_HINT = "pip install 'inferwatch-collector[demo]' (or `make install` in the repository)"
START_HINT = (
    "start the service first, in another terminal: `make run` "
    "(or `inferwatch serve --config inferwatch.yaml`)"
)


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``inferwatch demo`` flags; defaults (``DemoOptions``) suit the quick-start config."""
    defaults = DemoOptions()
    for flag, field, convert, text in _FLAGS:
        default = getattr(defaults, field)
        shown = f"{default:g}" if isinstance(default, float) else default
        parser.add_argument(
            flag, dest=field, type=convert, default=default, help=f"{text} (default {shown})"
        )


def demo_options(args: argparse.Namespace) -> DemoOptions:
    """The parsed flags as ``DemoOptions``."""
    return DemoOptions(**{field: getattr(args, field) for _, field, _, _ in _FLAGS})


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo; the exit status (0 after the cycles or Ctrl-C, 1 if it cannot start)."""
    options = demo_options(args)
    stop = threading.Event()
    with _stop_on_signals(stop.set):  # from the start: Ctrl-C while it trains stops cleanly too
        problem = _start_problem(options)
        if problem is not None:
            print(f"inferwatch demo: {problem}", file=sys.stderr)
            return 1
        return _run(options, stop)


def _start_problem(options: DemoOptions) -> str | None:
    """Why the demo cannot start (one line), or ``None``."""
    from .demo_service import service_problem

    problem = service_problem(options.endpoint)
    if problem is not None:
        return f"{problem}: {START_HINT}"
    try:
        importlib.import_module("sklearn")
    except ImportError as exc:
        return f"needs scikit-learn ({exc.name} is missing): {INSTALL_HINT}"
    return None


def _run(options: DemoOptions, stop: threading.Event) -> int:
    import inferwatch

    from .demo_model import DemoModel, Traffic
    from .demo_run import DemoRun

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    inferwatch.configure(
        service_name="inferwatch-demo",
        endpoint=options.endpoint,
        protocol="http/protobuf",
        export_interval=10.0,
    )
    model = DemoModel.train(seed=options.seed)
    run = DemoRun(options, model, Traffic(model, seed=options.seed))
    run.run(stop)
    print("inferwatch demo: stopping, flushing telemetry …", flush=True)
    flushed = inferwatch.force_flush()
    inferwatch.shutdown()
    state = "flushed" if flushed else "not all flushed in time"
    print(f"inferwatch demo: done ({state}): {run.summary()}", flush=True)
    return 0


@contextmanager
def _stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Inside, SIGINT (Ctrl-C) and SIGTERM call ``stop`` instead of ending the process."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only: nothing to install elsewhere
        return
    previous = {
        sig: signal.signal(sig, lambda *_: stop()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _number(
    *, above: float | None = None, at_least: float | None = None, at_most: float | None = None
) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        too_low = (above is not None and value <= above) or (
            at_least is not None and value < at_least
        )
        if too_low or (at_most is not None and value > at_most) or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"out of range: {text}")
        return value

    return convert


def _whole(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0, got {text}")
    return value


_FLAGS: tuple[tuple[str, str, Callable[[str], object], str], ...] = (
    ("--endpoint", "endpoint", str, "the service's OTLP/HTTP base URL"),
    ("--rate", "rate", _number(above=0), "predictions per second"),
    (
        "--healthy-seconds",
        "healthy_seconds",
        _number(at_least=0),
        "seconds of healthy traffic opening each cycle",
    ),
    ("--drift-seconds", "drift_seconds", _number(above=0), "seconds of drifted traffic"),
    (
        "--recovery-seconds",
        "recovery_seconds",
        _number(above=0),
        "seconds of healthy traffic after the drift",
    ),
    (
        "--cycles",
        "cycles",
        _whole,
        "cycles of healthy → drift → recovered, then the last labels and exit; 0: until Ctrl-C",
    ),
    (
        "--label-delay",
        "label_delay",
        _number(at_least=0),
        "mean seconds from a prediction to its label",
    ),
    (
        "--unlabelled",
        "unlabelled_share",
        _number(at_least=0, at_most=1),
        "share of predictions never labelled",
    ),
    ("--status-every", "status_every", _number(above=0), "seconds between status lines"),
    ("--seed", "seed", int, "seed of the traffic's random generator"),
    ("--dashboard-url", "dashboard_url", str, "the dashboard, for the links printed"),
)
