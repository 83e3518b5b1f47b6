"""Pledge: wires the Chalice app: middleware, blueprints, ops functions and schedules.

Services used only by ops and scheduled functions are imported inside those functions:
every Lambda function imports this module, and the API's cold start should not pay for
code it never runs."""

from collections.abc import Callable

from chalice import Chalice

from chalicelib.invocation import observe_invocation
from chalicelib.ops import ops_function, queue_worker, scheduled_function
from chalicelib.routes.account import account
from chalicelib.routes.disclosures import disclosures
from chalicelib.routes.forms import forms
from chalicelib.routes.openapi import openapi
from chalicelib.routes.orders import orders
from chalicelib.routes.pages import pages
from chalicelib.routes.policy import policy
from chalicelib.routes.preferences import preferences
from chalicelib.routes.recovery import recovery
from chalicelib.routes.sensitive import sensitive
from chalicelib.routes.shop import shop
from chalicelib.routes.stats import stats
from chalicelib.routes.support import support
from chalicelib.routes.unsubscribe import unsubscribe
from chalicelib.settings import (
    CAMPAIGN_SEGMENTS_QUEUE_ARN,
    MARKETING_DISPATCH_SCHEDULE,
    NOTICE_DISPATCH_SCHEDULE,
    POLICY_ACTIVATION_SCHEDULE,
    STATS_SALT_SCHEDULE,
)
from chalicelib.web import observe_request

app = Chalice(app_name="pledge", configure_logs=False)
app.register_middleware(observe_request, "http")
app.register_middleware(observe_invocation, "pure_lambda")
app.register_middleware(observe_invocation, "scheduled")
app.register_middleware(observe_invocation, "sqs")
for blueprint in (
    forms,
    account,
    support,
    policy,
    preferences,
    unsubscribe,
    openapi,
    stats,
    recovery,
    disclosures,
    sensitive,
    shop,
    orders,
    pages,
):  # pages: the home page and the Client Area (HTML)
    app.register_blueprint(blueprint)


@ops_function(app)
def ops_customer_record(event: dict) -> dict:
    from chalicelib.services import records

    return records.customer_record(event["customer_number"])


@ops_function(app)
def ops_record_support(event: dict) -> dict:
    from chalicelib.services import support as support_service

    return support_service.record_support(event["ticket_id"], event["channel"], event["summary"])


@ops_function(app)
def ops_deactivate_customer(event: dict) -> dict:
    from chalicelib.services import retention

    return retention.deactivate_customer(event["customer_number"], "ops", event["reason"])


@ops_function(app)
def ops_legal_hold(event: dict) -> dict:
    from chalicelib.services import retention

    return retention.change_legal_hold(event["customer_number"], event["action"], event["reason"], event.get("hold_id"))


@ops_function(app)
def ops_retention_review(event: dict) -> dict:
    from chalicelib.services import retention

    return retention.customers_due_for_review()


@ops_function(app)
def ops_anonymize_customer(event: dict) -> dict:
    from chalicelib.services import retention

    return retention.anonymize_customer(event["customer_number"])


@ops_function(app)
def ops_review_inquiry(event: dict) -> dict:
    from chalicelib.services import inquiries

    return inquiries.review_inquiry(event["inquiry_id"], event["decision"])


@ops_function(app)
def ops_send_marketing(event: dict) -> dict:
    from chalicelib.services import marketing

    return marketing.send_campaign(event["topic"], event["subject"], event["text"], event.get("campaign_id"))


@ops_function(app)
def ops_campaign_status(event: dict) -> dict:
    from chalicelib.services import marketing

    return marketing.campaign_status(event["campaign_id"])


@ops_function(app)
def ops_set_preferences(event: dict) -> dict:
    from chalicelib.services import preferences as preferences_service

    return {"topics": preferences_service.change_topics(event["customer_number"], event["topics"], "ops", None)}


@ops_function(app)
def ops_disclose_customer_data(event: dict) -> dict:
    from chalicelib.invocation import current_request_id
    from chalicelib.services import disclosures as disclosure_service

    return disclosure_service.disclose(event, current_request_id())


@ops_function(app)
def record_mail_suppressions(event: dict) -> dict:
    """Fed by an EventBridge rule (infra/) with SES bounce and complaint events."""
    from chalicelib.services import suppression

    return suppression.record_ses_event(event)


@ops_function(app)
def ops_lift_suppression(event: dict) -> dict:
    from chalicelib.services import suppression

    return suppression.lift_suppression(event["customer_number"], event["reason"])


@ops_function(app)
def ops_reveal_sensitive(event: dict) -> dict:
    """The only function (with ops_disclose_customer_data) whose role may kms:Decrypt."""
    from chalicelib.invocation import current_request_id
    from chalicelib.services import sensitive as sensitive_service

    return sensitive_service.reveal(event["customer_number"], event["item"], event["reason"], current_request_id())


@ops_function(app)
def ops_publish_policy(event: dict) -> dict:
    from chalicelib.services.policy import publish_policy

    return publish_policy(event)


@ops_function(app)
def ops_resolve_notice(event: dict) -> dict:
    from chalicelib.services import notices

    return notices.resolve_notice(
        event["version"], event["customer_number"], event["outcome"], event.get("ses_message_id"), event.get("sent_at")
    )


@ops_function(app)
def ops_site_statistics(event: dict) -> dict:
    from chalicelib.services import statistics

    return statistics.site_statistics(event["from"], event["to"])


@ops_function(app)
def ops_abuse_cases(event: dict) -> dict:
    from chalicelib.services import abuse

    return abuse.list_cases(event.get("status"))


@ops_function(app)
def ops_close_abuse_case(event: dict) -> dict:
    from chalicelib.services import abuse

    return abuse.close_case(event["case_id"], event["resolution"])


@scheduled_function(app, NOTICE_DISPATCH_SCHEDULE)
def dispatch_policy_notices(time_left: Callable[[], float]) -> dict:
    from chalicelib.services import notices

    return notices.dispatch_notices(time_left)


@scheduled_function(app, MARKETING_DISPATCH_SCHEDULE)
def dispatch_marketing(time_left: Callable[[], float]) -> dict:
    from chalicelib import campaign_queue
    from chalicelib.services import campaigns

    return campaigns.dispatch_campaigns(time_left, campaign_queue.hand_out_to_workers())


@scheduled_function(app, POLICY_ACTIVATION_SCHEDULE)
def activate_policy_versions(time_left: Callable[[], float]) -> dict:
    from chalicelib.services import activation

    return activation.activate_policy_versions()


@scheduled_function(app, STATS_SALT_SCHEDULE)
def destroy_stats_salts(time_left: Callable[[], float]) -> dict:
    from chalicelib.services import statistics

    return statistics.destroy_old_salts()


@queue_worker(app, CAMPAIGN_SEGMENTS_QUEUE_ARN)
def deliver_campaign_segments(message: dict, time_left: Callable[[], float]) -> dict:
    """One segment of a campaign, handed out by dispatch_marketing when it fans out."""
    from chalicelib.services import campaigns

    return campaigns.deliver_segment(message["campaign_id"], message["segment"], time_left)
