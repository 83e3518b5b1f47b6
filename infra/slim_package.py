"""Drop from the Lambda zip what the Python runtime already provides: the AWS SDK.

PynamoDB depends on botocore, so `chalice package` puts botocore (and its own
dependencies) in the zip; pip cannot be told to skip one dependency through
requirements.txt. The Lambda Python runtime ships boto3, botocore, s3transfer, jmespath,
python-dateutil, six and urllib3 together; the app then uses that set, as one.

    python -m infra.slim_package build/prod/deployment.zip
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "python_dateutil", "six", "urllib3")
_TOP_LEVEL = re.compile(r"^([A-Za-z0-9_]+?)(-[^/]*\.(dist-info|data))?(/|\.py$)")


def runtime_provided(entry: str) -> bool:
    """Whether a zip entry belongs to a package the runtime provides (its modules, or its
    wheel's .dist-info or .data directory)."""
    match = _TOP_LEVEL.match(entry)
    return bool(match) and match.group(1).lower() in RUNTIME_PROVIDED


def slim(path: Path) -> tuple[int, int]:
    """Rewrite the zip without those packages; returns (entries kept, entries dropped)."""
    slimmed = path.with_suffix(".slim.zip")
    kept = dropped = 0
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(slimmed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if runtime_provided(info.filename):
                dropped += 1
                continue
            target.writestr(info, source.read(info.filename))
            kept += 1
    slimmed.replace(path)
    return kept, dropped


def unzipped_size(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def main(argv: list[str]) -> int:
    path = Path(argv[1])
    before, unzipped_before = path.stat().st_size, unzipped_size(path)
    kept, dropped = slim(path)
    print(
        f"{path}: {kept} files kept, {dropped} dropped (runtime-provided AWS SDK); "
        f"zip {before / 1e6:.1f} -> {path.stat().st_size / 1e6:.1f} MB, "
        f"unzipped {unzipped_before / 1e6:.1f} -> {unzipped_size(path) / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
