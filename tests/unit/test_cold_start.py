"""What importing app.py (every Lambda function's cold start) loads: route modules name
their services, but a service, PynamoDB and botocore load only when a request needs them."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import sys, app
from chalicelib.routes import account
print(sorted(m for m in ("pynamodb", "botocore", "boto3", "jsonschema") if m in sys.modules))
account.accounts.profile  # the first use of a service loads it
print(sorted(m for m in ("pynamodb", "botocore") if m in sys.modules))
"""


def test_importing_app_loads_no_service_until_one_is_used():
    lines = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert lines == ["[]", "['botocore', 'pynamodb']"]
