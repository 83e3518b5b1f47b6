"""Modules loaded on first use. Routes name their services at the top, as usual, through
`lazy_module`: every Lambda function imports app.py and so every route module, and the
cold start should not pay for the services (and PynamoDB, and botocore) of routes the
request does not take. The module is executed when one of its attributes is first used.

Type checkers see the real modules: routes import them under `TYPE_CHECKING` as well."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """The module `name`, executed on its first attribute access (at once if imported already)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, module)
    return module


def lazy_modules(*names: str) -> tuple[ModuleType, ...]:
    return tuple(lazy_module(name) for name in names)
