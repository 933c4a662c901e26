"""The report definitions a dashboard serves, checked against the store before it starts.

A definition that does not load (header, parameters) or whose SQL the store cannot parse
stops start-up with a ``DefinitionError`` naming its file, rather than a page failing later.
"""

from __future__ import annotations

import os
from typing import Any

from inferwatch_collector.report.definitions import ReportDefinition, load_definitions
from inferwatch_collector.report.run import check_syntax


def checked_definitions(
    client: Any, extra_folder: str | os.PathLike[str] | None = None
) -> dict[str, ReportDefinition]:
    """The built-in definitions and those of ``extra_folder``, each parsed by the store.

    Raises:
        DefinitionError: the first bad definition, its message starting with the file's path.
    """
    definitions = load_definitions(extra_folder or None)
    for definition in definitions.values():
        check_syntax(client, definition)
    return definitions
