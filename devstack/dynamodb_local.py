"""DynamoDB Local: fetched once from npm (amplify-dynamodb-simulator ships Amazon's jar)
into .local/cache/, started as a java child process."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from . import procs
from .config import CACHE_DIR, url

NPM_PACKAGE = "amplify-dynamodb-simulator@2.9.30"
INSTALL_DIR = CACHE_DIR / "dynamodb-local-2.9.30"
JAR = "DynamoDBLocal.jar"
LIB = "DynamoDBLocal_lib"


def fetch_dynamodb_local(cache_dir: Path = INSTALL_DIR) -> Path:
    """Return the directory holding DynamoDBLocal.jar and DynamoDBLocal_lib/, downloading
    it with `npm pack` the first time. Safe to call from concurrent processes."""
    if (cache_dir / JAR).exists():
        return cache_dir
    if shutil.which("npm") is None:
        raise procs.StartupError("devstack: npm is required to fetch DynamoDB Local (npm not found on PATH)")
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(cache_dir.parent / ".fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (cache_dir / JAR).exists():
            return cache_dir
        with tempfile.TemporaryDirectory(dir=cache_dir.parent) as tmp:
            tmp_path = Path(tmp)
            result = subprocess.run(
                ["npm", "pack", NPM_PACKAGE, "--silent", "--pack-destination", str(tmp_path)],
                cwd=tmp_path,
                capture_output=True,
                text=True,
            )
            tarballs = list(tmp_path.glob("*.tgz"))
            if result.returncode != 0 or not tarballs:
                raise procs.StartupError(f"devstack: `npm pack {NPM_PACKAGE}` failed: {result.stderr.strip()[-500:]}")
            extract = tmp_path / "extract"
            prefix = "package/emulator/"
            with tarfile.open(tarballs[0]) as tar:
                members = [m for m in tar.getmembers() if m.name.startswith(prefix) and (m.isfile() or m.isdir())]
                for member in members:
                    member.name = member.name[len(prefix) :]
                tar.extractall(extract, members=[m for m in members if m.name], filter="data")
            if not (extract / JAR).exists() or not (extract / LIB).is_dir():
                raise procs.StartupError(f"devstack: {NPM_PACKAGE} does not contain emulator/{JAR}")
            extract.rename(cache_dir)
    return cache_dir


def java_available() -> bool:
    return shutil.which("java") is not None


def start_dynamodb_local(
    port: int, *, db_path: Path | None = None, log: Path | None = None, timeout: float = 60.0
) -> subprocess.Popen:
    """Start DynamoDB Local on `port` (persistent in db_path, or -inMemory when None) and
    wait until it answers ListTables. Returns the Popen; stop it with procs.stop()."""
    if not java_available():
        raise procs.StartupError("devstack: Java 17 is required (java not found on PATH)")
    home = fetch_dynamodb_local()
    cmd = ["java", f"-Djava.library.path={home / LIB}", "-jar", str(home / JAR), "-sharedDb"]
    if db_path is None:
        cmd.append("-inMemory")
    else:
        db_path.mkdir(parents=True, exist_ok=True)
        cmd += ["-dbPath", str(db_path)]
    cmd += ["-port", str(port), "-disableTelemetry"]
    proc = procs.start(cmd, cwd=home, log=log)
    try:
        client = dynamodb_client(port)
        procs.wait_until(
            lambda: client.list_tables(Limit=1) is not None,
            proc=proc,
            what=f"DynamoDB Local on port {port}",
            timeout=timeout,
            log=log,
        )
    except BaseException:
        procs.stop(proc)
        raise
    return proc


def dynamodb_client(port: int):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=url(port),
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=30),
    )
