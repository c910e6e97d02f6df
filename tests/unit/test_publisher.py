"""The publisher that starts work after commit: urgent work first and alone, the rest batched, and a breaker that
stops trying a broker that refused (the broker is the edge of the world here: a recording stand-in)."""

from __future__ import annotations

import threading
import time

from api.extensions.celery import Publisher

ENTRY_STORED, DELIVER = "diary.entry_stored", "notifications.deliver"


class Broker:
    """Records what it is sent; refuses while `down`."""

    def __init__(self):
        self.sent: list[tuple[str, object, str | None, str | None]] = []
        self.down = False
        self.changed = threading.Condition()

    def send_task(self, name, args, *, headers, queue, retry):
        assert retry is False  # a publish never waits on a broker that is down
        if self.down:
            raise ConnectionRefusedError("broker down")
        with self.changed:
            self.sent.append((name, args[0], headers["request_id"], queue))
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10) -> list:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.sent) >= count, timeout), self.sent
            return list(self.sent)


def test_urgent_work_goes_first_and_alone_and_the_rest_in_batches():
    broker = Broker()
    publisher = Publisher(broker, breaker_seconds=60, urgent_queue="q-urgent")
    many = 2 * Publisher.BATCH + 5
    ordinary = [(ENTRY_STORED, n, False, "req-1") for n in range(many)]
    publisher.submit([*ordinary, (ENTRY_STORED, 99, True, "req-2"), (DELIVER, 7, False, "req-3")])
    sent = broker.wait_for(5)
    assert sent[0] == (ENTRY_STORED, 99, "req-2", "q-urgent")
    assert (DELIVER, 7, "req-3", None) in sent
    batches = [message for message in sent if isinstance(message[1], list)]
    assert [len(batch[1]) for batch in batches] == [Publisher.BATCH, Publisher.BATCH, 5]
    assert sorted(n for batch in batches for n in batch[1]) == list(range(many))
    assert all(batch[2] == "req-1" and batch[3] is None for batch in batches)


def test_a_refused_publish_opens_the_breaker_and_later_work_is_sent_again():
    broker = Broker()
    publisher = Publisher(broker, breaker_seconds=2, urgent_queue="q-urgent")
    broker.down = True
    publisher.submit([(DELIVER, 1, True, None)])
    deadline = time.monotonic() + 10
    while publisher.open_until == 0.0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert publisher.open_until > 0.0  # the breaker opened
    broker.down = False
    publisher.submit([(DELIVER, 2, True, None)])  # dropped while open: its row stays due for the sweep
    while time.monotonic() < publisher.open_until:
        time.sleep(0.01)
    publisher.submit([(DELIVER, 3, True, None)])
    assert [message[1] for message in broker.wait_for(1)] == [3]
