"""The evaluator: windowed quality metrics from counts computed where the data is.

Modules, by stage: ``settings`` (what the config file asks for), ``durations`` (``5m``,
``1h``, ``7d``), ``metrics``, ``intervals`` and ``drift`` (the math, exact and equal to
scikit-learn on the raw arrays), then the pass that queries ClickHouse and stores
``ml_evaluations``.
"""
