"""A small pool of daemon threads whose calls have a time limit.

A decode can hang (a stalled network mount, a pathological file) and Python cannot kill a
thread, so `concurrent.futures.ThreadPoolExecutor` would stall on it forever and keep the
interpreter from exiting. Here a call that runs longer than `timeout_s` is abandoned: its
caller gets `CallTimedOut` and a fresh thread takes the stuck one's place, so the pool keeps
its parallelism. Threads are daemons, so a stuck one never blocks interpreter exit. If too
many threads are stuck at once (a whole drive stalled), the remaining calls fail fast with
`PoolStalled` instead of piling up more stuck threads.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class CallTimedOut(Exception):
    """The call ran longer than the pool's timeout and was abandoned."""


class PoolStalled(Exception):
    """The call never ran: too many earlier calls are stuck in their threads."""


@dataclass(eq=False)
class Task(Generic[T]):
    call: Callable[[], T]
    done: bool = False
    result: T | None = None
    error: BaseException | None = None
    abandoned: bool = False  # timed out; its thread retires if it ever returns


class DecodePool:
    """Run calls in `workers` daemon threads, each call limited to `timeout_s` of running
    time (time spent queued does not count). Results are collected with `result(task)`."""

    def __init__(self, workers: int, timeout_s: float, *, max_stuck: int = 16, name: str = "decode") -> None:
        if workers < 1 or timeout_s <= 0 or max_stuck < 0:
            raise ValueError("workers must be >= 1, timeout_s > 0 and max_stuck >= 0")
        self.workers = workers
        self.timeout_s = timeout_s
        self.max_stuck = max_stuck
        self._name = name
        self._changed = threading.Condition()  # guards everything below; notified on any change
        self._queue: deque[Task[Any]] = deque()
        self._running: dict[Task[Any], float] = {}  # -> time.monotonic() when it started
        self._stuck = 0  # abandoned calls whose threads have not returned yet
        self._serving = 0  # threads taking calls: at most `workers`
        self._spawned = 0
        self._closed = False
        for _ in range(workers):
            self._spawn()

    def submit(self, call: Callable[[], T]) -> Task[T]:
        task: Task[T] = Task(call)
        with self._changed:
            if self._closed:
                raise RuntimeError("submit after close")
            self._queue.append(task)
            self._changed.notify_all()
        return task

    def result(self, task: Task[T]) -> T:
        """Wait for `task`; raise what it raised, `CallTimedOut` or `PoolStalled`."""
        with self._changed:
            while not task.done:
                self._abandon_overdue()
                if task.done:
                    break
                self._changed.wait(self._seconds_to_next_deadline())
        if task.error is not None:
            raise task.error
        return task.result  # type: ignore[return-value]

    @property
    def stuck(self) -> int:
        with self._changed:
            return self._stuck

    def close(self) -> None:
        """Drop queued calls and let idle threads exit. Never waits for a running call:
        threads are daemons, and each exits when its current call returns."""
        with self._changed:
            self._closed = True
            while self._queue:
                self._finish(self._queue.popleft(), error=RuntimeError("pool closed"))
            self._changed.notify_all()

    # _spawn, _abandon_overdue, _seconds_to_next_deadline and _finish expect self._changed held.

    def _spawn(self) -> None:
        self._serving += 1
        self._spawned += 1
        thread = threading.Thread(target=self._work, name=f"{self._name}-{self._spawned}", daemon=True)
        thread.start()

    def _abandon_overdue(self) -> None:
        now = time.monotonic()
        for task in [t for t, started in self._running.items() if now - started >= self.timeout_s]:
            del self._running[task]
            task.abandoned = True
            self._stuck += 1
            self._serving -= 1
            self._finish(task, error=CallTimedOut(f"took longer than {self.timeout_s:g} s"))
            if self._stuck <= self.max_stuck:
                self._spawn()  # the stuck thread's replacement
        if self._stuck > self.max_stuck:
            # Replacing every stuck thread could leave thousands blocked on a dead drive.
            while self._queue:
                self._finish(self._queue.popleft(), error=PoolStalled(
                    f"not started: {self._stuck} earlier calls are stuck (limit {self.max_stuck})"))

    def _seconds_to_next_deadline(self) -> float | None:
        if not self._running:
            return None  # a thread starting or finishing a call notifies
        return max(0.0, min(self._running.values()) + self.timeout_s - time.monotonic())

    def _finish(self, task: Task[Any], result: Any = None, error: BaseException | None = None) -> None:
        task.done, task.result, task.error = True, result, error
        self._changed.notify_all()

    def _next_task(self) -> Task[Any] | None:
        with self._changed:
            while not self._queue and not self._closed:
                self._changed.wait()
            if self._closed:
                return None
            task = self._queue.popleft()
            self._running[task] = time.monotonic()
            self._changed.notify_all()  # the waiter's next deadline has changed
            return task

    def _work(self) -> None:
        while (task := self._next_task()) is not None:
            result: Any = None
            error: BaseException | None = None
            try:
                result = task.call()
            except BaseException as exc:  # handed to the caller of result(), like a Future
                error = exc
            with self._changed:
                if task.abandoned:
                    self._stuck -= 1
                    if self._serving >= self.workers:
                        return  # a replacement already took this thread's place
                    self._serving += 1  # no replacement was started (too many stuck): serve again
                    continue
                del self._running[task]
                self._finish(task, result, error)
