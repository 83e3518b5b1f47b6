"""An in-memory stand-in for DynamoDB behind the store layer: tables of items, and writes
that are a condition and an effect, committed all or nothing.

Items are kept as their models' serialized attribute maps and read back through the
model (`from_raw_data`), so a service gets what a DynamoDB read gives it: fresh objects,
plain strings for enum values, the model's default for an attribute never written, and
nothing shared with the object it wrote. An update changes only the attributes it names. `commit` behaves as `chalicelib.store.transact.commit` does:
every condition is checked before any effect lands, a failed one raises `WriteConflict`
naming its labels, two writes to one item are refused (DynamoDB refuses them in one
transaction), and saved or updated models see their local version go up, as PynamoDB's
TransactWrite does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pynamodb.models import Model

from chalicelib.store.transact import WriteConflict

M = TypeVar("M", bound=Model)
Key = tuple[str, Any, Any]  # (table, hash key, range key)
# An update's new attribute values (None: removed), or a function of the stored item giving them.
Values = dict[str, Any] | Callable[[Any], dict[str, Any]]
TRANSACTION_LIMIT = 100


def key_of(model: type[Model], hash_key: Any, range_key: Any = None) -> Key:
    return (model.__name__, hash_key, range_key)


def item_key(item: Model) -> Key:
    model = type(item)
    range_name = model._range_keyname
    return key_of(model, getattr(item, model._hash_keyname), getattr(item, range_name) if range_name else None)


@dataclass
class FakeWrite:
    """One part of a transaction: `check()` is its condition, `apply()` its effect;
    `versioned` is the caller's model whose local version goes up once committed."""

    key: Key
    check: Callable[[], bool]
    apply: Callable[[], None]
    versioned: Model | None = None

    def __call__(self, transaction: Any) -> None:
        raise AssertionError("a fake write reached a real DynamoDB transaction")


