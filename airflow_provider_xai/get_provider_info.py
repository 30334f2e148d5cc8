"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point.

Keep this module import-light: every ``airflow`` command loads it.
"""

from __future__ import annotations

from typing import Any

_INTEGRATION = "xAI"


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata (validated against Airflow's ``provider_info.schema.json``)."""
    return {
        "package-name": "airflow-provider-xai",
        "name": "xAI",
        "description": "Generate images and videos with xAI's Grok Imagine models from Airflow DAGs.",
        "integrations": [
            {
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://x.ai/",
                "tags": ["ai"],
            }
        ],
        "connection-types": [
            {
                "connection-type": "xai",
                "hook-class-name": "airflow_provider_xai.hooks.xai.XaiHook",
                "hook-name": "xAI (Grok Imagine)",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login", "extra"],
                    "relabeling": {"host": "Base URL", "password": "API key"},
                    "placeholders": {
                        "host": (
                            "https://api.mountsea.ai (task gateway) or https://api.x.ai (xAI's own API); "
                            "http://127.0.0.1:8089 for the emulator (both APIs)"
                        ),
                        "password": "your xAI API key",
                    },
                },
                "conn-fields": {
                    "api": {
                        "label": "API",
                        "description": (
                            '"gateway" = the task gateway; "xai" = xAI\'s own API at https://api.x.ai. '
                            "Empty: xai for a host of https://api.x.ai, else gateway."
                        ),
                        "schema": {
                            "type": ["string", "null"],
                            "enum": ["gateway", "xai", None],
                            "values_display": {
                                "gateway": "gateway (the task gateway)",
                                "xai": "xai (xAI's own API, https://api.x.ai)",
                                "None": "from the host (https://api.x.ai means xai)",
                            },
                        },
                    },
                    "ca_bundle": {
                        "label": "CA bundle",
                        "description": "Path to a CA bundle for TLS (corporate proxies that re-sign TLS).",
                        "schema": {"type": ["string", "null"]},
                    },
                },
            }
        ],
        "extra-links": ["airflow_provider_xai.links.XaiOutputLink"],
        "plugins": [
            {"name": "xai_media", "plugin-class": "airflow_provider_xai.plugins.media.XaiMediaPlugin"}
        ],
        "hooks": [{"integration-name": _INTEGRATION, "python-modules": ["airflow_provider_xai.hooks.xai"]}],
        "operators": [
            {"integration-name": _INTEGRATION, "python-modules": ["airflow_provider_xai.operators.xai"]}
        ],
        "sensors": [
            {"integration-name": _INTEGRATION, "python-modules": ["airflow_provider_xai.sensors.xai"]}
        ],
        "triggers": [
            {"integration-name": _INTEGRATION, "python-modules": ["airflow_provider_xai.triggers.xai"]}
        ],
        "task-decorators": [
            {"name": "xai_image", "class-name": "airflow_provider_xai.decorators.xai.xai_image_task"},
            {"name": "xai_video", "class-name": "airflow_provider_xai.decorators.xai.xai_video_task"},
        ],
    }
