"""Pledge: wires the Chalice app: middleware, blueprints, ops functions and schedules."""

from chalice import Chalice

from chalicelib.ops import run_ops
from chalicelib.routes.account import account
from chalicelib.routes.forms import forms
from chalicelib.routes.policy import policy
from chalicelib.routes.support import support
from chalicelib.services import records
from chalicelib.services import support as support_service
from chalicelib.web import observe_request

app = Chalice(app_name="pledge", configure_logs=False)
app.register_middleware(observe_request, "http")
for blueprint in (forms, account, support, policy):
    app.register_blueprint(blueprint)


@app.lambda_function(name="ops_customer_record")
def ops_customer_record(event, context):
    return run_ops("ops_customer_record", event, lambda e: records.customer_record(e["customer_number"]))


@app.lambda_function(name="ops_record_support")
def ops_record_support(event, context):
    return run_ops(
        "ops_record_support", event, lambda e: support_service.record_support(e["ticket_id"], e["channel"], e["summary"])
    )
