"""chalicelib/openapi.json describes exactly the app's routes, with the request schemas the
app validates against, as a valid OpenAPI 3.1 document."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from app import app
from chalicelib.errors import NotFound, ValidationFailed
from devstack.openapi import SPEC, render, synced

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def spec() -> dict:
    return json.loads(SPEC.read_text())


def test_the_spec_and_the_app_have_the_same_routes():
    in_app = {(path, method.lower()) for path, methods in app.routes.items() for method in methods}
    in_spec = {(path, method) for path, item in spec()["paths"].items() for method in item if method in HTTP_METHODS}
    assert in_app - in_spec == set(), "routes missing from chalicelib/openapi.json"
    assert in_spec - in_app == set(), "chalicelib/openapi.json documents routes the app does not have"


def test_the_spec_is_a_valid_openapi_3_1_document():
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator

    validate(spec(), cls=OpenAPIV31SpecValidator)


def test_the_request_schemas_are_the_ones_the_app_validates_with():
    assert render(synced(spec())) == SPEC.read_text(), "stale: run `.venv/bin/python -m devstack openapi`"


def test_every_operation_documents_the_error_shape_for_client_errors():
    for path, item in spec()["paths"].items():
        for method, operation in item.items():
            assert operation["responses"]["4XX"] == {"$ref": "#/components/responses/Error"}, (method, path)
            assert not any(code.startswith("5") for code in operation["responses"]), (method, path)


def test_the_error_schema_is_what_the_app_answers():
    error_schema = {
        **spec()["components"]["schemas"]["Error"],
        "$schema": "https://json-schema.org/draft/2020-12/schema",
    }
    validator = Draft202012Validator(error_schema)
    validator.validate(NotFound("No such ticket.").to_dict())
    validator.validate(ValidationFailed("bad", [{"path": "email", "message": "has an invalid format"}]).to_dict())
    assert not validator.is_valid({"message": "Missing Authentication Token"})
