"""Requests from running objectives straight to the driver over an authenticated socket.

A cluster task (Ray) that needs the driver (a define-by-run ``suggest``, a report, a pruning
decision) connects to a listener the driver opened for the ``optimize`` call and speaks the
same request/reply protocol as a local worker process. No process sits in between: a
request costs one round trip, and nothing has to start before the first trial can ask for
its parameters. The listener checks each connection with a random key sent only inside the
tasks (``multiprocessing.connection``'s HMAC challenge).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
import threading
from collections.abc import Callable
from multiprocessing.connection import Client, Connection, Listener
from typing import Any

import cloudpickle

from hpopt.execution.base import Event, Reply, Request

__all__ = ["Endpoint", "RequestServer", "SocketChannel"]

#: ``((host, port), key)``: where a task connects and how it proves it may.
Endpoint = tuple[tuple[str, int], bytes]


def dumps_reply(reply: Reply) -> bytes:
    """Pickle a reply; one whose value or exception cannot be pickled becomes an error."""
    try:
        return cloudpickle.dumps(reply)  # type: ignore[no-any-return]
    except Exception as e:
        return cloudpickle.dumps(Reply(exception=RuntimeError(repr(e))))  # type: ignore[no-any-return]


class RequestServer:
    """Driver side: accept task connections on ``host`` and post their requests as events.

    Parameters
    ----------
    host
        Address to listen on, reachable from the workers (``127.0.0.1`` on one machine).
    post
        Where requests go (the driver's event queue).
    """

    def __init__(self, host: str, post: Callable[[Event], None]) -> None:
        self._key = os.urandom(32)
        self._listener = Listener((host, 0), authkey=self._key)
        self._post = post
        self._closed = False
        self._lock = threading.Lock()
        self._conns: set[Connection] = set()
        self._thread = threading.Thread(
            target=self._accept_loop, name="hpopt-request-server", daemon=True
        )
        self._thread.start()

    @property
    def endpoint(self) -> Endpoint:
        """What a task needs to connect: ``((host, port), key)``."""
        host, port = self._listener.address
        return (str(host), int(port)), self._key

    def _accept_loop(self) -> None:
        while True:
            try:
                conn = self._listener.accept()
            except Exception:  # a failed handshake, or the listener closed
                if self._closed:
                    return
                continue
            with self._lock:
                if self._closed:
                    conn.close()
                    return
                self._conns.add(conn)
            threading.Thread(
                target=self._serve, args=(conn,), name="hpopt-request-conn", daemon=True
            ).start()

    def _serve(self, conn: Connection) -> None:
        send_lock = threading.Lock()

        def reply(answer: Reply) -> None:
            data = dumps_reply(answer)
            with send_lock, contextlib.suppress(OSError):  # the task is gone
                conn.send_bytes(data)

        try:
            while True:
                try:
                    number, method, args = pickle.loads(conn.recv_bytes())
                except (EOFError, OSError):
                    return
                self._post(Request(number, method, args, reply))
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()

    def close(self) -> None:
        """Stop accepting; connections of tasks still running end as theirs do."""
        with self._lock:
            self._closed = True
        # Wake the blocking accept() with a bare connection: its handshake fails at once and
        # the loop sees the flag. (A full client would wait forever for a challenge if the
        # loop had already returned.)
        address, _ = self.endpoint
        with contextlib.suppress(OSError):
            socket.create_connection(address, timeout=5).close()
        self._thread.join(timeout=10)
        self._listener.close()


class SocketChannel:
    """Worker side: one connection per trial, opened at the first request."""

    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint
        self._conn: Connection | None = None

    def call(self, number: int, method: str, args: tuple[Any, ...]) -> Any:
        if self._conn is None:
            address, key = self._endpoint
            self._conn = Client(address, authkey=key)
        self._conn.send_bytes(cloudpickle.dumps((number, method, args)))
        reply: Reply = pickle.loads(self._conn.recv_bytes())
        return reply.unwrap()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
