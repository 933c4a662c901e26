"""Pause Python's cyclic garbage collector while a flush is converted.

Conversion allocates hundreds of thousands of small dicts, lists and tuples, none of them in
a reference cycle; the collector's generation scans they trigger cost about a third of the
conversion time (bench/convert.py). Reference counting still frees everything as usual.

>>> import gc
>>> with paused_gc():
...     gc.isenabled()
False
>>> gc.isenabled()
True
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector inside the block; restore its previous state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
