"""Who runs an ops invocation, as far as Lambda's context says (chalicelib/invocation.py)."""

from types import SimpleNamespace

import pytest

from chalicelib import invocation


def context(cognito=None, custom=None, request_id="req-1"):
    return SimpleNamespace(
        aws_request_id=request_id,
        identity=SimpleNamespace(cognito_identity_id=cognito, cognito_identity_pool_id=None),
        client_context=SimpleNamespace(client=None, env=None, custom=custom) if custom else None,
    )


@pytest.mark.parametrize(
    "ctx, caller",
    [
        (context(), None),  # a console test or a plain `aws lambda invoke`: only CloudTrail knows
        (context(cognito="eu-west-1:abc"), "cognito:eu-west-1:abc"),
        (context(custom={"caller": "alice@ops"}), "declared:alice@ops"),
        (context(custom={"caller": "alice\nINFO forged log line"}), None),
        (context(custom={"caller": 42}), None),
        (SimpleNamespace(), None),
    ],
)
def test_the_caller_is_what_lambda_was_given(ctx, caller):
    assert invocation.caller_of(ctx) == caller


def test_the_middleware_holds_the_invocation_only_while_it_runs():
    seen = []
    event = SimpleNamespace(context=context(custom={"caller": "bob"}, request_id="req-9"))
    result = invocation.observe_invocation(event, lambda e: seen.append(invocation.current()) or "done")
    assert result == "done"
    assert seen == [invocation.Invocation("req-9", "declared:bob")]
    assert invocation.current() is None
