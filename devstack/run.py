"""`python -m devstack run`: the whole local stack in the foreground."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from . import procs
from .aws_setup import DEFAULT_MAIL_FROM, setup_aws
from .awsserver import start_aws_server
from .config import (
    DYNAMODB_DATA_DIR,
    HOST,
    LOCAL_TABLE_PREFIX,
    LOG_DIR,
    REPO_ROOT,
    port_in_use,
    ports,
    url,
)
from .dynamodb_local import (
    INSTALL_DIR,
    JAR,
    dynamodb_client,
    fetch_dynamodb_local,
    start_dynamodb_local,
)
from .env import apply_env, child_env, local_env
from .tables import create_tables


def start_chalice_local(
    port: int, env: dict[str, str], *, log: Path | None = None, timeout: float = 90.0
) -> subprocess.Popen:
    """chalice's local server (`devstack.local_api`: unknown routes and methods answer in the
    contract's error shape) for stage `local` on `port` with `env`; waits until GET /health is 200."""
    # No autoreloader: chalice's would watch the whole project dir,
    # .local/ included, where DynamoDB Local writes all the time.
    cmd = [sys.executable, "-m", "devstack.local_api", "--stage", "local", "--host", HOST, "--port", str(port)]
    proc = procs.start(cmd, env=child_env(env), cwd=REPO_ROOT, log=log)
    try:
        procs.wait_until(
            lambda: _health(port), proc=proc, what=f"chalice local on port {port}", timeout=timeout, log=log
        )
    except BaseException:
        procs.stop(proc)
        raise
    return proc


def _health(port: int) -> bool:
    with urllib.request.urlopen(url(port) + "/health", timeout=5) as response:
        return response.status == 200


def ensure_initial_policy() -> None:
    """Load the initial privacy policy (idempotent), with the local env already applied."""
    try:
        from chalicelib.settings import reset_settings

        reset_settings()
        from chalicelib.services.policy import ensure_initial_policy as ensure
    except ModuleNotFoundError as exc:
        print(f"devstack: initial policy not loaded ({exc})", flush=True)
        return
    ensure()


def preflight(p) -> str | None:
    """One line saying why the stack cannot start, or None."""
    if shutil.which("java") is None:
        return "devstack: Java 17 is required (java not found on PATH)"
    if not (INSTALL_DIR / JAR).exists() and shutil.which("npm") is None:
        return "devstack: npm is required to fetch DynamoDB Local (npm not found on PATH)"
    for port, what, var in (
        (p.api, "the API", "PLEDGE_API_PORT"),
        (p.dynamodb, "DynamoDB Local", "PLEDGE_DYNAMODB_PORT"),
        (p.aws, "the AWS stand-in", "PLEDGE_AWS_PORT"),
    ):
        if port_in_use(port):
            return (
                f"devstack: port {port} for {what} is already in use "
                f"(is the stack already running? set {var} to use another port)"
            )
    return None


class _Stop(BaseException):
    """Raised by SIGTERM/SIGINT; a BaseException so no `except Exception` swallows it."""


_stopping = False


def _on_signal(signum, frame):
    # Never SIG_IGN here: children started later would inherit the ignored signal.
    global _stopping
    if not _stopping:
        _stopping = True
        raise _Stop()


def _ignore(signum, frame):
    pass


def run() -> int:
    p = ports()
    problem = preflight(p)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    env = local_env(stack_ports=p)
    children: list[tuple[str, subprocess.Popen]] = []
    scheduler = None
    pollers: list = []
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)  # also when started in the background (SIGINT ignored)
    rc = 0
    try:
        print("devstack: fetching DynamoDB Local (once)", flush=True)
        fetch_dynamodb_local()
        print(f"devstack: starting DynamoDB Local on {p.dynamodb} (data in {DYNAMODB_DATA_DIR})", flush=True)
        children.append(
            (
                "DynamoDB Local",
                start_dynamodb_local(p.dynamodb, db_path=DYNAMODB_DATA_DIR, log=LOG_DIR / "dynamodb.log"),
            )
        )
        print(f"devstack: starting the AWS stand-in (moto) on {p.aws}", flush=True)
        children.append(("AWS stand-in", start_aws_server(p.aws, log=LOG_DIR / "aws.log")))
        created = create_tables(dynamodb_client(p.dynamodb), LOCAL_TABLE_PREFIX)
        print(f"devstack: tables ready ({len(created)} created)", flush=True)
        setup_aws(
            p.aws,
            mail_from=env.get("PLEDGE_MAIL_FROM") or DEFAULT_MAIL_FROM,
            configuration_set=env.get("PLEDGE_SES_CONFIGURATION_SET", ""),
            queue_url=env["PLEDGE_CAMPAIGN_QUEUE_URL"],
        )
        apply_env(env)
        ensure_initial_policy()
        print(f"devstack: starting chalice local on {p.api}", flush=True)
        children.append(("chalice local", start_chalice_local(p.api, env)))

        from .functions import discover, load_app_module
        from .scheduler import Scheduler

        functions = discover(load_app_module())
        print(
            "\n".join(
                [
                    "",
                    f"  API               {url(p.api)}",
                    f"  DynamoDB Local    {url(p.dynamodb)}  (tables {LOCAL_TABLE_PREFIX}*)",
                    f"  AWS stand-in      {url(p.aws)}  (SES, KMS; moto)",
                    f"  outbox            {sys.executable} -m devstack outbox [--json]",
                    f"  ops functions     {sys.executable} -m devstack invoke NAME 'JSON'",
                    f"  logs              {LOG_DIR}",
                    "  Ctrl-C stops everything.",
                    "",
                ]
            ),
            flush=True,
        )
        scheduler = Scheduler([f for f in functions.values() if f.kind == "schedule"]).start()
        pollers = [queue_poller(f, p) for f in functions.values() if f.kind == "sqs"]
        while True:
            for name, proc in children:
                if proc.poll() is not None:
                    raise procs.StartupError(f"devstack: {name} exited with code {proc.returncode}")
            time.sleep(0.5)
    except (KeyboardInterrupt, _Stop):
        print("\ndevstack: stopping", flush=True)
    except procs.StartupError as exc:
        print(str(exc) if str(exc).startswith("devstack:") else f"devstack: {exc}", file=sys.stderr, flush=True)
        rc = 1
    except Exception as exc:
        print(f"devstack: failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        rc = 1
    finally:
        signal.signal(signal.SIGTERM, _ignore)
        signal.signal(signal.SIGINT, _ignore)
        if scheduler is not None:
            scheduler.stop()
        for poller in pollers:
            poller.stop()
        for _, proc in reversed(children):
            procs.stop(proc)
    return rc


def queue_poller(function, stack_ports):
    """The local event source of a queue-fed function (the marketing fan-out's workers)."""
    from chalicelib.settings import get_settings

    from .aws_setup import aws_client
    from .queue_poller import QueuePoller

    settings = get_settings()  # the app's view of the environment (PLEDGE_MARKETING_WORKERS)
    client = aws_client("sqs", stack_ports.aws)
    return QueuePoller(function, settings.campaign_queue_url, client, settings.marketing_workers).start()
