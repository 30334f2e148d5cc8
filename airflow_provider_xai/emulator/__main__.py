"""Run the emulator from the command line: ``xai-emulator`` or ``python -m airflow_provider_xai.emulator``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from .server import EmulatorServer
from .settings import FAULT_KINDS


def build_parser() -> argparse.ArgumentParser:
    """Return the command line parser."""
    parser = argparse.ArgumentParser(
        prog="xai-emulator",
        description=(
            "Serve a local emulator of the xAI generation service: the task gateway (/xai/images, "
            "/xai/videos, /xai/tasks) and xAI's own API (/v1/images/generations, /v1/images/edits, "
            "/v1/videos/generations|edits|extensions, GET /v1/videos/<request_id>, GET /v1/api-key) "
            "on the same port."
        ),
        epilog=(
            'Point an xAI connection at it with {"conn_type": "xai", "host": "http://127.0.0.1:8089", '
            '"password": "KEY", "extra": {"api": "xai"}}. Prompt directives such as [xai:failed], '
            "[xai:moderated], [xai:expired], [xai:reads=3] script the outcome; see docs/guides/emulator.md."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8089, help="port to listen on; 0 picks a free one")
    parser.add_argument("--api-key", help="accept only this API key (default: any non-empty key)")
    parser.add_argument("--forbidden-key", action="append", default=[], help="a key answered with 403")
    parser.add_argument("--image-seconds", type=float, default=8.0, help="duration of an image task")
    parser.add_argument("--video-seconds", type=float, default=30.0, help="duration of a video task")
    parser.add_argument("--progression", choices=("time", "per-read"), default="time")
    parser.add_argument("--reads-to-complete", type=int, default=5, help="per-read mode: reads to finish")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="probability of a random fault")
    parser.add_argument("--fault-kinds", help=f"comma-separated subset of {','.join(FAULT_KINDS)}")
    parser.add_argument(
        "--fault-paths", help="comma-separated 'METHOD /path' (default: GET /xai/tasks,GET /v1/videos)"
    )
    parser.add_argument("--retry-after", default="1", help="Retry-After of a 429 answer")
    parser.add_argument("--seed", type=int, help="seed of the fault RNG")
    parser.add_argument("--envelope", action="store_true", help="wrap JSON answers in an envelope")
    parser.add_argument("--create-status", type=int, choices=(200, 201), default=200)
    parser.add_argument("--result-shape", help="force one result shape (data, video, url, urls, ...)")
    parser.add_argument("--media-ttl", type=float, default=3600.0, help="media lifetime after finishing")
    parser.add_argument("--media-size", type=int, help="serve every media file at this size (bytes)")
    parser.add_argument("--public-url", help="base URL of media URLs (default: from the Host header)")
    parser.add_argument(
        "--tls", action="store_true", help="serve HTTPS with a throw-away CA (its file is printed)"
    )
    xai = parser.add_argument_group("xAI's own API (/v1/...)")
    xai.add_argument(
        "--xai-image-seconds",
        type=float,
        default=0.2,
        help="how long POST /v1/images/... takes (synchronous)",
    )
    xai.add_argument(
        "--xai-error-style",
        choices=("flat", "nested"),
        default="flat",
        help='error bodies: flat {"code", "error"} or nested {"error": {"message", "type", "code"}}',
    )
    xai.add_argument(
        "--xai-rate-limits",
        action="store_true",
        help="answer 429 past 5 image / 1 video request(s) per second",
    )
    xai.add_argument(
        "--xai-upload-empties-url",
        action="store_true",
        help="after a PUT to output.upload_url, report video.url as an empty string",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def settings_from(args: argparse.Namespace) -> dict[str, Any]:
    """Turn parsed arguments into emulator settings.

    :param args: the parsed command line.
    """
    settings: dict[str, Any] = {
        "api_key": args.api_key,
        "forbidden_keys": args.forbidden_key,
        "image_seconds": args.image_seconds,
        "video_seconds": args.video_seconds,
        "progression": args.progression,
        "reads_to_complete": args.reads_to_complete,
        "fault_rate": args.fault_rate,
        "retry_after": args.retry_after,
        "seed": args.seed,
        "envelope": args.envelope,
        "create_status": args.create_status,
        "result_shape": args.result_shape,
        "media_ttl": args.media_ttl,
        "media_size": args.media_size,
        "public_url": args.public_url,
        "xai_image_seconds": args.xai_image_seconds,
        "xai_error_style": args.xai_error_style,
        "xai_rate_limits": args.xai_rate_limits,
        "xai_upload_keeps_url": not args.xai_upload_empties_url,
    }
    if args.fault_kinds:
        settings["fault_kinds"] = args.fault_kinds
    if args.fault_paths:
        settings["fault_paths"] = args.fault_paths
    return settings


def main(argv: list[str] | None = None) -> int:
    """Serve the emulator until Ctrl-C or SIGTERM.

    :param argv: the arguments (default: ``sys.argv[1:]``).
    :return: the exit status.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        server = EmulatorServer(
            args.host, args.port, verbose=args.verbose, tls=args.tls, **settings_from(args)
        )
    except ValueError as exc:
        parser.error(str(exc))
    stopping = threading.Event()
    try:
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    except ValueError:  # not the main thread
        pass
    server.start()
    print(f"xai-emulator listening on {server.url} (Ctrl-C to stop)", flush=True)
    if server.ca_bundle:
        print(f"xai-emulator CA bundle: {server.ca_bundle}", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("xai-emulator stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
