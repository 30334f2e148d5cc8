"""Run the showcase DAG against the local emulator and print where the media landed (``make demo``)."""

from __future__ import annotations

import html
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
HOME = ROOT / "airflow_home"
OUTPUT = ROOT / "demo_output"

os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
        "XAI_OUTPUT_PATH": str(OUTPUT),
        "XAI_EXAMPLE_POLL_INTERVAL": "0.5",
    }
)


def main() -> int:
    """Start the emulator, migrate the Airflow DB, run the showcase, print a summary."""
    from airflow_provider_xai.emulator import EmulatorServer

    HOME.mkdir(exist_ok=True)
    shutil.rmtree(OUTPUT, ignore_errors=True)
    OUTPUT.mkdir()
    airflow = pathlib.Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, stdout=subprocess.DEVNULL)
    with EmulatorServer(progression="time", image_seconds=3, video_seconds=5) as emulator:
        # The demo key is a placeholder: the emulator accepts any non-empty key.
        os.environ["AIRFLOW_CONN_XAI_DEFAULT"] = json.dumps(
            {"conn_type": "xai", "host": emulator.url, "password": "demo-key"}
        )
        print(f"xAI emulator serving on {emulator.url}")
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            "showcase", ROOT / "example_dags" / "example_xai_showcase.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        started = time.monotonic()
        run = module.dag.test()
        elapsed = time.monotonic() - started
        states = {f"{ti.task_id}[{ti.map_index}]": ti.state for ti in run.get_task_instances()}
    print(f"\nShowcase run {run.run_id}: {run.state} in {elapsed:.1f}s")
    for name, state in sorted(states.items()):
        print(f"  {name:24} {state}")
    media = sorted(p for p in OUTPUT.iterdir() if p.suffix in (".jpeg", ".mp4"))
    print(f"\n{len(media)} media files and {len(list(OUTPUT.glob('*.json')))} sidecars in {OUTPUT}")
    for path in media[-8:]:
        print(f"  {path.name}  ({path.stat().st_size} bytes)")
    print(f"\nGallery: {write_gallery(OUTPUT)}")
    return 0 if run.state == "success" else 1


def write_gallery(folder: pathlib.Path) -> pathlib.Path:
    """Write ``gallery.html`` beside the outputs: every image and video with its request and timings."""
    cards = []
    for sidecar in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
        manifest = json.loads(sidecar.read_text())
        request = manifest.get("request") or {}
        params = {k: v for k, v in request.items() if k != "prompt"}
        for entry in manifest["files"]:
            name = html.escape(pathlib.Path(entry["uri"]).name)
            if entry["content_type"].startswith("video/"):
                media = f'<video src="{name}" controls loop muted></video>'
            else:
                media = f'<img src="{name}" alt="{name}">'
            cards.append(
                f"<figure>{media}<figcaption><b>{html.escape(request.get('prompt', '(submitted elsewhere)'))}"
                f"</b><br>{html.escape(json.dumps(params))}<br>task {html.escape(manifest['xai_task_id'])}"
                f"<br>created {manifest['created_at']}<br>finished {manifest['finished_at']}"
                f"<br>{entry['size']} bytes, sha256 {entry['sha256'][:12]}</figcaption></figure>"
            )
    page = folder / "gallery.html"
    page.write_text(
        "<!doctype html><meta charset=utf-8><title>xAI showcase gallery</title><style>"
        "body{font-family:sans-serif;display:flex;flex-wrap:wrap;gap:1em}figure{width:360px;margin:0}"
        "img,video{width:360px;border:1px solid #ccc}figcaption{font-size:12px}</style>"
        "<h1 style='width:100%'>xAI showcase gallery</h1>" + "".join(cards)
    )
    return page


if __name__ == "__main__":
    sys.exit(main())
