"""The in-memory store fakes (tests/fakes) stand in for the store functions they name, and
services leave storage expressions to the store, so that faking the store is enough."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from pynamodb.models import Model

from tests.fakes.memory import MemoryStore
from tests.fakes.stores import FAKES, faked_functions, public_methods

SERVICES = sorted((Path(__file__).parents[2] / "chalicelib" / "services").glob("*.py"))


@pytest.mark.parametrize(
    "module, name",
    [(m, n) for m, fake in FAKES.items() for n in public_methods(fake)],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_each_fake_takes_what_the_store_function_takes(module, name):
    real = getattr(module, name)
    fake = getattr(FAKES[module](MemoryStore()), name)
    assert list(inspect.signature(fake).parameters) == list(inspect.signature(real).parameters)
    assert [p.default for p in inspect.signature(fake).parameters.values()] == [
        p.default for p in inspect.signature(real).parameters.values()
    ]


def test_no_two_fakes_replace_one_function():
    memory = MemoryStore()
    assert len(faked_functions(memory)) == sum(len(public_methods(fake)) for fake in FAKES.values())


def _models_imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib.store"):
            module = importlib.import_module(node.module or "")
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if isinstance(value, type) and issubclass(value, Model):
                    names.add(alias.asname or alias.name)
    return names


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_services_build_no_storage_expressions(path):
    """`Customer.status.set(...)`, `Customer.status == "active"` belong in an intent-named
    store function (customers.deactivate_customer_item, still_active...): a service that
    names a model's attribute is building an update or a condition."""
    tree = ast.parse(path.read_text())
    models = _models_imported(tree)
    found = [
        f"line {node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in models)
        and not node.attr[:1].isupper()  # Customer.DoesNotExist and the like are not attributes
        or (isinstance(node, ast.Call) and ast.unparse(node.func) == "getattr" and ast.unparse(node.args[0]) in models)
    ]
    assert found == []
