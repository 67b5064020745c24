"""The demo under load: start-up, one request's latency, and many concurrent requests.

Run after ``voxcore quickstart``: ``uv run python benchmarks/demo_load.py`` (default runs
``quickstart/runs/speech`` and ``quickstart/runs/text``; ``--runs`` for others). It starts
``voxcore demo`` on a free 127.0.0.1 port and, through Gradio's own client:

1. times the start (process start to serving) and reads how long each run took to load;
2. sends ``--warmup`` single requests one after another (one image per run, the page's
   defaults) and reports the median wall time of a request and of one image;
3. sends ``--requests`` requests from ``--clients`` concurrent clients (bounded: each client
   waits for its answer before sending the next) and counts answers, errors and losses.

The server's resident memory is sampled every 0.1 s throughout: after the warm-up, at the end
and its peak. One table is printed; ``--json PATH`` also writes the figures.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
from gradio_client import Client, handle_file
from voxcore_demo.server import DemoServer


class MemorySampler(threading.Thread):
    """The resident set size of a process, sampled until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.running = True

    def now(self) -> int:
        return int(self.process.memory_info().rss)

    def run(self) -> None:
        while self.running:
            try:
                self.peak = max(self.peak, self.now())
            except psutil.Error:
                return
            time.sleep(0.1)


def request(client: Client, audio: Path, text: str, seed: int) -> tuple[str, list[float]]:
    """One Generate press; the status line and the seconds of each image."""
    answer = client.predict(handle_file(str(audio)), text, 1, seed, False, 20, 2.0,
                            "dpm-solver++", api_name="/generate")
    status = str(answer[0])
    seconds = [float(s) for info in answer[2::2] for s in re.findall(r"(\d+\.\d+) s", info)]
    return status, seconds


def measure(runs: list[Path], audio: Path, text: str, requests: int, clients: int,
            warmup: int) -> dict[str, Any]:
    downloads = Path(tempfile.mkdtemp(prefix="demo-load-"))
    with DemoServer(runs, "--queue-size", str(max(64, requests))) as server:
        loads = [float(x) for x in re.findall(r"\) from .* in (\d+\.\d+) s", server.log)]
        memory = MemorySampler(server.pid)
        memory.start()
        client = Client(server.url, verbose=False, download_files=str(downloads))
        latencies, image_seconds = [], []
        for number in range(warmup):
            started = time.perf_counter()
            status, seconds = request(client, audio, text, number)
            assert status.startswith("seed"), status
            latencies.append(time.perf_counter() - started)
            image_seconds.extend(seconds)
        rss_warm = memory.now()
        local = threading.local()

        def one(number: int) -> str:
            if not hasattr(local, "client"):
                local.client = Client(server.url, verbose=False, download_files=str(downloads))
            try:
                return request(local.client, audio, text, number)[0]
            except Exception as exc:  # counted, not raised: the figure is how many fail
                return f"failed: {type(exc).__name__}: {exc}"

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            statuses = list(pool.map(one, range(requests)))
        wall = time.perf_counter() - started
        rss_end = memory.now()
        memory.running = False
        alive = server.alive()
    ok = sum(status.startswith("seed") for status in statuses)
    mb = 2**20
    return {
        "runs": [str(run) for run in runs], "startup_s": server.startup_seconds,
        "model_load_s": loads, "request_latency_median_s": statistics.median(latencies),
        "image_seconds_median": statistics.median(image_seconds),
        "requests": requests, "clients": clients, "succeeded": ok,
        "failed": [s for s in statuses if not s.startswith("seed")],
        "lost": requests - len(statuses), "wall_s": wall,
        "requests_per_minute": 60 * requests / wall,
        "rss_after_warmup_mb": rss_warm / mb, "rss_end_mb": rss_end / mb,
        "rss_peak_mb": memory.peak / mb, "rss_growth_mb": (rss_end - rss_warm) / mb,
        "server_alive_after": alive,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", type=Path,
                        default=[Path("quickstart/runs/speech"), Path("quickstart/runs/text")])
    parser.add_argument("--audio", type=Path,
                        help="utterance to send (default: the first of quickstart/voxshapes)")
    parser.add_argument("--text", default="a circle placed on the right side",
                        help="sentence for text runs")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    audio = args.audio or min((args.runs[0].parent.parent / "voxshapes").rglob("*.wav"))
    figures = measure(args.runs, audio, args.text, args.requests, args.clients, args.warmup)
    print(f"runs: {', '.join(figures['runs'])}")
    print(f"start-up (process start to serving): {figures['startup_s']:.1f} s; model loads "
          f"{', '.join(f'{s:.1f}' for s in figures['model_load_s'])} s")
    print(f"one request ({len(args.runs)} run(s), 1 image each): "
          f"{figures['request_latency_median_s']:.2f} s median of {args.warmup}; one image "
          f"{figures['image_seconds_median']:.2f} s")
    print(f"{figures['requests']} requests from {figures['clients']} concurrent clients: "
          f"{figures['succeeded']} answered, {len(figures['failed'])} failed, "
          f"{figures['lost']} lost in {figures['wall_s']:.1f} s "
          f"({figures['requests_per_minute']:.1f} requests/minute)")
    print(f"server memory: {figures['rss_after_warmup_mb']:.0f} MB after warm-up, "
          f"{figures['rss_end_mb']:.0f} MB at the end (growth {figures['rss_growth_mb']:+.0f} "
          f"MB), peak {figures['rss_peak_mb']:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
