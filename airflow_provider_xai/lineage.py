"""OpenLineage for the xAI operators and sensor: what a generation read and wrote, by OpenLineage's names.

The OpenLineage provider stays optional: nothing here imports it at module level. The naming and the
collection of what a task saw are plain Python (:func:`dataset_ref`, :func:`lineage_refs`); only
:func:`operator_lineage`, which the operators' ``get_openlineage_facets_on_complete`` and
``get_openlineage_facets_on_failure`` call, imports it.

Naming (`OpenLineage's dataset naming <https://openlineage.io/docs/spec/naming>`_):

- ``s3://[conn_id@]bucket/key`` -> namespace ``s3://bucket``, name ``key`` (the Airflow connection id
  that ``ObjectStoragePath`` accepts before the ``@`` is not part of the name);
- a local file (``file:///dir/f.jpeg`` or ``/dir/f.jpeg``) -> namespace ``file``, name ``/dir/f.jpeg``;
- ``https://host[:port]/path?query`` -> namespace ``https://host[:port]``, name ``/path``: the query, the
  fragment and any user info are dropped (a signed URL's signature is a credential);
- another object store ``scheme://bucket/key`` -> namespace ``scheme://bucket``, name ``key``;
- a ``data:`` URI (an inline image) names no dataset.

Outputs are the stored media files; the sidecar ``<xai_task_id>.json`` is their description, not data,
and is not a dataset.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

#: the operator attributes that hold source media (image-to-image, image-to-video, edits, extensions)
SOURCE_ATTRIBUTES = ("image_url", "image_urls", "reference_image_urls", "video_url")
#: request-record keys whose URLs are not sources: the prompt's text, and where an upload goes
_NOT_SOURCES = ("prompt", "delivery")
#: the run facet's key in an OpenLineage event
RUN_FACET_KEY = "xaiGeneration"


@dataclass(frozen=True)
class DatasetRef:
    """One dataset: its OpenLineage namespace and name, and for a stored file its size and checksum."""

    namespace: str
    name: str
    size: int | None = None
    version: str | None = None


@dataclass
class LineageRefs:
    """What one try of a task read and wrote, and what it knows of the remote task."""

    inputs: list[DatasetRef] = field(default_factory=list)
    outputs: list[DatasetRef] = field(default_factory=list)
    facet: dict[str, Any] = field(default_factory=dict)


def dataset_ref(uri: object) -> DatasetRef | None:
    """Return the OpenLineage namespace and name of a URI or local path (``None`` for what names none).

    :param uri: an ``s3://``, ``file://``, ``http(s)://`` URI, another object-store URI, or a local path.
    """
    if not isinstance(uri, str) or not uri.strip() or uri.startswith("data:"):
        return None
    if "://" not in uri:
        return DatasetRef("file", os.path.abspath(os.path.expanduser(uri)))
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    host = parts.netloc.rpartition("@")[2]  # user info, or the Airflow connection id of s3://conn@bucket
    if scheme in ("http", "https"):
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        return DatasetRef(f"{scheme}://{host}", parts.path or "/") if host else None
    if scheme in ("file", "local"):
        if host in ("", "localhost"):
            return DatasetRef("file", parts.path)
        return DatasetRef(f"file://{host}", parts.path)
    scheme = {"s3a": "s3", "s3n": "s3", "gcs": "gs"}.get(scheme, scheme)
    name = parts.path.lstrip("/")
    return DatasetRef(f"{scheme}://{host}", name) if host and name else None


def output_refs(files: Iterable[Mapping[str, Any]]) -> list[DatasetRef]:
    """Return a dataset per stored file (the sidecar's ``files`` entries), with its size and checksum."""
    refs = []
    for file in files:
        ref = dataset_ref(file.get("uri"))
        if ref is not None:
            version = file.get("sha256") or file.get("md5") or file.get("etag")
            refs.append(DatasetRef(ref.namespace, ref.name, file.get("size"), version))
    return refs


def source_urls(operator: object, request: Mapping[str, Any] | None) -> list[str]:
    """Return the source media a task sent: from its rendered attributes and its request record."""
    urls: list[str] = []
    for name in SOURCE_ATTRIBUTES:
        _collect(getattr(operator, name, None), urls)
    if isinstance(request, Mapping):
        _collect({k: v for k, v in request.items() if k not in _NOT_SOURCES}, urls)
    return urls


def _collect(value: object, urls: list[str]) -> None:
    if isinstance(value, str):
        if value.startswith(("http://", "https://", "s3://", "gs://")) and value not in urls:
            urls.append(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect(item, urls)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, urls)


def lineage_refs(operator: Any, seen: Mapping[str, Any], *, failed: bool) -> LineageRefs:
    """Return what a task's try read and wrote, from what it saw (``lineage_seen``) and its attributes.

    :param operator: the operator or sensor (its rendered attributes name the sources).
    :param seen: what the try recorded: ``xai_task_id``, ``request``, ``state``, ``result``, ``files``.
    :param failed: the try failed: no outputs, and the run facet holds what is known.
    """
    request = seen.get("request")
    inputs: list[DatasetRef] = []
    for url in source_urls(operator, request):
        ref = dataset_ref(url)
        if ref is not None and ref not in inputs:
            inputs.append(ref)
    result = seen.get("result") if not failed else None
    outputs = output_refs(seen.get("files") or []) if result else []
    return LineageRefs(inputs, outputs, run_facet_fields(operator, seen, result))


def run_facet_fields(operator: Any, seen: Mapping[str, Any], result: Mapping[str, Any] | None) -> dict:
    """Return the fields of the ``xaiGeneration`` run facet (never a URL, a key or a prompt)."""
    state = seen.get("state")
    request: Mapping[str, Any] = seen["request"] if isinstance(seen.get("request"), Mapping) else {}
    if result:
        usage = result.get("usage") or {}
        return {
            "xaiTaskId": result.get("xai_task_id"),
            "api": result.get("api"),
            "model": result.get("model"),
            "status": result.get("status"),
            "costUsd": usage.get("cost_usd"),
            "mediaCount": usage.get("media_count"),
            "videoSeconds": usage.get("video_seconds"),
            "traceId": result.get("trace_id"),
        }
    hook = getattr(operator, "__dict__", {}).get("hook")  # only a hook already made: no connection I/O
    model = request.get("model") or getattr(operator, "model", None)
    return {
        "xaiTaskId": seen.get("xai_task_id") or getattr(operator, "_xai_task_id", None),
        "api": getattr(state, "api", None) or getattr(getattr(hook, "dialect", None), "name", None),
        "model": model if isinstance(model, str) else None,
        "status": getattr(state, "status", None),
        "costUsd": getattr(state, "cost_usd", None),
        "mediaCount": None,
        "videoSeconds": None,
        "traceId": getattr(state, "trace_id", None),
    }


def operator_lineage(operator: Any, seen: Mapping[str, Any], *, failed: bool) -> Any:
    """Return the OpenLineage provider's ``OperatorLineage`` of a task's try (imports the provider).

    :param operator: the operator or sensor.
    :param seen: what the try recorded (see :func:`lineage_refs`).
    :param failed: build the failure event's lineage.
    """
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import Dataset, OutputDataset
    from openlineage.client.facet_v2 import dataset_version_dataset, output_statistics_output_dataset

    from airflow_provider_xai.lineage_facets import XaiGenerationRunFacet

    refs = lineage_refs(operator, seen, failed=failed)
    outputs = []
    for ref in refs.outputs:
        facets: dict[str, Any] = {}
        if ref.version:
            facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=ref.version)
        statistics = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            size=ref.size, fileCount=1
        )
        outputs.append(
            OutputDataset(
                namespace=ref.namespace,
                name=ref.name,
                facets=facets,
                outputFacets={"outputStatistics": statistics},
            )
        )
    return OperatorLineage(
        inputs=[Dataset(namespace=ref.namespace, name=ref.name) for ref in refs.inputs],
        outputs=outputs,
        run_facets={RUN_FACET_KEY: XaiGenerationRunFacet(**refs.facet)},
    )
