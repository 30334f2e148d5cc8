"""TaskFlow decorators ``@task.xai_image`` and ``@task.xai_video``.

The decorated function runs in the worker when the task starts and returns the prompt (a string) or a
dict of the operator's parameters; the operator then does everything else: validation, submission,
waiting or deferral, storage, retries, lineage. The decorator's keyword arguments are the operator's
(templated as usual); what the function returns is used as it is, never rendered as a template (a prompt
built from data may contain ``{{``).

For example::

    from airflow.sdk import task


    @task.xai_image(aspect_ratio="16:9", output_path="s3://aws_default@bucket/posters")
    def poster(city: str) -> str:
        return f"A travel poster of {city} in art-deco style"


    poster.expand(city=["Lisbon", "Kyoto"])
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk.bases.decorator import DecoratedOperator, task_decorator_factory
from airflow.sdk.definitions._internal.types import SET_DURING_EXECUTION
from airflow.sdk.definitions.context import context_merge

from airflow_provider_xai.operators.xai import XaiBaseGenerateOperator, XaiImageOperator, XaiVideoOperator

try:  # Airflow 3.3+
    from airflow.sdk.bases.decorator import determine_kwargs
except ImportError:  # Airflow 3.1 - 3.2
    from airflow.utils.operator_helpers import determine_kwargs  # type: ignore[no-redef]

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.sdk.bases.decorator import TaskDecorator

#: what a decorated function may set besides the templated parameters of its operator
RUNTIME_PARAMETERS = (
    "xai_conn_id",
    "wait_for_completion",
    "deferrable",
    "poll_interval",
    "timeout",
    "reattach_on_retry",
)


class _XaiDecoratedMixin:
    """Run the decorated function, apply what it returned to the operator, then let the operator work."""

    python_callable: Callable
    op_args: Collection[Any]
    op_kwargs: Mapping[str, Any]
    template_fields: Sequence[str]
    custom_operator_name: str
    if TYPE_CHECKING:
        poll_interval: Any
        timeout: Any

        def set_wait_timings(self, interval_name: str, interval: object, timeout: object) -> None: ...

    def execute(self, context: Context) -> Any:
        """Call the function with its arguments and the context, apply its value, then execute."""
        context_merge(context, self.op_kwargs)
        kwargs = determine_kwargs(self.python_callable, self.op_args, context)
        self.apply_returned(self.python_callable(*self.op_args, **kwargs))
        return super().execute(context)  # type: ignore[misc]

    def request_body(self) -> dict | None:
        """Return the request's body, or ``None`` on a resume that never ran the function.

        A resumed task gets its request from ``next_kwargs`` or ``task_state_store``; only ``dag.test()`` on
        Airflow < 3.3 has neither, and the function is not called a second time to rebuild it.
        """
        if getattr(self, "prompt", None) is SET_DURING_EXECUTION:
            return None
        return super().request_body()  # type: ignore[misc]

    def allowed_parameters(self) -> tuple[str, ...]:
        """Return the parameters the function's dict may set: the operator's templated ones and a few more."""
        own = [f for f in self.template_fields if f not in DecoratedOperator.template_fields]
        return (*own, *RUNTIME_PARAMETERS)

    def apply_returned(self, value: object) -> None:
        """Set the prompt (a string) or the parameters (a dict) the function returned; refuse the rest."""
        name = getattr(self.python_callable, "__qualname__", repr(self.python_callable))
        allowed = self.allowed_parameters()
        if isinstance(value, str):
            value = {"prompt": value}
        if not isinstance(value, Mapping):
            raise TypeError(
                f"{self.custom_operator_name} function {name}() returned {type(value).__name__} "
                f"{_short(value)}. Allowed: the prompt (a str) or a dict of the operator's parameters "
                f"({', '.join(allowed)})."
            )
        unknown = sorted(str(key) for key in value if key not in allowed)
        if unknown:
            raise TypeError(
                f"{self.custom_operator_name} function {name}() returned unknown parameter(s) "
                f"{', '.join(unknown)}. Allowed keys: {', '.join(allowed)}."
            )
        for key, item in value.items():
            setattr(self, key, item)
        if getattr(self, "prompt", None) is SET_DURING_EXECUTION:
            raise TypeError(
                f"{self.custom_operator_name} function {name}() returned no prompt: return the prompt (a "
                "str), a dict with 'prompt', or give prompt= to the decorator."
            )
        if "poll_interval" in value or "timeout" in value:
            self.set_wait_timings("poll_interval", self.poll_interval, self.timeout)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _XaiImageDecoratedOperator(_XaiDecoratedMixin, DecoratedOperator, XaiImageOperator):
    """:class:`~airflow_provider_xai.operators.xai.XaiImageOperator` whose function gives the prompt."""

    template_fields: Sequence[str] = (*DecoratedOperator.template_fields, *XaiImageOperator.template_fields)
    template_fields_renderers: ClassVar[dict[str, str]] = {**DecoratedOperator.template_fields_renderers}
    custom_operator_name: str = "@task.xai_image"
    # the UI shows the prompt the function returned, not the placeholder rendered before it ran
    overwrite_rtif_after_execution: bool = True

    def __init__(self, *, python_callable: Callable, prompt: Any = SET_DURING_EXECUTION, **kwargs: Any):
        super().__init__(python_callable=python_callable, prompt=prompt, **kwargs)


class _XaiVideoDecoratedOperator(_XaiDecoratedMixin, DecoratedOperator, XaiVideoOperator):
    """:class:`~airflow_provider_xai.operators.xai.XaiVideoOperator` whose function gives the prompt."""

    template_fields: Sequence[str] = (*DecoratedOperator.template_fields, *XaiVideoOperator.template_fields)
    template_fields_renderers: ClassVar[dict[str, str]] = {**DecoratedOperator.template_fields_renderers}
    custom_operator_name: str = "@task.xai_video"
    overwrite_rtif_after_execution: bool = True

    def __init__(self, *, python_callable: Callable, prompt: Any = SET_DURING_EXECUTION, **kwargs: Any):
        super().__init__(python_callable=python_callable, prompt=prompt, **kwargs)


def _factory(
    operator: type[XaiBaseGenerateOperator], python_callable: Callable | None, kwargs: dict[str, Any]
) -> TaskDecorator:
    # the operator's result is one dict: a ``-> dict`` annotation must not unroll it into many XComs
    kwargs.setdefault("multiple_outputs", False)
    return task_decorator_factory(
        python_callable=python_callable, decorated_operator_class=operator, **kwargs
    )


def xai_image_task(python_callable: Callable | None = None, **kwargs: Any) -> TaskDecorator:
    """Wrap a function into an :class:`~airflow_provider_xai.operators.xai.XaiImageOperator` task.

    The function returns the prompt (a ``str``) or a dict of the operator's parameters; keyword arguments
    of the decorator are the operator's (``prompt`` may come from either). Used as ``@task.xai_image``.

    :param python_callable: the function (given when the decorator is used without parentheses).
    :param kwargs: the operator's parameters (``aspect_ratio``, ``output_path``, ``xai_conn_id``...) and
        the task's (``task_id``, ``retries``, ``pool``...).
    """
    return _factory(_XaiImageDecoratedOperator, python_callable, kwargs)


def xai_video_task(python_callable: Callable | None = None, **kwargs: Any) -> TaskDecorator:
    """Wrap a function into an :class:`~airflow_provider_xai.operators.xai.XaiVideoOperator` task.

    The function returns the prompt (a ``str``) or a dict of the operator's parameters; keyword arguments
    of the decorator are the operator's (``prompt`` may come from either). Used as ``@task.xai_video``.

    :param python_callable: the function (given when the decorator is used without parentheses).
    :param kwargs: the operator's parameters (``duration``, ``image_url``, ``output_path``...) and the
        task's (``task_id``, ``retries``, ``pool``...).
    """
    return _factory(_XaiVideoDecoratedOperator, python_callable, kwargs)
