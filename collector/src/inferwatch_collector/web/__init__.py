"""The web dashboard of ``inferwatch serve``: pages, JSON API and assets (``docs/dashboard.md``).

Every page is drawn from the report definitions of ``dashboards/*.sql`` (``report/``): the
server answers a small HTML shell, the page's script fetches ``/api/v1/pages/<page>`` and
``static/charts.js`` draws the charts as SVG, with no library and nothing from the network.
"""

from inferwatch_collector.web.server import DashboardServer
from inferwatch_collector.web.startup import checked_definitions

__all__ = ["DashboardServer", "checked_definitions"]
