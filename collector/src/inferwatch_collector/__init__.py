"""inferwatch collector: OTLP in, ClickHouse out, then evaluation, alerts and reports."""
