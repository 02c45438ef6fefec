"""Id lists in SQL: one JSON parameter read by `json_each`, so a 20,000-photo selection is
one query with one parameter, not 20,000 placeholders (SQLite caps those)."""

from __future__ import annotations

import json
from collections.abc import Iterable

# `... WHERE id IN {IN_IDS}` with `id_list(ids)` as the parameter.
IN_IDS = "(SELECT value FROM json_each(?))"


def id_list(ids: Iterable[int]) -> str:
    return json.dumps([int(i) for i in ids])
