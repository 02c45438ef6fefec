"""The order of Show › Review queue: most informative first (`service.review_queue`), the
rest after in name order. The ranking (~0.5 s at 10k photos) runs in the background once per
visit to the queue and after indexing or retraining, not at every refresh, so photos do not
jump around while you answer them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from photo_tagger.core import service

if TYPE_CHECKING:
    from photo_tagger.gui.main_window import MainWindow

REVIEW_RANK_LIMIT = 1_000_000  # photos ranked for the review queue's order: all of them


class ReviewOrder:
    """Owned by the main window, which asks it to order the ids of the review queue."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.rank: dict[int, int] | None = None  # photo id -> place in service.review_queue
        self._generation = 0  # bumped to drop a ranking computed for an older state
        self._ranking = False  # a ranking is being computed in the background

    def order(self, ids: list[int]) -> list[int]:
        """`ids` in queue order; unchanged (and a ranking started) until one is ready."""
        if self.rank is None:
            self._start_ranking()
            return ids
        last = len(self.rank)
        rank = self.rank
        return sorted(ids, key=lambda photo_id: rank.get(photo_id, last))

    def forget(self) -> None:
        self.rank = None
        self._generation += 1

    def _start_ranking(self) -> None:
        """Ranks every unreviewed photo: the queue's ranking also covers photos outside
        the review band, so a limit of the grid's length could cut band photos off."""
        w = self.window
        if w.session is None or self._ranking:
            return
        self._ranking = True
        generation, library = self._generation, w.session.library

        def done(ranked: list[int]) -> None:
            self._ranking = False
            if generation == self._generation and w.session is not None:
                self.rank = {photo_id: place for place, photo_id in enumerate(ranked)}
            if w.session is not None:
                w.refresh()  # the new order, or (stale result) ask again

        worker = w.run_call(lambda: service.review_queue(library, REVIEW_RANK_LIMIT), done)
        worker.signals.failed.connect(lambda _message: setattr(self, "_ranking", False))