class MemoryStore:
    def __init__(self) -> None:
        self.items: dict[Key, tuple[type[Model], dict]] = {}
        self.lock = threading.RLock()  # a transaction lands at once, as DynamoDB's does

    # --- reads ---------------------------------------------------------------------
    def get(self, model: type[M], hash_key: Any, range_key: Any = None) -> M | None:
        found = self.items.get(key_of(model, hash_key, range_key))
        return model.from_raw_data(found[1]) if found else None  # type: ignore[return-value]

    def where(self, model: type[M], order_by: str | None = None, **equal: Any) -> list[M]:
        """The table's items whose attributes equal `equal` (a query, of the table or an
        index), sorted by `order_by` (default: the range key)."""
        table = key_of(model, None)[0]
        raws = [raw for (name, _, _), (_, raw) in list(self.items.items()) if name == table]
        attributes = model.get_attributes()
        found = [
            item
            for item, raw in ((model.from_raw_data(raw), raw) for raw in raws)
            # an attribute never written is not in an index, whatever default the model reads it with
            if all(attributes[f].attr_name in raw and getattr(item, f) == v for f, v in equal.items())
        ]
        order = order_by or model._range_keyname
        return sorted(found, key=lambda item: getattr(item, order)) if order else found  # type: ignore[return-value]

    def exists(self, key: Key) -> bool:
        return key in self.items

    # --- effects (only ever inside `apply`, or as a store function's direct write) ---
    def store(self, item: Model) -> None:
        self.items[item_key(item)] = (type(item), item.serialize())

    def delete(self, key: Key) -> None:
        self.items.pop(key, None)

    def change(self, item: Model, values: Values, bump_version: bool = False) -> None:
        """Set attributes of the stored `item` (None: remove them), leaving the others as
        they are, as an UpdateItem does (an item not there yet is made, as an upsert)."""
        model, key = type(item), item_key(item)
        raw = dict(self.items.get(key, (model, _key_attributes(item)))[1])
        stored = model.from_raw_data(raw)
        changes = values(stored) if callable(values) else values
        if bump_version and item._version_attribute_name:
            changes = {
                **changes,
                item._version_attribute_name: (getattr(stored, item._version_attribute_name) or 0) + 1,
            }
        attributes = model.get_attributes()
        for field, value in changes.items():
            attribute = attributes[field]
            if value is None:
                raw.pop(attribute.attr_name, None)
            else:
                raw[attribute.attr_name] = {attribute.attr_type: attribute.serialize(value)}
        self.items[key] = (model, raw)

    # --- writes ----------------------------------------------------------------------
    def put(self, item: Model, condition: Any = None) -> FakeWrite:
        if condition is not None:
            raise NotImplementedError("the memory store cannot read PynamoDB conditions: fake the store function")
        return FakeWrite(item_key(item), lambda: self._version_matches(item), lambda: self._save(item), item)

    def put_new(self, item: Model) -> FakeWrite:
        key = item_key(item)
        return FakeWrite(key, lambda: not self.exists(key), lambda: self._save(item), item)

    def update(self, item: Model, values: Values, condition: Callable[[Any], bool]) -> FakeWrite:
        """A conditional update of an item read earlier: versioned models also need their
        version unchanged (PynamoDB adds that condition), and move to the next one."""
        versioned = item if item._version_attribute_name else None

        def check() -> bool:
            stored = self.get(type(item), *item_key(item)[1:])
            return stored is not None and condition(stored) and self._version_matches(item)

        return FakeWrite(item_key(item), check, lambda: self.change(item, values, bool(versioned)), versioned)

    def condition(self, model: type[Model], hash_key: Any, holds: Callable[[Any | None], bool]) -> FakeWrite:
        """A condition check on an item (None when it does not exist)."""
        key = key_of(model, hash_key)
        return FakeWrite(key, lambda: holds(self.get(model, hash_key)), lambda: None)

    def removal(self, key: Key, condition: Callable[[Any | None], bool] = lambda _: True) -> FakeWrite:
        return FakeWrite(key, lambda: condition(self._model_at(key)), lambda: self.delete(key))

    def commit(self, writes: Mapping[str, Any] | Sequence[Any], token: str | None = None) -> None:
        labelled = dict(writes) if isinstance(writes, Mapping) else {f"#{i}": w for i, w in enumerate(writes)}
        parts = list(labelled.values())
        unfaked = [w for w in parts if not isinstance(w, FakeWrite)]
        if unfaked:
            raise NotImplementedError(f"a write from a store function with no fake: {unfaked[0]!r}")
        if len({w.key for w in parts}) != len(parts):
            raise ValueError("two writes to one item in one transaction (DynamoDB refuses it)")
        if len(parts) > TRANSACTION_LIMIT:
            raise ValueError("more writes than a DynamoDB transaction holds")
        with self.lock:
            failed = frozenset(label for label, write in labelled.items() if not write.check())
            if failed:
                raise WriteConflict(failed)
            for write in parts:
                write.apply()
        for write in parts:
            if write.versioned is not None:
                write.versioned.update_local_version_attribute()

    # --- helpers -----------------------------------------------------------------------
    def _model_at(self, key: Key) -> Model | None:
        found = self.items.get(key)
        return found[0].from_raw_data(found[1]) if found else None

    def _version_matches(self, item: Model) -> bool:
        """PynamoDB's version condition: the stored version is the one read (or, for a
        model never saved, there is no stored version)."""
        name = item._version_attribute_name
        if name is None:
            return True
        stored = self._model_at(item_key(item))
        return getattr(stored, name, None) == getattr(item, name)

    def _save(self, item: Model) -> None:
        saved = type(item).from_raw_data(item.serialize())
        if item._version_attribute_name:
            saved.update_local_version_attribute()
        self.store(saved)


def _key_attributes(item: Model) -> dict:
    """The serialized key of `item`: what an upsert starts from."""
    model = type(item)
    names = [n for n in (model._hash_keyname, model._range_keyname) if n]
    attributes = model.get_attributes()
    return {
        attributes[n].attr_name: {attributes[n].attr_type: attributes[n].serialize(getattr(item, n))} for n in names
    }
