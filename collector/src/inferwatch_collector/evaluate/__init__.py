"""The evaluator: windowed quality metrics from counts computed where the data is.

Modules, by stage: ``settings`` (what the config file asks for), ``durations`` (``5m``,
``1h``, ``7d``), ``metrics``, ``intervals`` and ``drift`` (the math, exact and equal to
scikit-learn on the raw arrays), then the pass (``evaluation_pass``): ``outcomes`` folds new
labels into ``ml_outcomes``, ``window_stats`` reads the windows' sufficient statistics
(``queries`` holds the SQL), ``window_cache`` keeps them in ``ml_window_stats``,
``window_metrics`` turns them into ``ml_evaluations`` rows (``store``); ``job`` runs a pass
and the alert rules on a schedule.
"""
