"""``voxcore demo RUN [RUN ...]``: serve the runs on a local web page."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def add_parser(commands: Any) -> None:
    """Add the ``demo`` subcommand."""
    parser = commands.add_parser(
        "demo", help="a web page to speak to trained runs and see their images",
        description="Serve one or more runs (training runs or exported folders) on a local web "
                    "page: record or upload speech, see each run's images side by side, edit "
                    "an image by voice. Models are loaded once at start.")
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN",
                        help="a 'voxcore train' run or a 'voxcore export' folder")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--device", default="auto",
                        help="torch device for the models (default: cuda when there is one)")
    parser.add_argument("--no-ema", action="store_true", help="use raw weights, not the EMA")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="requests sampled at once; the rest wait in the queue (default 1)")
    parser.add_argument("--queue-size", type=int, default=64,
                        help="requests that may wait; more are refused (default 64)")
    parser.add_argument("--max-upload-mb", type=float, default=20.0,
                        help="largest upload in MB (default 20)")
    parser.add_argument("--max-seconds", type=float, default=30.0,
                        help="longest utterance in seconds (default 30)")
    parser.add_argument("--max-images", type=int, default=8,
                        help="most images per run in one request (default 8)")
    parser.add_argument("--examples", type=int, default=5,
                        help="example utterances from the evaluation data (default 5)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load the runs, then serve until interrupted."""
    from voxcore.plugin_api import UserError, configure_logging

    configure_logging()
    for option in ("concurrency", "queue_size", "max_images"):
        if getattr(args, option) < 1:
            raise UserError(f"--{option.replace('_', '-')} must be at least 1")
    for option in ("max_upload_mb", "max_seconds"):
        if getattr(args, option) <= 0:
            raise UserError(f"--{option.replace('_', '-')} must be more than 0")
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be between 1 and 65535, got {args.port}")
    _check_free(args.host, args.port)  # before the models load: a busy port fails at once
    missing = [str(folder) for folder in args.runs if not folder.is_dir()]
    if missing:
        raise UserError(f"no run or exported folder at {', '.join(missing)}; give folders "
                        "made by 'voxcore train' (or 'voxcore quickstart': "
                        "quickstart/runs/speech) or 'voxcore export'")
    # Before Gradio is imported: no usage statistics leave the machine, and uploads go to a
    # folder of this server's own that is removed when it stops.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    uploads = Path(tempfile.mkdtemp(prefix="voxcore-demo-"))
    os.environ["GRADIO_TEMP_DIR"] = str(uploads)
    try:
        return _serve(args, uploads)
    finally:
        _remove(uploads)


#: Seconds the server may take to stop after Ctrl+C (or SIGTERM) before it exits anyway.
STOP_SECONDS = 15.0


def _stop_on_signals(uploads: Path) -> None:
    """Ctrl+C and SIGTERM stop the server; if stopping hangs (a web-server thread waiting on
    an open browser connection), it removes the uploads and exits after :data:`STOP_SECONDS`."""
    armed: list[threading.Timer] = []

    def interrupted(number: int, frame: object) -> None:
        if not armed:
            timer = threading.Timer(STOP_SECONDS, _exit_anyway, args=(uploads,))
            timer.daemon = True
            timer.start()
            armed.append(timer)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)


def _exit_anyway(uploads: Path) -> None:
    logger.warning("the server did not stop within %.0f s; removing its uploads and exiting",
                   STOP_SECONDS)
    _remove(uploads, attempts=4)
    logging.shutdown()
    os._exit(0)


def _remove(folder: Path, attempts: int = 20) -> None:
    """Remove ``folder``; Gradio's worker threads may still be writing a file into it while it
    shuts down, so try again until it is gone."""
    for _ in range(attempts):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.25)
    logger.warning("could not remove the uploads folder %s; remove it by hand", folder)


def _serve(args: argparse.Namespace, uploads: Path) -> int:
    from voxcore.plugin_api import UserError
    from voxcore_demo.service import DemoService, Limits

    started = time.perf_counter()
    limits = Limits(max_upload_bytes=int(args.max_upload_mb * 2**20),
                    max_seconds=args.max_seconds, max_images=args.max_images)
    service = DemoService.load(args.runs, device=_device(args.device), use_ema=not args.no_ema,
                               limits=limits, examples=args.examples)
    examples = uploads / "examples"
    service.examples = _copied(service.examples, examples)
    from voxcore_demo.app import build_app

    app = build_app(service)
    app.queue(default_concurrency_limit=args.concurrency, max_size=args.queue_size)
    if args.host not in LOCAL_HOSTS:
        logger.warning("listening on %s: anyone who can reach this machine can use the demo",
                       args.host)
    try:
        _, local_url, _ = app.launch(
            server_name=args.host, server_port=args.port, share=False, ssr_mode=False,
            max_file_size=limits.max_upload_bytes, allowed_paths=[str(examples)],
            enable_monitoring=False, mcp_server=False, pwa=False, quiet=True,
            prevent_thread_lock=True)
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port} ({exc}); is another "
                        "server using the port? Pick another with --port") from exc
    _stop_on_signals(uploads)
    logger.info("serving %d run(s) at %s (started in %.1f s; uploads kept in %s until it "
                "stops); Ctrl+C stops", len(service.runs), local_url,
                time.perf_counter() - started, uploads)
    print(f"voxcore demo: {local_url}", flush=True)
    try:
        app.block_thread()
    finally:
        app.close()
    return 0


def _check_free(host: str, port: int) -> None:
    from voxcore.plugin_api import UserError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UserError(f"--host {host} is not an address of this machine ({exc})") from exc
    family, kind, _, _, address = infos[0]
    with socket.socket(family, kind) as probe:
        try:
            probe.bind(address)
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port} ({exc.strerror}); another server "
                            "is using the port: pick another with --port") from exc


def _device(choice: str) -> str:
    if choice != "auto":
        return choice
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _copied(examples: list[Any], folder: Path) -> list[Any]:
    """The example files copied where the server may serve them (and nothing else)."""
    from dataclasses import replace

    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for number, example in enumerate(examples):
        target = folder / f"{number:02d}-{example.audio.name}"
        shutil.copyfile(example.audio, target)
        copies.append(replace(example, audio=target))
    return copies
