"""``voxcore demo`` in a child process, for tests, benchmarks and scripts that talk to it."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

__all__ = ["DemoServer", "free_port"]

READY = "voxcore demo: "


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class DemoServer:
    """``voxcore demo RUNS --port PORT [options]`` started in a child process; ``url`` is
    set once it serves. ``log`` is what it has written so far (stdout and stderr). It gets
    ``timeout`` seconds to start and ``stop_timeout`` to stop after Ctrl+C (then it is
    killed)."""

    def __init__(self, runs: Sequence[Path], *options: str, port: int | None = None,
                 timeout: float = 300.0, stop_timeout: float = 90.0) -> None:
        self.port = port or free_port()
        self.command = [sys.executable, "-m", "voxcore.cli", "demo", *map(str, runs),
                        "--port", str(self.port), *options]
        self.timeout = timeout
        self.stop_timeout = stop_timeout
        self.url = ""
        self.startup_seconds = 0.0
        self.lines: list[str] = []
        self._process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self._process is not None, "the server has not been started"
        return self._process.pid

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def alive(self) -> bool:
        """Whether the server process is still running."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> DemoServer:
        """Start it and wait until it serves (``RuntimeError`` with its log otherwise)."""
        started = time.perf_counter()
        self._process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        ready: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(ready,), daemon=True).start()
        try:
            self.url = ready.get(timeout=self.timeout)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"voxcore demo did not start in {self.timeout:.0f} s:\n"
                               f"{self.log[-3000:]}") from None
        if not self.url:
            self.stop()
            raise RuntimeError(f"voxcore demo exited:\n{self.log[-3000:]}")
        self.startup_seconds = time.perf_counter() - started
        return self

    def _read(self, ready: queue.Queue[str]) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self.lines.append(line)
            if line.startswith(READY):
                ready.put(line[len(READY):].strip())
        ready.put("")  # it exited

    def stop(self) -> int | None:
        """Stop it (Ctrl+C, as a user would); its exit status."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.send_signal(2)
            try:
                self._process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        return self._process.returncode

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
