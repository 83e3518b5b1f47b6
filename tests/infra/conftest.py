"""The packaged template under test: build/<stage>/sam.json from `make package`
(`make test` runs it for prod first; built here if missing)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from infra.app_functions import REPO_ROOT

STAGE = os.environ.get("PLEDGE_TEMPLATE_STAGE", "prod")
BUILD_DIR = REPO_ROOT / "build" / STAGE


@pytest.fixture(scope="session")
def build_dir():
    if not (BUILD_DIR / "sam.json").exists():
        subprocess.run(["make", "--no-print-directory", "package", f"STAGE={STAGE}"], cwd=REPO_ROOT, check=True)
    return BUILD_DIR


@pytest.fixture(scope="session")
def template(build_dir) -> dict:
    return json.loads((build_dir / "sam.json").read_text())
