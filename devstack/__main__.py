"""python -m devstack run | invoke NAME 'JSON' | outbox [--json] | openapi"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback


def _error(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, "details": [], **extra}}


@contextlib.contextmanager
def _stdout_to_stderr():
    """While the app runs, anything it prints (Powertools logs) goes to stderr, so stdout
    carries only the result. Yields a writer for the real stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    previous = sys.stdout
    sys.stdout = sys.stderr
    real = os.fdopen(saved, "w", closefd=False)
    try:
        yield real
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved, 1)
        sys.stdout = previous
        real.flush()
        os.close(saved)


def invoke(name: str, payload: str) -> int:
    result: object
    with _stdout_to_stderr() as out:
        try:
            result = _invoke(name, payload)
        except Exception as exc:
            traceback.print_exc()
            result = _error("internal_error", f"devstack invoke failed: {type(exc).__name__}: {exc}")
        out.write(json.dumps(result, indent=2, default=str, ensure_ascii=False) + "\n")
    from .functions import is_failure

    return 1 if is_failure(result) else 0


def _invoke(name: str, payload: str) -> object:
    from .config import port_open, ports
    from .env import apply_env, local_env
    from .functions import call, discover, load_app_module

    try:
        event = json.loads(payload)
    except json.JSONDecodeError as exc:
        return _error("validation_error", f"the event is not valid JSON: {exc}")
    if not isinstance(event, dict):
        return _error("validation_error", "the event must be a JSON object")
    p = ports()
    if not port_open(p.dynamodb):
        return _error("stack_not_running",
                      f"the local stack is not running (nothing on port {p.dynamodb}); start it with `make run`")
    apply_env(local_env(stack_ports=p))
    try:
        functions = discover(load_app_module())
    except Exception as exc:
        traceback.print_exc()
        return _error("internal_error", f"cannot load the app: {type(exc).__name__}: {exc}")
    if name not in functions:
        known = sorted(functions)
        return _error("unknown_function", f"no function named {name!r}; known: {', '.join(known)}", known=known)
    try:
        return call(functions[name], event)
    except Exception as exc:
        traceback.print_exc()
        return _error("internal_error", f"{type(exc).__name__}: {exc}")


def outbox(as_json: bool) -> int:
    from .outbox import read_outbox, summary

    try:
        messages = read_outbox()
    except OSError as exc:
        print(f"devstack: cannot read the outbox: {exc} (is the stack running?)", file=sys.stderr)
        return 1
    print(json.dumps(messages, indent=2, ensure_ascii=False) if as_json else summary(messages))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description="Pledge local stack")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the local stack in the foreground")
    p_invoke = sub.add_parser("invoke", help="run an ops or scheduled function against the running stack")
    p_invoke.add_argument("name")
    p_invoke.add_argument("event", nargs="?", default="{}")
    p_outbox = sub.add_parser("outbox", help="email accepted by the local SES stand-in")
    p_outbox.add_argument("--json", action="store_true")
    sub.add_parser("openapi", help="copy the request schemas into chalicelib/openapi.json")
    args = parser.parse_args(argv)
    if args.command == "run":
        from .run import run

        return run()
    if args.command == "invoke":
        return invoke(args.name, args.event)
    if args.command == "openapi":
        from .openapi import SPEC, sync

        print(f"devstack: {SPEC} {'updated' if sync() else 'already up to date'}")
        return 0
    return outbox(args.json)


if __name__ == "__main__":
    sys.exit(main())
