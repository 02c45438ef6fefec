"""Running the core's generator jobs (index, train, ...) to the end in tests."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any


def run_job(job: Generator[Any, None, Any]) -> Any:
    """Drive `job` through all its progress; returns what it returns."""
    try:
        while True:
            next(job)
    except StopIteration as done:
        return done.value
