"""Read the emulator's prompt directives.

A directive is a bracketed word anywhere in the prompt; it forces how the emulated task ends. The
directives are ordinary prompt text for the real service, so a test prompt stays a valid request.

===============================  =================================================================
directive                        effect
===============================  =================================================================
``[xai:failed]``                 ends ``failed``, errorCode 5001, errorMessage "generation failed"
``[xai:cancelled]``              ends ``cancelled``, errorCode 4001, errorMessage "task was cancelled"
``[xai:timeout]``                ends ``timeout``, errorCode 5040, errorMessage "generation timed out"
``[xai:moderated]``              ends ``completed`` with result ``{"respect_moderation": false}``
``[xai:moderated-failed]``       ends ``failed``, errorCode 4003, "content rejected by moderation"
``[xai:nomedia]``                ends ``completed`` with a result that holds no URL at all
``[xai:unknown-status]``         reports ``queued_upstream`` (or ``=<name>``) instead of the
                                 intermediate statuses, then completes
``[xai:shape=<name>]``           result shape: data, video, url, urls, imageUrl, videoUrl, nested
``[xai:seconds=<float>]``        the task's duration in ``time`` progression mode
``[xai:reads=<int>]``            reads to reach the terminal status in ``per-read`` mode
``[xai:size=<bytes>]``           the size of each media file (streamed, generated on the fly)
``[xai:count=<int>]``            number of media files in the result (1 to 10)
===============================  =================================================================

Unknown directives and bad values are ignored, as the real service would ignore them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: Result shapes the emulator can produce.
RESULT_SHAPES = ("data", "video", "url", "urls", "imageUrl", "videoUrl", "nested")

#: The terminal outcome of each outcome directive: (status, errorCode, errorMessage, result kind).
OUTCOMES: dict[str, tuple[str, int | None, str | None, str]] = {
    "completed": ("completed", None, None, "media"),
    "failed": ("failed", 5001, "generation failed", "none"),
    "cancelled": ("cancelled", 4001, "task was cancelled", "none"),
    "timeout": ("timeout", 5040, "generation timed out", "none"),
    "moderated": ("completed", None, None, "moderated"),
    "moderated-failed": ("failed", 4003, "content rejected by moderation", "none"),
    "nomedia": ("completed", None, None, "nomedia"),
}

_DIRECTIVE = re.compile(r"\[xai:([A-Za-z-]+)(?:=([^\]]*))?\]")


@dataclass
class Directives:
    """The settings a prompt forces on its task; ``None`` means "use the emulator's configuration"."""

    outcome: str = "completed"
    unknown_status: str | None = None
    shape: str | None = None
    seconds: float | None = None
    reads: int | None = None
    size: int | None = None
    count: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Return the directives as a plain dict."""
        return dict(self.__dict__)


def _number(text: str | None, kind: type) -> Any:
    try:
        value = kind(text)
    except (TypeError, ValueError):
        return None
    return value if value >= 0 else None


def parse_directives(prompt: str) -> Directives:
    """Collect the directives found in a prompt.

    :param prompt: the request's prompt.
    :return: the directives; the last one of a kind wins.
    """
    found = Directives()
    for match in _DIRECTIVE.finditer(prompt):
        name, value = match.group(1).lower(), match.group(2)
        if name in OUTCOMES:
            found.outcome = name
        elif name == "unknown-status":
            found.unknown_status = value or "queued_upstream"
        elif name == "shape" and value in RESULT_SHAPES:
            found.shape = value
        elif name == "seconds":
            found.seconds = _number(value, float)
        elif name == "reads":
            found.reads = _number(value, int)
        elif name == "size":
            found.size = _number(value, int)
        elif name == "count":
            count = _number(value, int)
            if count is not None and 1 <= count <= 10:
                found.count = count
    return found
