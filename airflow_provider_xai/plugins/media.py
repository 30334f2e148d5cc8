"""The ``xai_media`` Airflow plugin: a "Generated media" tab on task instances and DAG runs (Airflow 3.1+).

Airflow loads plugins in every component (scheduler, workers, triggerer...), so this module stays light:
the FastAPI app, which imports the api-server's security and models, is built on its first request, which
only the api-server receives. The plugin is found two ways, so that it loads whatever the provider
discovery setting: the ``airflow.plugins`` entry point (always read) and the provider info's ``plugins``
(read when ``[core] lazy_discover_providers`` is off).

On Airflow versions without external views the tab is simply absent; the task's "xAI output" extra link
(:mod:`airflow_provider_xai.links`) remains the way to the media there.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

from airflow.plugins_manager import AirflowPlugin

#: where the app is mounted on the api-server
URL_PREFIX = "/xai-media"
#: the tab's label
VIEW_NAME = "Generated media"


def base_path() -> str:
    """Return the path the api-server is served under (``[api] base_url``'s path, ``""`` at the root)."""
    try:
        from airflow.configuration import conf

        base_url = conf.get("api", "base_url", fallback="") or ""
    except Exception:  # noqa: BLE001 - a plugin must never break the component importing it
        base_url = ""
    path = urlsplit(base_url).path if "://" in base_url else base_url
    return path.rstrip("/")


class LazyApp:
    """An ASGI app that builds the real FastAPI app on its first request (only the api-server gets any)."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    def build(self) -> Any:
        """Return the FastAPI app, built once."""
        if self._app is None:
            with self._lock:
                if self._app is None:
                    from airflow_provider_xai.plugins.app import create_app

                    self._app = create_app()
        return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve an ASGI request with the built app."""
        await self.build()(scope, receive, send)

    def __repr__(self) -> str:
        return "airflow_provider_xai.plugins.app:create_app"


media_app = LazyApp()


def external_views(prefix: str | None = None) -> list[dict[str, Any]]:
    """Return the two views: a tab on every task instance and one on every DAG run.

    Airflow 3.3 cannot limit a task-instance view to some operators, so the tab shows on every task
    instance; on a task of another kind the page says that the task produced no xAI media.

    :param prefix: the path the api-server is served under (default: from ``[api] base_url``).
    """
    root = (base_path() if prefix is None else prefix) + URL_PREFIX
    return [
        {
            "name": VIEW_NAME,
            "href": (
                f"{root}/task-instance?dag_id={{DAG_ID}}&run_id={{RUN_ID}}&task_id={{TASK_ID}}"
                "&map_index={MAP_INDEX}"
            ),
            "destination": "task_instance",
            "url_route": "xai-media",
        },
        {
            "name": VIEW_NAME,
            "href": f"{root}/dag-run?dag_id={{DAG_ID}}&run_id={{RUN_ID}}",
            "destination": "dag_run",
            "url_route": "xai-media-run",
        },
    ]


class XaiMediaPlugin(AirflowPlugin):
    """Show the images and videos that the provider's tasks generated, in the Airflow UI."""

    name = "xai_media"
    fastapi_apps = [{"app": media_app, "url_prefix": URL_PREFIX, "name": "xAI generated media"}]
    external_views = external_views()


def _providers_discovered_lazily() -> bool:
    try:
        from airflow import settings

        return bool(getattr(settings, "LAZY_LOAD_PROVIDERS", True))
    except Exception:  # noqa: BLE001 - a plugin must never break the component importing it
        return True


#: What the ``airflow.plugins`` entry point loads: the plugin, except when Airflow discovers providers
#: eagerly (``[core] lazy_discover_providers = False``) and so loads it from the provider info as well;
#: loading it twice would record a "Plugin 'xai_media' already registered" import error.
entry_point_plugin: type[XaiMediaPlugin] | None = XaiMediaPlugin if _providers_discovered_lazily() else None
