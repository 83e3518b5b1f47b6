"""Build the one template `chalice package --merge-template` takes, for one stage:
infra/tables.json + the data key, IAM per function, mail feedback, alarms, and the
changes to Chalice's own resources. Stage values come from .chalice/config.json.

    python -m infra.build_template prod   # writes build/merge-template-prod.json
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from infra import iam, ops_console, platform
from infra.app_functions import REPO_ROOT, AppFunction, app_functions

CHALICE_CONFIG = REPO_ROOT / ".chalice" / "config.json"
DEPLOYED_STAGES = ("dev", "prod")


@dataclass(frozen=True)
class StageConfig:
    name: str
    environment: dict
    api_gateway_stage: str
    log_retention_days: int

    @property
    def mail(self) -> iam.StageMail:
        return iam.StageMail(self.environment["PLEDGE_MAIL_FROM"], self.environment["PLEDGE_SES_CONFIGURATION_SET"])

    @property
    def api_name(self) -> str:
        return f"pledge-{self.name}"


def stage_config(stage: str, path: Path = CHALICE_CONFIG) -> StageConfig:
    config = json.loads(path.read_text())
    if stage not in DEPLOYED_STAGES or stage not in config["stages"]:
        raise ValueError(f"not a deployed stage: {stage!r} (expected one of {DEPLOYED_STAGES})")
    stage_section = config["stages"][stage]
    return StageConfig(
        name=stage,
        environment={**config.get("environment_variables", {}), **stage_section.get("environment_variables", {})},
        api_gateway_stage=stage_section.get("api_gateway_stage", config.get("api_gateway_stage", "api")),
        log_retention_days=stage_section.get("log_retention_in_days", config.get("log_retention_in_days")),
    )


def check_access_covers(functions: list[AppFunction], access: dict) -> None:
    names = {f.name for f in functions}
    missing, stale = sorted(names - set(access)), sorted(set(access) - names)
    if missing or stale:
        raise ValueError(
            f"infra/function_access.json: functions without an entry {missing}, entries without a function {stale}"
        )


def merge_template(stage: str) -> dict:
    config = stage_config(stage)
    if not config.log_retention_days:
        raise ValueError(f"stage {stage}: set log_retention_in_days in .chalice/config.json")
    functions = app_functions()
    access, tables = iam.load_access(), iam.load_tables()
    check_access_covers(functions, access)
    template = json.loads(iam.TABLES_FILE.read_text())
    template["Description"] = f"Pledge ({stage}): Chalice app, tables, keys, IAM, mail feedback, alarms"
    template["Parameters"]["Stage"].update({"Default": stage, "AllowedValues": [stage]})
    template["Parameters"].update(platform.PARAMETERS)
    template["Parameters"].update(ops_console.PARAMETERS)
    template["Parameters"].update(platform.FANOUT_PARAMETERS)
    template["Conditions"] = {**platform.CONDITIONS, **ops_console.CONDITIONS, **platform.FANOUT_CONDITIONS}
    resources = template["Resources"]
    resources.update(platform.data_key(stage, iam.roles_with(functions, access, lambda a: a.get("tables"))))
    resources.update(
        platform.sensitive_key(stage, iam.roles_with(functions, access, lambda a: a.get("sensitive_key") == "open"))
    )
    resources.update(platform.mail_feedback(stage, config.mail))
    resources.update(platform.alarms(stage, config.api_name, config.api_gateway_stage, functions))
    resources.update(platform.campaign_queue(stage))
    resources.update(platform.api_overrides(config.api_name))
    resources.update(platform.gateway_responses())
    resources.update(platform.per_address_limit(stage))
    resources["DataKey"]["Properties"]["KeyPolicy"]["Statement"] += ops_console.key_statements(stage)
    alarm_names = [name for name, r in resources.items() if r.get("Type") == "AWS::CloudWatch::Alarm"]
    resources.update(ops_console.resources(stage, config.api_name, config.api_gateway_stage, functions, alarm_names))
    secrets_prefix = config.environment["PLEDGE_SECRETS_PREFIX"]
    for function in functions:
        resources.update(iam.function_iam(function, access[function.name], tables, config.mail, secrets_prefix))
        resources.update(platform.function_overrides(stage, function, config.log_retention_days))
    deep_merge(resources, platform.fanout_function_properties(functions, access))
    return template


def deep_merge(target: dict, changes: dict) -> None:
    """Lay `changes` over `target`, dict by dict (as `chalice package` merges the template)."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = value


def main(argv: list[str]) -> int:
    stage = argv[1] if len(argv) > 1 else "dev"
    out = REPO_ROOT / "build" / f"merge-template-{stage}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(merge_template(stage), indent=2) + "\n")
    print(out.relative_to(REPO_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
