"""Progress of any long job (indexing, training, a rollback, a suggestion refresh, a sidecar
export): what a generator job yields, read alike by the command line and the app."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Progress:
    phase: str  # "scanning", "indexing", "loading", "cross-validating", "fitting", "refreshing", "exporting", "done"
    done: int = 0  # of `total` items; total 0: no count to show (the phase's message says what happens)
    total: int = 0
    elapsed_s: float = 0.0
    message: str = ""
    errors: int = 0  # items that failed so far (unreadable photos)

    @property
    def per_s(self) -> float:
        """Items a second so far (photos while indexing)."""
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        rate = self.per_s
        return (self.total - self.done) / rate if rate > 0 and self.done else None


def run_to_end(job: Generator[Any, None, T]) -> T:
    """Drive a generator job to its end, ignoring its progress; its return value."""
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value
