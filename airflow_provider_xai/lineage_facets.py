"""The provider's OpenLineage run facet. It imports the OpenLineage client: import it only where installed."""

from __future__ import annotations

from attrs import define
from openlineage.client.facet_v2 import RunFacet

from airflow_provider_xai import __version__

#: who produced the facet (OpenLineage's ``_producer``)
PRODUCER = f"https://pypi.org/project/airflow-provider-xai/{__version__}/"
#: the facet's JSON schema, shipped in the package as ``XaiGenerationRunFacet.json``
SCHEMA_URL = f"{PRODUCER}#/$defs/XaiGenerationRunFacet"


@define
class XaiGenerationRunFacet(RunFacet):
    """What an xAI generation was: the remote task, the API, the model, its status and cost.

    :param xaiTaskId: the remote id (a gateway ``taskId``, an xAI ``request_id`` or the provider's id).
    :param api: ``"gateway"`` or ``"xai"``.
    :param model: the model, e.g. ``grok-imagine-video``.
    :param status: the remote status (``completed`` on success; on failure the status seen, if any).
    :param costUsd: the cost xAI's API reported, in USD (``None`` on the gateway).
    :param mediaCount: how many media the task produced.
    :param videoSeconds: the video's length in seconds (``0`` for images, ``None`` where unknown).
    :param traceId: the service's trace id, for support requests.
    """

    xaiTaskId: str | None = None  # noqa: N815 - OpenLineage facets use camelCase
    api: str | None = None
    model: str | None = None
    status: str | None = None
    costUsd: float | None = None  # noqa: N815
    mediaCount: int | None = None  # noqa: N815
    videoSeconds: float | None = None  # noqa: N815
    traceId: str | None = None  # noqa: N815

    def __attrs_post_init__(self) -> None:
        if not self._producer:
            self._producer = PRODUCER
        super().__attrs_post_init__()

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA_URL
