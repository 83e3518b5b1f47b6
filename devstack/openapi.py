"""`python -m devstack openapi`: copy the request-body JSON Schemas (chalicelib/schemas)
into chalicelib/openapi.json, so the served document validates bodies exactly as the app
does, and the catalog's skus into the `sku` path parameter. tests/unit/test_openapi.py
fails while the copy is stale.

Paths, responses and the response schemas are written by hand in openapi.json."""

from __future__ import annotations

import json
from pathlib import Path

from .config import REPO_ROOT

SPEC = REPO_ROOT / "chalicelib" / "openapi.json"
SCHEMAS = REPO_ROOT / "chalicelib" / "schemas"
CATALOG = REPO_ROOT / "chalicelib" / "data" / "catalog.json"
COMMON_REF = "common.json#/"
COMMON_COMPONENT = "#/components/schemas/common/"


def request_schema_names(spec: dict) -> set[str]:
    """The schema files the spec's JSON request bodies name, and `common` they all share."""
    names = {"common"}
    for operations in spec["paths"].values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                names.add(content["schema"]["$ref"].rsplit("/", 1)[-1])
    return names


def inlined(name: str) -> dict:
    """A schema file as a component: no `$schema`/`$id`; refs into common.json, and the
    file's refs into itself (`#/$defs/...`), rewritten to point at the components."""
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    schema.pop("$schema", None)
    schema.pop("$id", None)
    return _rewrite(schema, f"#/components/schemas/{name}/")


def _rewritten_ref(ref: str, own: str) -> str:
    if ref.startswith(COMMON_REF):
        return COMMON_COMPONENT + ref[len(COMMON_REF) :]
    if ref.startswith("#/"):
        return own + ref[2:]
    return ref


def _rewrite(node, own: str):
    if isinstance(node, dict):
        return {
            key: (_rewritten_ref(value, own) if key == "$ref" and isinstance(value, str) else _rewrite(value, own))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(item, own) for item in node]
    return node


def synced(spec: dict) -> dict:
    schemas = dict(spec["components"]["schemas"])
    schemas.update({name: inlined(name) for name in sorted(request_schema_names(spec))})
    parameters = dict(spec["components"]["parameters"])
    skus = [product["sku"] for product in json.loads(CATALOG.read_text())["products"]]
    parameters["Sku"] = {**parameters["Sku"], "schema": {**parameters["Sku"]["schema"], "enum": skus}}
    return {**spec, "components": {**spec["components"], "schemas": schemas, "parameters": parameters}}


def render(spec: dict) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"


def sync(path: Path = SPEC) -> bool:
    """Rewrite the spec's request schemas; True when the file changed."""
    before = path.read_text()
    after = render(synced(json.loads(before)))
    if after != before:
        path.write_text(after)
    return after != before
