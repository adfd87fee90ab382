"""The socket request channel of cluster tasks: round trips, authentication, close."""

from __future__ import annotations

import queue
import threading
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client

import pytest

from hpopt.execution.base import Event, Reply, Request
from hpopt.execution.socket_channel import RequestServer, SocketChannel


def _answer(events: queue.Queue[Event], stop: threading.Event) -> None:
    """A stand-in driver: doubles ``args[0]`` for ``double``, raises for anything else."""
    while not stop.is_set():
        try:
            event = events.get(timeout=0.05)
        except queue.Empty:
            continue
        assert isinstance(event, Request)
        if event.method == "double":
            event.reply(Reply(2 * event.args[0]))
        else:
            event.reply(Reply(exception=ValueError(f"no {event.method} for {event.number}")))


def test_requests_round_trip_from_concurrent_channels() -> None:
    events: queue.Queue[Event] = queue.Queue()
    stop = threading.Event()
    driver = threading.Thread(target=_answer, args=(events, stop), daemon=True)
    driver.start()
    server = RequestServer("127.0.0.1", events.put)
    results: dict[int, list[int]] = {}

    def task(number: int) -> None:
        channel = SocketChannel(server.endpoint)
        results[number] = [channel.call(number, "double", (i + number,)) for i in range(20)]
        with pytest.raises(ValueError, match=f"no other for {number}"):
            channel.call(number, "other", ())
        channel.close()

    threads = [threading.Thread(target=task, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    server.close()
    stop.set()
    assert results == {n: [2 * (i + n) for i in range(20)] for n in range(4)}


def test_a_connection_without_the_key_is_refused_and_close_stops_accepting() -> None:
    events: queue.Queue[Event] = queue.Queue()
    for _ in range(20):  # close right after a refused handshake: a race, tried many times
        server = RequestServer("127.0.0.1", events.put)
        address, key = server.endpoint
        with pytest.raises(AuthenticationError):
            Client(address, authkey=b"not the key")
        server.close()
        with pytest.raises(OSError):
            Client(address, authkey=key)
    assert events.empty()
