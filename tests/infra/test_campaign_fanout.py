"""The marketing fan-out in the packaged template: the worker fed by this stage's own
segment queue, at most `MarketingWorkers` at once; only the functions infra/function_access.json
names may hand segments out or work them; failed segments end in an alarmed dead-letter queue."""

from __future__ import annotations

import copy

import pytest

from infra.app_functions import app_functions
from infra.iam import QUEUE_ACTIONS, load_access, policy_name
from infra.platform import MARKETING_FUNCTIONS
from tests.infra.checks import resources_of
from tests.infra.conftest import STAGE

QUEUE_ARN = {"Fn::GetAtt": ["CampaignSegmentQueue", "Arn"]}


def queue_uses(template: dict) -> dict[str, set[str]]:
    """function name -> the SQS actions its policy grants on the segment queue."""
    uses = {}
    for function in app_functions():
        statements = template["Resources"][policy_name(function)]["Properties"]["PolicyDocument"]["Statement"]
        actions = {a for s in statements if s["Resource"] == QUEUE_ARN for a in s["Action"]}
        if any(a.startswith("sqs:") for s in statements for a in s["Action"]) and not actions:
            actions = {"sqs: on another resource"}
        if actions:
            uses[function.name] = actions
    return uses


def expected_uses() -> dict[str, set[str]]:
    return {name: set(QUEUE_ACTIONS[a["queue"]]) for name, a in load_access().items() if a.get("queue")}


def test_only_the_named_functions_touch_the_queue(template):
    assert queue_uses(template) == expected_uses()
    assert expected_uses() == {
        "dispatch_marketing": {"sqs:SendMessage"},
        "deliver_campaign_segments": set(QUEUE_ACTIONS["receive"]),
    }


def test_the_check_finds_a_grant_nobody_named(template):
    changed = copy.deepcopy(template)
    function = next(f for f in app_functions() if f.name == "ops_customer_record")
    statements = changed["Resources"][policy_name(function)]["Properties"]["PolicyDocument"]["Statement"]
    statements.append({"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": QUEUE_ARN})
    assert queue_uses(changed) != expected_uses()


def test_the_worker_is_fed_by_this_stages_queue_at_the_configured_concurrency(template):
    worker = template["Resources"]["DeliverCampaignSegments"]["Properties"]
    (source,) = worker["Events"].values()
    assert source["Type"] == "SQS"
    assert source["Properties"]["Queue"] == QUEUE_ARN
    assert source["Properties"]["BatchSize"] == 1
    concurrency = source["Properties"]["ScalingConfig"]["MaximumConcurrency"]
    assert concurrency == {"Fn::If": ["OneMarketingWorker", 2, {"Ref": "MarketingWorkers"}]}
    queue = template["Resources"]["CampaignSegmentQueue"]["Properties"]
    assert queue["QueueName"] == f"pledge-{STAGE}-campaign-segments"
    assert queue["VisibilityTimeout"] >= worker["Timeout"], "a running worker's segment must stay hidden"


@pytest.mark.parametrize("name", MARKETING_FUNCTIONS)
def test_the_marketing_functions_read_the_worker_count(template, name):
    function = next(f for f in app_functions() if f.name == name)
    variables = template["Resources"][function.resource]["Properties"]["Environment"]["Variables"]
    assert variables["PLEDGE_MARKETING_WORKERS"] == {"Ref": "MarketingWorkers"}


def test_senders_know_the_queue_and_nobody_else_does(template):
    for function in app_functions():
        if function.kind == "api":
            continue
        variables = template["Resources"][function.resource]["Properties"]["Environment"]["Variables"]
        sends = load_access()[function.name].get("queue") == "send"
        assert ("PLEDGE_CAMPAIGN_QUEUE_URL" in variables) == sends, function.name


def test_failed_segments_go_to_an_alarmed_dead_letter_queue(template):
    queue = template["Resources"]["CampaignSegmentQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["CampaignSegmentDeadLetters", "Arn"]}
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    watched = [a for a in alarms.values() if a["Properties"]["Namespace"] == "AWS/SQS"]
    assert [a["Properties"]["Dimensions"][0]["Value"] for a in watched] == [
        {"Fn::GetAtt": ["CampaignSegmentDeadLetters", "QueueName"]}
    ]
    for name in ("CampaignSegmentQueue", "CampaignSegmentDeadLetters"):
        assert template["Resources"][name]["Properties"]["SqsManagedSseEnabled"] is True
