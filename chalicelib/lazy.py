"""Modules loaded on first use. Routes name their services at the top, as usual, through
`lazy_module`: every Lambda function imports app.py and so every route module, and the
cold start should not pay for the services (and PynamoDB, and botocore) of routes the
request does not take. Type checkers see the real modules: routes import them under
`TYPE_CHECKING` as well."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """Stands for the module of the same name. The first attribute used imports it
    (importlib's per-module lock makes concurrent first uses wait for the one import);
    every attribute is read from the real module, so what is patched there is seen."""

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attribute)


def lazy_module(name: str) -> ModuleType:
    return LazyModule(name)


def lazy_modules(*names: str) -> tuple[ModuleType, ...]:
    return tuple(LazyModule(name) for name in names)
