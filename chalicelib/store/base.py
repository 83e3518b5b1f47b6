"""The base of every PynamoDB model: table names come from settings on first use.

Each model names its table by the logical suffix used in infra/tables.json
(`pledge-${Stage}-customers` -> `customers`); the stage prefix is applied lazily so that
importing a model reads no environment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

from pynamodb.models import Model

from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from pynamodb.connection.table import TableConnection

MODELS: list[type[PledgeModel]] = []


class PledgeModel(Model):
    logical_table: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.logical_table:
            MODELS.append(cls)

    @classmethod
    def find(cls, hash_key: Any, range_key: Any = None, consistent_read: bool = True) -> Self | None:
        """The item with this key, or None."""
        try:
            return cls.get(hash_key, range_key, consistent_read=consistent_read)
        except cls.DoesNotExist:
            return None

    @classmethod
    def _get_connection(cls) -> TableConnection:
        cls.Meta.table_name = get_settings().table_name(cls.logical_table)
        return super()._get_connection()


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with a `Z`, millisecond precision (sorts lexically)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def as_plain(value: Any) -> Any:
    """A MapAttribute's value as a plain dict (other values unchanged)."""
    return value.as_dict() if hasattr(value, "as_dict") else value


def _condition_failed(error: Exception) -> bool:
    """Whether a PynamoDB write error was its condition failing (not a fault)."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def written(conditional_write: Callable[[], object]) -> bool:
    """Run one conditional write: True if it was made, False if its condition failed."""
    from pynamodb.exceptions import DeleteError, PutError, UpdateError

    try:
        conditional_write()
    except (PutError, UpdateError, DeleteError) as error:
        if _condition_failed(error):
            return False
        raise
    return True
