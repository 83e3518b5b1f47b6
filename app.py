"""Pledge: wires the Chalice app: middleware, blueprints, ops functions and schedules.

Services used only by ops and scheduled functions are imported inside those functions:
every Lambda function imports this module, and the API's cold start should not pay for
code it never runs."""

from typing import Any

from chalice import Chalice
from chalice.app import CloudWatchEvent

from chalicelib.invocation import observe_invocation
from chalicelib.ops import accepts_any_event, run_ops, run_scheduled
from chalicelib.routes.account import account
from chalicelib.routes.disclosures import disclosures
from chalicelib.routes.forms import forms
from chalicelib.routes.openapi import openapi
from chalicelib.routes.orders import orders
from chalicelib.routes.policy import policy
from chalicelib.routes.preferences import preferences
from chalicelib.routes.recovery import recovery
from chalicelib.routes.sensitive import sensitive
from chalicelib.routes.shop import shop
from chalicelib.routes.stats import stats
from chalicelib.routes.support import support
from chalicelib.routes.unsubscribe import unsubscribe
from chalicelib.settings import NOTICE_DISPATCH_SCHEDULE, POLICY_ACTIVATION_SCHEDULE, STATS_SALT_SCHEDULE
from chalicelib.web import observe_request

app = Chalice(app_name="pledge", configure_logs=False)
app.register_middleware(observe_request, "http")
app.register_middleware(observe_invocation, "pure_lambda")
app.register_middleware(observe_invocation, "scheduled")
for blueprint in (forms, account, support, policy, preferences, unsubscribe, openapi, stats):
    app.register_blueprint(blueprint)
app.register_blueprint(recovery)
app.register_blueprint(disclosures)
app.register_blueprint(sensitive)
app.register_blueprint(shop)  # catalog and cart
app.register_blueprint(orders)


@app.lambda_function(name="ops_customer_record")
def ops_customer_record(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import records

    return run_ops("ops_customer_record", event, lambda e: records.customer_record(e["customer_number"]))


@app.lambda_function(name="ops_record_support")
def ops_record_support(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import support as support_service

    return run_ops(
        "ops_record_support", event, lambda e: support_service.record_support(e["ticket_id"], e["channel"], e["summary"])
    )


@app.lambda_function(name="ops_deactivate_customer")
def ops_deactivate_customer(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import retention

    return run_ops(
        "ops_deactivate_customer", event, lambda e: retention.deactivate_customer(e["customer_number"], "ops", e["reason"])
    )


@app.lambda_function(name="ops_legal_hold")
def ops_legal_hold(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import retention

    return run_ops(
        "ops_legal_hold",
        event,
        lambda e: retention.change_legal_hold(e["customer_number"], e["action"], e["reason"], e.get("hold_id")),
    )


@app.lambda_function(name="ops_retention_review")
def ops_retention_review(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import retention

    return run_ops("ops_retention_review", event, lambda e: retention.customers_due_for_review())


@app.lambda_function(name="ops_anonymize_customer")
def ops_anonymize_customer(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import retention

    return run_ops("ops_anonymize_customer", event, lambda e: retention.anonymize_customer(e["customer_number"]))


@app.lambda_function(name="ops_review_inquiry")
def ops_review_inquiry(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import inquiries

    return run_ops("ops_review_inquiry", event, lambda e: inquiries.review_inquiry(e["inquiry_id"], e["decision"]))


@app.lambda_function(name="ops_send_marketing")
def ops_send_marketing(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import marketing

    return run_ops(
        "ops_send_marketing", event, lambda e: marketing.send_campaign(e["topic"], e["subject"], e["text"], e.get("campaign_id"))
    )


@app.lambda_function(name="ops_set_preferences")
def ops_set_preferences(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import preferences as preferences_service

    return run_ops(
        "ops_set_preferences",
        event,
        lambda e: {"topics": preferences_service.change_topics(e["customer_number"], e["topics"], "ops", None)},
    )


@app.lambda_function(name="ops_disclose_customer_data")
def ops_disclose_customer_data(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import disclosures as disclosure_service

    return run_ops("ops_disclose_customer_data", event,
                   lambda e: disclosure_service.disclose(e, getattr(context, "aws_request_id", None)))


@app.lambda_function(name="record_mail_suppressions")
def record_mail_suppressions(event: dict[str, Any], context: Any) -> dict:
    """Fed by an EventBridge rule (infra/) with SES bounce and complaint events."""
    from chalicelib.services import suppression

    return run_ops("record_mail_suppressions", event, suppression.record_ses_event)


@app.lambda_function(name="ops_lift_suppression")
def ops_lift_suppression(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import suppression

    return run_ops("ops_lift_suppression", event, lambda e: suppression.lift_suppression(e["customer_number"],
                                                                                        e["reason"]))


@app.lambda_function(name="ops_reveal_sensitive")
def ops_reveal_sensitive(event: dict[str, Any], context: Any) -> dict:
    """The only function (with ops_disclose_customer_data) whose role may kms:Decrypt."""
    from chalicelib.services import sensitive as sensitive_service

    request = getattr(context, "aws_request_id", None)
    return run_ops("ops_reveal_sensitive", event,
                   lambda e: sensitive_service.reveal(e["customer_number"], e["item"], e["reason"], request))


@app.lambda_function(name="ops_publish_policy")
def ops_publish_policy(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services.policy import publish_policy

    return run_ops("ops_publish_policy", event, publish_policy)


@app.lambda_function(name="ops_resolve_notice")
def ops_resolve_notice(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import notices

    return run_ops(
        "ops_resolve_notice",
        event,
        lambda e: notices.resolve_notice(e["version"], e["customer_number"], e["outcome"], e.get("ses_message_id"),
                                         e.get("sent_at")),
    )


@accepts_any_event
@app.schedule(NOTICE_DISPATCH_SCHEDULE, name="dispatch_policy_notices")
def dispatch_policy_notices(event: CloudWatchEvent) -> dict:
    from chalicelib.services import notices

    context: Any = event.context  # a LambdaContext at run time, whatever Chalice declares
    return run_scheduled(
        "dispatch_policy_notices",
        lambda: notices.dispatch_notices(lambda: context.get_remaining_time_in_millis() / 1000),
    )


@accepts_any_event
@app.schedule(POLICY_ACTIVATION_SCHEDULE, name="activate_policy_versions")
def activate_policy_versions(event: CloudWatchEvent) -> dict:
    from chalicelib.services import activation

    return run_scheduled("activate_policy_versions", activation.activate_policy_versions)


@app.lambda_function(name="ops_site_statistics")
def ops_site_statistics(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import statistics

    return run_ops("ops_site_statistics", event, lambda e: statistics.site_statistics(e["from"], e["to"]))


@app.lambda_function(name="ops_abuse_cases")
def ops_abuse_cases(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import abuse

    return run_ops("ops_abuse_cases", event, lambda e: abuse.list_cases(e.get("status")))


@app.lambda_function(name="ops_close_abuse_case")
def ops_close_abuse_case(event: dict[str, Any], context: Any) -> dict:
    from chalicelib.services import abuse

    return run_ops("ops_close_abuse_case", event, lambda e: abuse.close_case(e["case_id"], e["resolution"]))


@accepts_any_event
@app.schedule(STATS_SALT_SCHEDULE, name="destroy_stats_salts")
def destroy_stats_salts(event: CloudWatchEvent) -> dict:
    from chalicelib.services import statistics

    return run_scheduled("destroy_stats_salts", statistics.destroy_old_salts)
