"""The task's extra link in the UI: its stored output, or the media URL while it lives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from airflow.sdk import BaseOperator, BaseOperatorLink
from airflow.sdk.bases.xcom import BaseXCom

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey


def output_link(value: dict[str, Any]) -> str:
    """Return the URL that best shows a task's result: the first stored file, else the first media URL."""
    for uri in value.get("outputs") or []:
        parts = urlsplit(uri)
        if parts.scheme == "s3":
            bucket = parts.netloc.rpartition("@")[2]
            return (
                f"https://s3.console.aws.amazon.com/s3/object/{bucket}?prefix={quote(parts.path.lstrip('/'))}"
            )
        return uri
    urls = value.get("media_urls") or []
    return urls[0] if urls else ""


class XaiOutputLink(BaseOperatorLink):
    """Link a task to its stored output (S3 console or file URI), or to the media URL while it lives."""

    name = "xAI output"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """Return the link pushed by the task when it finished (empty before that)."""
        return BaseXCom.get_value(ti_key=ti_key, key=self.xcom_key) or ""  # type: ignore[arg-type]
