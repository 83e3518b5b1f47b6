"""After `make deploy`: write .chalice/deployed/<stage>.json, the file `chalice invoke`
reads, so ops can run `chalice invoke -n NAME --stage STAGE` against a stack deployed
through CloudFormation (chalice writes that file only for its own `chalice deploy`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from infra.app_functions import REPO_ROOT, app_functions
from infra.platform import function_name


def deployed_values(stage: str, region: str, account: str, partition: str = "aws") -> dict:
    """Chalice's schema 2.0 deployed-resources document for every function of the app."""
    resources = [
        {
            "name": function.name,
            "resource_type": "lambda_function",
            "lambda_arn": f"arn:{partition}:lambda:{region}:{account}:function:{function_name(stage, function)}",
        }
        for function in app_functions()
    ]
    return {"resources": resources, "schema_version": "2.0", "backend": "api"}


def main(stage: str) -> Path:
    import boto3

    session = boto3.session.Session()
    identity = session.client("sts").get_caller_identity()
    partition = identity["Arn"].split(":")[1]
    path = REPO_ROOT / ".chalice" / "deployed" / f"{stage}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(deployed_values(stage, session.region_name, identity["Account"], partition), indent=2))
    return path


if __name__ == "__main__":
    print(main(sys.argv[1]))
