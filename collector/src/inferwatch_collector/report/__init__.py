"""Reports: the stored evaluations and alert states shown outside the store.

``prometheus_export`` puts the latest evaluated windows and the alert states at the service's
``/metrics``, beside the collector's own metrics.
"""
