"""`python -m devstack.local_api`: `chalice local` with API Gateway's own errors in the
contract's shape, as the deployed stage's gateway responses give them.

Chalice's local server answers an unknown route with `403 {"message": "Missing
Authentication Token"}` (and, with an Authorization header, another 403), and an HTTP
method it has no handler for (TRACE, ...) with a 501 HTML page. Here the first is
`404 not_found` and the second `405 method_not_allowed`, both in the contract's JSON error.
Everything else is chalice's own server: same app loading, routing and event shape. The
app never answers either case itself, so a catch-all route would change the deployed API
for the sake of the local one; this wrapper is local-only, like the rest of devstack."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from http import HTTPStatus

from chalice.cli.factory import CLIFactory
from chalice.deploy.validate import validate_routes
from chalice.local import ChaliceRequestHandler, ForbiddenError, LocalDevServer, LocalGatewayException

from .config import REPO_ROOT

# What the standard library's HTTP server answers by itself -> (status, the contract's code).
# An overlong URL is a path parameter of some length: not found, as the contract says.
SERVER_ERRORS = {
    HTTPStatus.NOT_IMPLEMENTED: (405, "method_not_allowed"),
    HTTPStatus.BAD_REQUEST: (400, "validation_error"),
    HTTPStatus.REQUEST_URI_TOO_LONG: (404, "not_found"),
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: (400, "validation_error"),
}


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": []}}).encode()


class ContractErrorsHandler(ChaliceRequestHandler):
    def _send_error_response(self, error: LocalGatewayException) -> None:
        if isinstance(error, ForbiddenError):  # no route matched (the app has no authorizers)
            self._send_json(404, error_body("not_found", "No such route."))
        else:
            super()._send_error_response(error)

    def send_error(self, code, message=None, explain=None):
        """The standard library's own errors: an unsupported method (501 there), a bad
        request line, an overlong URL or header."""
        status, name = SERVER_ERRORS.get(code, (int(code), "bad_request"))
        self.close_connection = True
        self._send_json(status, error_body(name, HTTPStatus(status).phrase + "."))

    def _send_json(self, status: int, body: bytes) -> None:
        self._send_http_response(status, {"Content-Type": "application/json", "Cache-Control": "no-store"}, body)


def serve(host: str, port: int, stage: str) -> None:
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"  # as the chalice CLI sets it
    factory = CLIFactory(str(REPO_ROOT), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    validate_routes(config.chalice_app.routes)
    # What chalice.local.create_local_server does, with our handler.
    from chalice.local import CustomLocalChalice, LocalChalice

    app = config.chalice_app
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    LocalDevServer(app, config, host, port, handler_cls=ContractErrorsHandler).serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.local_api")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local")
    args = parser.parse_args(argv)
    os.chdir(REPO_ROOT)
    serve(args.host, args.port, args.stage)
    return 0


if __name__ == "__main__":
    sys.exit(main())
