"""Send pacing: never faster than the rate, and no catch-up bursts."""

import itertools

import pytest

from chalicelib.mail.pacing import Pacer, shared_pacer


class FakeTime:
    def __init__(self):
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def send_times(pacer: Pacer, time: FakeTime, count: int) -> list[float]:
    times = []
    for _ in range(count):
        pacer.wait()
        times.append(time.now)
    return times


def test_sends_are_spaced_by_the_rate():
    time = FakeTime()
    times = send_times(Pacer(50, time.clock, time.sleep), time, 101)
    assert min(b - a for a, b in itertools.pairwise(times)) == pytest.approx(0.02)
    assert times[-1] == pytest.approx(2.0)  # 101 sends in 2 s: the full rate, no more


def test_a_slow_stretch_is_not_made_up_by_a_burst():
    time = FakeTime()
    pacer = Pacer(10, time.clock, time.sleep)
    send_times(pacer, time, 3)
    time.now += 5.0  # the workers were busy elsewhere
    later = send_times(pacer, time, 3)
    assert later == pytest.approx([5.2, 5.3, 5.4])


def test_the_process_shares_one_pacer_per_rate():
    assert shared_pacer(14) is shared_pacer(14)
    assert shared_pacer(50).rate == 50


def test_no_one_second_window_holds_more_than_the_rate_even_with_many_threads():
    import threading
    import time as real_time

    pacer = Pacer(200)
    released, lock = [], threading.Lock()

    def worker():
        for _ in range(40):
            pacer.wait()
            with lock:
                released.append(real_time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    released.sort()
    busiest = max(sum(1 for t in released[i:] if t - start < 1.0) for i, start in enumerate(released))
    assert len(released) == 320 and busiest <= 200 + 8  # recorded after release: at most one late per thread


def test_a_sleeper_woken_a_little_late_does_not_lose_rate():
    time = FakeTime()
    oversleeping = Pacer(50, time.clock, lambda seconds: time.sleep(seconds + 0.003))
    times = send_times(oversleeping, time, 101)
    assert times[-1] < 2.01  # late wake-ups do not add up: 101 sends still take 2 s
    assert all(b - a > 0.015 for a, b in itertools.pairwise(times))
