"""cfn-lint and checkov over the packaged template (both offline)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.app_functions import REPO_ROOT

CHECKOV = REPO_ROOT / ".venv-tools" / "bin" / "checkov"
CFN_LINT = Path(sys.executable).with_name("cfn-lint")
SKIPS_FILE = REPO_ROOT / "infra" / "checkov-skips.json"


def cfn_lint(template_path):
    return subprocess.run([str(CFN_LINT), str(template_path)], capture_output=True, text=True, check=False)


def test_cfn_lint_is_clean(build_dir):
    result = cfn_lint(build_dir / "sam.json")
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_would_catch_a_dangling_reference(build_dir, tmp_path):
    """The check is live: Chalice's own API handler log group refers to a resource it
    renamed, which the merge template fixes; unfixed, cfn-lint must fail."""
    template = json.loads((build_dir / "sam.json").read_text())
    template["Resources"]["ApiHandlerLogGroup"]["Properties"]["LogGroupName"] = {"Fn::Sub": "/aws/lambda/${ApiHandler}"}
    broken = tmp_path / "sam.json"
    broken.write_text(json.dumps(template))
    result = cfn_lint(broken)
    assert result.returncode != 0 and "ApiHandler" in result.stdout


def checkov_failures(template_path) -> set[str]:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} missing: run `make tools` (make test does)")
    result = subprocess.run(
        [
            str(CHECKOV),
            "-f",
            str(template_path),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--quiet",
            "--compact",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    report = json.loads(result.stdout)
    assert report["summary"]["parsing_errors"] == 0
    return {failure["check_id"] for failure in report["results"]["failed_checks"]}


def test_checkov_fails_only_checks_justified_in_the_skips_file(build_dir):
    """The skips file is the whole list: a failing check not in it fails this test, and so
    does a justification for a check that passes now (remove it)."""
    skips = json.loads(SKIPS_FILE.read_text())["skips"]
    assert all(reason.strip() for reason in skips.values())
    failures = checkov_failures(build_dir / "sam.json")
    assert sorted(failures - set(skips)) == [], "failing checks without a justification"
    assert sorted(set(skips) - failures) == [], "justified checks that no longer fail"
