"""The Lambda functions `chalice package` makes from app.py, with the CloudFormation
resource names it gives them (the merge template refers to those names)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
API_HANDLER = "api_handler"


@dataclass(frozen=True)
class AppFunction:
    name: str  # the name in app.py (and in infra/function_access.json)
    kind: str  # "api" | "lambda" | "schedule" | "sqs"
    schedule: str | None = None

    @property
    def resource(self) -> str:
        from chalice.utils import to_cfn_resource_name

        # Chalice renames the REST API's handler resource after generating it.
        return "APIHandler" if self.name == API_HANDLER else to_cfn_resource_name(self.name)

    @property
    def log_group_resource(self) -> str:
        from chalice.utils import to_cfn_resource_name

        return to_cfn_resource_name(f"{self.name}-log-group")


def load_app():
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import app

    return app.app


def app_functions(chalice_app=None) -> list[AppFunction]:
    """Every function of the app: the REST API's handler, each @app.lambda_function, each
    @app.schedule and each @app.on_sqs_message. Other event sources would need wiring here first."""
    from chalice.app import ScheduledEventConfig, SQSEventConfig

    chalice_app = chalice_app or load_app()
    functions = [AppFunction(API_HANDLER, "api")] if chalice_app.routes else []
    functions += [AppFunction(f.name, "lambda") for f in chalice_app.pure_lambda_functions]
    for source in chalice_app.event_sources:
        if isinstance(source, SQSEventConfig):
            functions.append(AppFunction(source.name, "sqs"))
            continue
        if not isinstance(source, ScheduledEventConfig):
            raise TypeError(f"{source.name}: only schedule and SQS event sources are wired in infra/")
        expression = source.schedule_expression
        functions.append(
            AppFunction(source.name, "schedule", expression if isinstance(expression, str) else expression.to_string())
        )
    return functions
