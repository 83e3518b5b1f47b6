"""Ops and scheduled functions: registered from one name, the event validated against the
schema of that name, the service's answer (or the contract's error) returned as JSON."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Chalice

from chalicelib.errors import PledgeError
from chalicelib.input_guard import check_encodable
from chalicelib.observability import flush_metrics, get_logger
from chalicelib.validation import validate

if TYPE_CHECKING:
    from chalice.app import EventSourceHandler


OpsAction = Callable[[dict], dict]
ScheduledAction = Callable[[Callable[[], float]], dict]
QueueAction = Callable[[dict, Callable[[], float]], dict]


def ops_function(app: Chalice) -> Callable[[OpsAction], Any]:
    """`@ops_function(app)` over `def ops_x(event) -> dict`: the Lambda function `ops_x`,
    its event checked against schemas/ops_x.json, the action given the valid event."""

    def register(action: OpsAction) -> Any:
        @functools.wraps(action)
        def handler(event: Any, context: Any) -> dict:
            return run_ops(action.__name__, event, action)

        return app.lambda_function(name=action.__name__)(handler)

    return register


def scheduled_function(app: Chalice, expression: str) -> Callable[[ScheduledAction], Any]:
    """`@scheduled_function(app, "rate(1 hour)")` over `def job(time_left) -> dict`: an
    EventBridge schedule that also takes any event by hand; `time_left()` is the seconds
    the invocation has left."""

    def register(action: ScheduledAction) -> Any:
        @functools.wraps(action)
        def handler(event: Any) -> dict:
            context = event.context
            return run_scheduled(action.__name__, lambda: action(lambda: context.get_remaining_time_in_millis() / 1000))

        return accepts_any_event(app.schedule(expression, name=action.__name__)(handler))

    return register


def queue_worker(app: Chalice, queue_arn: str) -> Callable[[QueueAction], Any]:
    """`@queue_worker(app, queue_arn)` over `def worker(message, time_left) -> dict`: the
    function the queue's event source runs, one message at a time, its body checked
    against schemas/<worker>.json. A malformed message is logged and dropped (delivering
    it again cannot fix it); an exception raises, so SQS delivers the message again, and
    after a few tries moves it to the dead-letter queue."""

    def register(action: QueueAction) -> Any:
        @functools.wraps(action)
        def handler(event: Any) -> dict:
            from chalicelib.campaign_queue import message_bodies

            context = event.context

            def time_left() -> float:
                return context.get_remaining_time_in_millis() / 1000

            results = [
                run_ops(action.__name__, body, lambda message: action(message, time_left))
                for body in message_bodies(event.to_dict())
            ]
            return {"results": results}

        return app.on_sqs_message(queue_arn=queue_arn, batch_size=1, name=action.__name__)(handler)

    return register


def run_ops(name: str, event: Any, action: Callable[[dict], dict], schema: str | None = None) -> dict:
    """`{"error": {...}}` for a bad event or a refused action; the action's result otherwise."""
    logger = get_logger()
    try:
        event = event if event is not None else {}
        check_encodable(event)
        result = action(validate(schema or name, event))
    except PledgeError as error:
        # Why, without values: the code, the contract's message (written by us, never
        # quoting input) and the paths of the fields at fault.
        logger.info(
            "ops function refused",
            extra={
                "function": name,
                "code": error.code,
                "error_message": error.message,
                "error_fields": [detail["path"] for detail in error.details],
            },
        )
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


MANUAL_EVENT = {
    "version": "0",
    "id": "manual",
    "detail-type": "Manual Invocation",
    "source": "ops",
    "account": "",
    "time": "",
    "region": "",
    "resources": [],
    "detail": {},
}
