"""The app's ops and scheduled functions, found through Chalice's own registries, and
a way to call one the way Lambda does."""

from __future__ import annotations

import getpass
import importlib
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from .config import REPO_ROOT

ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass(frozen=True)
class Function:
    name: str
    kind: str  # "lambda" (@app.lambda_function), "schedule" (@app.schedule) or "sqs" (@app.on_sqs_message)
    handler_string: str
    handler: Callable[[dict, Any], Any]
    schedule_expression: str | None = None


class FakeLambdaContext:
    """What Lambda passes as `context`, as much as Powertools and the app use."""

    def __init__(self, function_name: str, timeout_ms: int = 900_000, memory_limit_in_mb: int = 512):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pledge-local-{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/pledge-local-{function_name}"
        self.log_stream_name = "local"
        self.identity = None
        # As `aws lambda invoke --client-context` would send it: the local user declares who runs it.
        self.client_context = SimpleNamespace(client=None, env=None, custom={"caller": f"{local_user()}@local"})
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "someone"


def load_app_module(module_name: str | None = None):
    """Import the Chalice app module (default `app`, or $PLEDGE_DEVSTACK_APP) from the repo root."""
    name = module_name or os.environ.get("PLEDGE_DEVSTACK_APP") or "app"
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    return importlib.import_module(name)


def _schedule_string(expression: Any) -> str:
    return expression if isinstance(expression, str) else expression.to_string()


def _resolve(app_module, app, name: str, handler_string: str) -> Callable:
    handler = getattr(app, "handler_map", {}).get(name)
    if handler is not None:
        return handler
    module_name, _, attr = handler_string.rpartition(".")
    module = app_module if module_name in ("app", app_module.__name__) else importlib.import_module(module_name)
    return getattr(module, attr)


def discover(app_module) -> dict[str, Function]:
    """name -> Function for every @app.lambda_function, @app.schedule and @app.on_sqs_message of the app."""
    from chalice.app import ScheduledEventConfig, SQSEventConfig

    app = app_module.app
    found: dict[str, Function] = {}
    for fn in app.pure_lambda_functions:
        found[fn.name] = Function(
            fn.name, "lambda", fn.handler_string, _resolve(app_module, app, fn.name, fn.handler_string)
        )
    for source in app.event_sources:
        if isinstance(source, ScheduledEventConfig):
            found[source.name] = Function(
                source.name,
                "schedule",
                source.handler_string,
                _resolve(app_module, app, source.name, source.handler_string),
                _schedule_string(source.schedule_expression),
            )
        elif isinstance(source, SQSEventConfig):
            found[source.name] = Function(
                source.name, "sqs", source.handler_string, _resolve(app_module, app, source.name, source.handler_string)
            )
    return found


def scheduled_event(name: str, overrides: dict | None = None) -> dict:
    """An EventBridge scheduled event, as a rule named after the function sends it."""
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/pledge-local-{name}"],
        "detail": {},
    }
    event.update(overrides or {})
    return event


def call(function: Function, event: dict) -> Any:
    """Run the function as Lambda would: (event, context). Scheduled functions get a full
    EventBridge event with `event`'s keys laid over it; queue-fed ones an SQS event with
    `event` as its one message."""
    from infra.console_events import console_event

    if function.kind == "schedule":
        event = scheduled_event(function.name, event)
    event = console_event(function.name, function.kind, event)
    return function.handler(event, FakeLambdaContext(function.name))


def is_failure(result: Any) -> bool:
    """`{"error": {...}}`; a result that merely has an `error` field (a notice's: None) is not."""
    return isinstance(result, dict) and isinstance(result.get("error"), dict)
