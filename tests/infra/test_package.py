"""The Lambda zip `make package` builds: the app, its dependencies built for the Lambda
runtime (Python 3.12, manylinux x86_64), without the AWS SDK the runtime provides."""

from __future__ import annotations

import json
import subprocess
import zipfile

import pytest

from infra.app_functions import REPO_ROOT
from infra.slim_package import RUNTIME_PROVIDED, runtime_provided

LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024  # direct upload; 250 MB unzipped
UNZIPPED_LIMIT = 250 * 1024 * 1024


@pytest.fixture(scope="module")
def entries(build_dir) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(build_dir / "deployment.zip") as archive:
        return archive.infolist()


def top_level(entries) -> set[str]:
    return {e.filename.split("/", 1)[0] for e in entries}


def test_the_zip_holds_the_app_and_its_dependencies(entries):
    names = top_level(entries)
    assert {
        "app.py",
        "chalicelib",
        "chalice",
        "pynamodb",
        "aws_lambda_powertools",
        "jsonschema",
        "argon2",
        "jinja2",
    } <= names
    assert not any(name in names for name in ("infra", "devstack", "tests", ".local", "bench"))
    assert "chalicelib/schemas/common.json" in {e.filename for e in entries}


def test_the_aws_sdk_is_left_to_the_runtime(entries):
    assert not any(runtime_provided(e.filename) for e in entries)
    assert not {"boto3", "botocore", "s3transfer"} & top_level(entries)


@pytest.mark.parametrize(
    "entry, dropped",
    [
        ("botocore/data/dynamodb/2012-08-10/service-2.json.gz", True),
        ("botocore-1.44.8.dist-info/METADATA", True),
        ("python_dateutil-2.9.0.post0.dist-info/RECORD", True),
        ("jmespath-1.1.0.data/scripts/jp.py", True),
        ("six.py", True),
        ("urllib3/connection.py", True),
        ("pynamodb/models.py", False),
        ("chalicelib/store/base.py", False),
        ("sixpack.py", False),
        ("typing_extensions.py", False),
    ],
)
def test_runtime_provided_names_exactly_the_sdk_packages(entry, dropped):
    assert runtime_provided(entry) is dropped
    assert "pynamodb" not in RUNTIME_PROVIDED


def test_compiled_extensions_are_built_for_the_lambda_runtime(entries):
    extensions = [e.filename for e in entries if e.filename.endswith(".so")]
    assert extensions
    for name in extensions:
        assert name.endswith(("cpython-312-x86_64-linux-gnu.so", ".abi3.so")), name


def test_the_zip_fits_lambda_limits(build_dir, entries):
    assert (build_dir / "deployment.zip").stat().st_size < LAMBDA_ZIP_LIMIT
    assert sum(e.file_size for e in entries) < UNZIPPED_LIMIT


def test_the_zip_runs_on_python_312_with_only_the_runtime_sdk_beside_it(build_dir, tmp_path):
    """Lambda's view: the unzipped package first on the path, then the runtime's SDK
    (here: the tools venv's copies of exactly the dropped packages), nothing else."""
    tools = REPO_ROOT / ".venv-tools"
    site = next((tools / "lib").glob("python3.12/site-packages"))
    code, runtime = tmp_path / "task", tmp_path / "runtime"
    runtime.mkdir()
    with zipfile.ZipFile(build_dir / "deployment.zip") as archive:
        archive.extractall(code)
    for package in (site / name for name in RUNTIME_PROVIDED):
        for path in (package, package.with_suffix(".py")):
            if path.exists():
                (runtime / path.name).symlink_to(path)
    script = (
        f"import sys, json; sys.path[:0] = [{str(code)!r}, {str(runtime)!r}]; import app; "
        "print(json.dumps(app.ops_customer_record({}, None)))"
    )
    result = subprocess.run(
        [str(tools / "bin" / "python"), "-S", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["error"]["details"] == [{"path": "customer_number", "message": "is required"}]
