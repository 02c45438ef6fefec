"""The decode pool abandons a call that runs too long, keeps its parallelism, and never
keeps the interpreter alive for a stuck thread. Hangs here are real: threads blocked on an
Event that is never set."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from photo_tagger.core.decode_pool import CallTimedOut, DecodePool, PoolStalled


def test_results_come_back_in_the_order_asked_for() -> None:
    pool = DecodePool(2, timeout_s=30)
    tasks = [pool.submit(lambda i=i: i * i) for i in range(20)]
    assert [pool.result(t) for t in tasks] == [i * i for i in range(20)]
    pool.close()


def test_an_exception_in_a_call_reaches_the_caller() -> None:
    pool = DecodePool(1, timeout_s=30)
    task = pool.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        pool.result(task)
    pool.close()


def test_a_hung_call_times_out_and_the_others_still_run_in_parallel() -> None:
    never = threading.Event()
    pool = DecodePool(2, timeout_s=0.3)
    hung = pool.submit(never.wait)
    start = time.monotonic()
    with pytest.raises(CallTimedOut, match="longer than 0.3 s"):
        pool.result(hung)
    assert time.monotonic() - start < 5
    assert pool.stuck == 1
    # These two only finish if they run at the same time: the hung thread was replaced.
    both_running = threading.Barrier(2)
    pair = [pool.submit(both_running.wait) for _ in range(2)]
    assert sorted(pool.result(t) for t in pair) == [0, 1]
    never.set()
    pool.close()


def test_time_spent_queued_does_not_count_against_a_call() -> None:
    pool = DecodePool(1, timeout_s=0.5)
    tasks = [pool.submit(lambda: time.sleep(0.2)) for _ in range(4)]  # 0.8 s in all, in one thread
    assert [pool.result(t) for t in tasks] == [None] * 4
    pool.close()


def test_when_too_many_calls_are_stuck_the_rest_fail_fast() -> None:
    never = threading.Event()
    pool = DecodePool(1, timeout_s=0.1, max_stuck=2)
    tasks = [pool.submit(never.wait) for _ in range(3)] + [pool.submit(lambda: "late")]
    outcomes = []
    for task in tasks:
        with pytest.raises((CallTimedOut, PoolStalled)) as caught:
            pool.result(task)
        outcomes.append(caught.type)
    assert outcomes == [CallTimedOut, CallTimedOut, CallTimedOut, PoolStalled]
    never.set()
    pool.close()


def test_a_stuck_call_does_not_keep_the_interpreter_from_exiting() -> None:
    script = (
        "import threading\n"
        "from photo_tagger.core.decode_pool import CallTimedOut, DecodePool\n"
        "pool = DecodePool(1, timeout_s=0.1)\n"
        "task = pool.submit(threading.Event().wait)\n"
        "try:\n"
        "    pool.result(task)\n"
        "except CallTimedOut:\n"
        "    print('timed out')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, cwd="/")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "timed out\n"


def test_closing_drops_queued_calls_without_waiting_for_a_running_one() -> None:
    never = threading.Event()
    ran: list[int] = []
    pool = DecodePool(1, timeout_s=60)
    pool.submit(never.wait)
    queued = [pool.submit(lambda i=i: ran.append(i)) for i in range(3)]
    start = time.monotonic()
    pool.close()
    assert time.monotonic() - start < 1
    for task in queued:
        with pytest.raises(RuntimeError, match="closed"):
            pool.result(task)
    never.set()
    time.sleep(0.05)
    assert ran == []
