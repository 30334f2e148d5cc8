"""Remember the remote task of a task instance across tries (Airflow 3.3's ``task_state_store``).

A retry (or a clear after a failure) whose remote task is still running, or completed but not yet
delivered, reattaches to it instead of paying for a second generation. A failed task, or one whose
media URLs expired, is not reused: the next try submits anew. A delivered task is reused only by a
*retry* of the same clearing (Airflow can fail a try after its work was done, e.g. a lost heartbeat);
clearing the task instance raises its ``max_tries``, and then it generates anew.
"""

from __future__ import annotations

import datetime
from typing import Any

from airflow_provider_xai.exceptions import XaiNotFoundError, XaiTransientError
from airflow_provider_xai.protocol import Outcome, outcome_of

STATE_KEY = "xai_remote_task"


class RemoteTaskLedger:
    """Read and write the remote task of this task instance in its ``task_state_store``.

    :param store: the ``task_state_store`` accessor, or ``None`` when unavailable or disabled.
    :param log: where to say what was decided.
    """

    def __init__(self, store: Any, log: Any, max_tries: int | None = None) -> None:
        self.store = store
        self.log = log
        self.max_tries = max_tries

    @classmethod
    def for_context(cls, context: Any, *, enabled: bool, log: Any) -> RemoteTaskLedger:
        """Return the ledger of the running task instance (inactive when disabled or unsupported)."""
        store = context.get("task_state_store") if enabled else None
        if enabled and store is None and log is not None:
            log.info(
                "task_state_store is not available (Airflow < 3.3): every try submits a new xAI task; "
                "a retry cannot reattach to an earlier one."
            )
        return cls(store, log, getattr(context.get("ti"), "max_tries", None))

    def reattachable(self, hook: Any) -> str | None:
        """Return the id of an earlier try's remote task that this try should finish, else ``None``."""
        entry = self._entry()
        if entry is None or not entry.get("xai_task_id"):
            return None
        status = entry.get("status")
        if status != "submitted" and not (status == "delivered" and self._same_clearing(entry)):
            return None
        xai_task_id = entry["xai_task_id"]
        if isinstance(entry.get("state"), dict):  # images generated synchronously: their answer is kept
            self.log.info(
                "Reusing the images of %s that an earlier try generated but did not store: nothing is "
                "generated again (if their URLs have expired, the next try generates anew).",
                xai_task_id,
            )
            return xai_task_id
        try:
            state = hook.get_task(xai_task_id)
        except XaiNotFoundError:
            self.log.info(
                "The earlier try's xAI task %s is unknown to the service; submitting anew.", xai_task_id
            )
            return None
        except XaiTransientError as exc:
            self.log.info("Could not check earlier xAI task %s (%s); reattaching to it.", xai_task_id, exc)
            return xai_task_id
        if outcome_of(state) is Outcome.FAILURE:
            self.log.info(
                "The earlier try's xAI task %s ended %r; submitting anew.", xai_task_id, state.status
            )
            return None
        self.log.info(
            "Reattaching to xAI task %s submitted by an earlier try (status %r): nothing is submitted again.",
            xai_task_id,
            state.status,
        )
        return xai_task_id

    def _entry(self) -> dict[str, Any] | None:
        """Return what the store holds for this task instance (``None``: nothing, or no store)."""
        entry = self.store.get(STATE_KEY) if self.store is not None else None
        return entry if isinstance(entry, dict) else None

    def _same_clearing(self, entry: dict[str, Any]) -> bool:
        """Tell whether ``entry`` was written in this clearing of the task (a retry, not a clear)."""
        return self.max_tries is not None and entry.get("max_tries") == self.max_tries

    def interrupted_submission(self) -> str | None:
        """Return a description of an earlier try of this clearing that died while its request was sent.

        Such a request may have been created and billed, and its id never came back: a retry must not
        submit again. After a clear (a new ``max_tries``) a person has decided, and it submits anew.
        """
        entry = self._entry()
        if entry is None or entry.get("status") != "submitting" or not self._same_clearing(entry):
            return None
        return f"started {entry.get('submitted_at')}"

    def record_submitting(self) -> None:
        """Note, before the request is sent, that a submission is in flight (its id is not known yet)."""
        if self.store is not None:
            submitted_at = datetime.datetime.now(datetime.timezone.utc).isoformat()
            entry = {"status": "submitting", "submitted_at": submitted_at, "max_tries": self.max_tries}
            self.store.set(STATE_KEY, entry)

    def forget_submitting(self) -> None:
        """Drop the in-flight note of a submission the service certainly refused (a retry may submit)."""
        entry = self._entry()
        if entry is not None and entry.get("status") == "submitting":
            self.store.set(STATE_KEY, {**entry, "status": "refused"})

    def record(
        self,
        xai_task_id: str,
        *,
        delivered: bool = False,
        request: dict | None = None,
        state: dict | None = None,
    ) -> None:
        """Store a freshly submitted remote task id (right after submission).

        :param xai_task_id: the remote id (or the id the provider made for synchronous images).
        :param delivered: nothing is left to deliver (``wait_for_completion=False``).
        :param request: the request record a retry finishes with (where an upload goes; no signed URL).
        :param state: the finished state of synchronous images, so a retry stores them instead of paying
            again (URLs, not the images: a few hundred bytes).
        """
        if self.store is not None:
            submitted_at = datetime.datetime.now(datetime.timezone.utc).isoformat()
            entry: dict[str, Any] = {
                "xai_task_id": xai_task_id,
                "status": "delivered" if delivered else "submitted",
                "submitted_at": submitted_at,
                "max_tries": self.max_tries,
            }
            if request is not None:
                entry["request"] = request
            if state is not None:
                entry["state"] = state
            self.store.set(STATE_KEY, entry)

    def saved(self, xai_task_id: str, field: str) -> Any:
        """Return what :meth:`record` kept under ``field`` for this remote task, else ``None``."""
        entry = self._entry()
        if entry is not None and entry.get("xai_task_id") == xai_task_id:
            return entry.get(field)
        return None

    def mark(self, xai_task_id: str, status: str) -> None:
        """Mark the stored remote task ``delivered`` (reused by a retry only) or ``expired`` (never)."""
        entry = self._entry()
        if entry is not None and entry.get("xai_task_id") == xai_task_id:
            self.store.set(STATE_KEY, {**entry, "status": status})
