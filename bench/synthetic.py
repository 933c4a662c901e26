"""SQL fragments shared by the benchmarks that generate their rows inside chDB."""

from __future__ import annotations

UUID7_ROW = """
    {first:UInt64} + number AS g,
    {start_ms:UInt64} + intDiv(number * {span_ms:UInt64}, {n:UInt64}) AS ms,
    leftPad(hex(ms), 12, '0') AS h,
    concat(leftPad(hex(cityHash64(g, 10)), 16, '0'), leftPad(hex(cityHash64(g, 11)), 16, '0')) AS r,
    lower(concat(substring(h, 1, 8), '-', substring(h, 9, 4), '-7', substring(r, 1, 3), '-',
                 substring('89ab', 1 + cityHash64(g, 12) % 4, 1), substring(r, 4, 3), '-',
                 substring(r, 7, 12))) AS id,"""
"""The start of a generated row: ``g`` (= first + number), its millisecond ``ms`` spread
evenly over ``span_ms`` from ``start_ms``, and a UUIDv7-shaped ``id`` (that millisecond,
version 7, variant bits, then hash bits of ``g``), as the SDK makes ids."""
