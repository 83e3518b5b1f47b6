"""WriteConflict names the writes whose condition failed by their place in the order given to commit,
though PynamoDB sends condition checks, deletes, puts and updates grouped by kind."""

from __future__ import annotations

import pytest

from chalicelib.store.audit import audit_entry
from chalicelib.store.customers import Customer, EmailClaim, still_active
from chalicelib.store.transact import WriteConflict, commit, put_new


def test_failed_writes_are_named_in_the_order_given(clean_stack):
    claim = EmailClaim("taken@example.com", customer_number="C1")
    commit([put_new(claim)])
    with pytest.raises(WriteConflict) as raised:
        commit(
            [
                audit_entry("C1", "test", "ops"),
                still_active("C404"),
                put_new(claim),
                lambda transaction: transaction.update(
                    claim, actions=[EmailClaim.customer_number.set("C2")], condition=EmailClaim.customer_number == "C9"
                ),
            ]
        )
    assert raised.value.failed == {"#1", "#2", "#3"}
    with pytest.raises(WriteConflict) as raised:
        commit(
            [
                lambda transaction: transaction.update(
                    claim, actions=[EmailClaim.customer_number.set("C2")], condition=EmailClaim.customer_number == "C9"
                ),
                audit_entry("C1", "test", "ops"),
            ]
        )
    assert raised.value.failed == {"#0"}
    assert Customer.find("C404") is None
