"""Running an ops function: validate the event, call the service, answer JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from chalicelib.errors import PledgeError
from chalicelib.observability import flush_metrics, get_logger
from chalicelib.validation import validate

if TYPE_CHECKING:
    from chalice.app import EventSourceHandler


def run_ops(name: str, event: Any, action: Callable[[dict], dict], schema: str | None = None) -> dict:
    """`{"error": {...}}` for a bad event or a refused action; the action's result otherwise."""
    logger = get_logger()
    try:
        result = action(validate(schema or name, event if event is not None else {}))
    except PledgeError as error:
        # Why, without values: the code, the contract's message (written by us, never
        # quoting input) and the paths of the fields at fault.
        logger.info("ops function refused", extra={"function": name, "code": error.code, "error_message": error.message,
                                                   "error_fields": [detail["path"] for detail in error.details]})
        return error.to_dict()
    finally:
        flush_metrics()
    logger.info("ops function done", extra={"function": name})
    return result


def run_scheduled(name: str, action: Callable[[], dict]) -> dict:
    """Running a scheduled function: its result logged and its metrics flushed. Failures
    raise, so Lambda counts an error (and EventBridge's next run tries again)."""
    try:
        result = action()
    finally:
        flush_metrics()
    get_logger().info("scheduled function done", extra={"function": name, "result": result})
    return result


def accepts_any_event(handler: EventSourceHandler) -> EventSourceHandler:
    """Let a scheduled function take any event, not only EventBridge's: ops run them by
    hand (`{}` from the console's test tab). Chalice would fail on the missing fields."""
    from chalice.app import CloudWatchEvent

    class ScheduledOrManualEvent(CloudWatchEvent):
        def _extract_attributes(self, event_dict: Any) -> None:
            given = event_dict if isinstance(event_dict, dict) else {}
            super()._extract_attributes({**MANUAL_EVENT, **given})

    handler.event_class = ScheduledOrManualEvent
    return handler


MANUAL_EVENT = {"version": "0", "id": "manual", "detail-type": "Manual Invocation", "source": "ops",
                "account": "", "time": "", "region": "", "resources": [], "detail": {}}
