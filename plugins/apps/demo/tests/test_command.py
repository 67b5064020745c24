"""``voxcore demo`` as a command: listed, and a user's mistake is one line and exit 2."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from voxcore_demo.service import Controls, DemoRun, DemoService, Prompt


def voxcore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voxcore.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_demo_is_a_command_with_localhost_by_default() -> None:
    result = voxcore("demo", "--help")
    assert result.returncode == 0
    assert "default 127.0.0.1: this machine only" in " ".join(result.stdout.split())
    assert "demo" in voxcore("--help").stdout


@pytest.mark.parametrize(("args", "message"), [
    (["/no/such/run"], "no run or exported folder at /no/such/run"),
    (["RUN", "--port", "70000"], "--port must be between 1 and 65535"),
    (["RUN", "--max-seconds", "0"], "--max-seconds must be more than 0"),
    (["RUN", "--concurrency", "0"], "--concurrency must be at least 1"),
    (["RUN", "--host", "no-such-host.invalid"], "is not an address of this machine"),
])
def test_mistakes_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = voxcore("demo", *[str(tmp_path) if a == "RUN" else a for a in args])
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_busy_port_is_refused_before_any_model_loads(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = voxcore("demo", str(tmp_path), "--port", str(port))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "pick another with --port" in result.stderr


class FakeModel:
    transcriber = object()
    modality = "text"

    def transcribe(self, waveforms: list[object]) -> list[str]:
        return ["a ring on the left"]


class FakeRun(DemoRun):
    def __init__(self, name: str, kind: str) -> None:
        self.name, self._kind, self.load_seconds = name, kind, 0.0
        self.loaded = type("Loaded", (), {"model": FakeModel()})()  # type: ignore[assignment]

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self._kind

    @property
    def components(self) -> str:
        return f"{self.name} parts"


def test_a_text_run_beside_a_cascade_gets_what_the_cascade_heard(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    service = DemoService([FakeRun("cascade", "cascade"), FakeRun("text", "text")])
    drawn: dict[str, Prompt] = {}
    monkeypatch.setattr(service, "read_audio", lambda path: "waveform")
    monkeypatch.setattr(service, "_draw", lambda run, prompt, *rest: drawn.update(
        {run.name: prompt}))
    _, answers = service.generate(tmp_path / "a.wav", None, Controls())
    assert [a.error for a in answers] == [None, None]
    assert drawn["cascade"].text == drawn["text"].text == "a ring on the left"
    assert answers[0].heard == answers[1].heard == "a ring on the left"
    _, typed = service.generate(tmp_path / "a.wav", "one bar", Controls())
    assert typed[1].heard == "one bar"  # a typed sentence wins over what was heard


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_the_server_stops_on_a_signal_and_removes_its_uploads(quickstart_runs: Path,
                                                               stop: str) -> None:
    import signal
    import time

    from voxcore_demo.server import DemoServer

    with DemoServer([quickstart_runs / "runs" / "speech"]) as server:
        uploads = next(Path(line.split("uploads kept in ")[1].split(" until")[0])
                       for line in server.lines if "uploads kept in" in line)
        assert uploads.is_dir()
        (uploads / "left-by-a-request.wav").write_bytes(b"RIFF")
        began = time.monotonic()
        server._process.send_signal(getattr(signal, stop))  # type: ignore[union-attr]
        server._process.wait(timeout=60)  # type: ignore[union-attr]
        assert time.monotonic() - began < 60
    assert not uploads.exists(), server.log[-2000:]
