"""A tiny Chalice app for devstack's own tests (invoke, discovery)."""

from chalice import Chalice, Rate

app = Chalice(app_name="fake")


@app.lambda_function(name="ops_echo")
def ops_echo(event, context):
    print("noise the app prints must not reach invoke's stdout")
    return {
        "echo": event,
        "function_name": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


@app.lambda_function(name="ops_refuse")
def ops_refuse(event, context):
    return {"error": {"code": "conflict", "message": "refused", "details": []}}


@app.lambda_function(name="ops_boom")
def ops_boom(event, context):
    raise RuntimeError("boom")


@app.schedule("rate(5 minutes)", name="tick")
def tick(event):
    return {"detail_type": event.detail_type, "source": event.source}


@app.schedule(Rate(1, unit=Rate.HOURS), name="tock")
def tock(event):
    return {"tock": True}


@app.schedule("cron(0 12 * * ? *)", name="noon")
def noon(event):
    return {}
