"""python -m devstack run | invoke NAME ['JSON' | --example EXAMPLE [--set FIELD=VALUE ...]] | examples NAME
| outbox [--json] | openapi"""

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
    from .config import LOCAL_TABLE_PREFIX, SECRETS_DIR, port_open, ports
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
        return _error(
            "stack_not_running",
            f"the local stack is not running (nothing on port {p.dynamodb}); start it with `make run`",
        )
    # The running stack's tables and secrets: `make run`'s, unless the environment names
    # another stack's (the test session's).
    apply_env(
        local_env(
            stack_ports=p,
            table_prefix=os.environ.get("PLEDGE_TABLE_PREFIX") or LOCAL_TABLE_PREFIX,
            secrets_dir=os.environ.get("PLEDGE_SECRETS_DIR") or SECRETS_DIR,
        )
    )
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


def example_event(name: str, example: str, overrides: list[str]) -> str | dict:
    """The JSON text of the function's named example with `FIELD=VALUE` overrides (top-level
    string fields), or an error."""
    from infra.console_events import examples_of

    examples = examples_of(name)
    if example not in examples:
        known = sorted(examples)
        return _error(
            "unknown_example", f"{name} has no example {example!r}; known: {', '.join(known) or 'none'}", known=known
        )
    event = dict(examples[example])
    for override in overrides:
        field, sep, value = override.partition("=")
        if not sep or not field:
            return _error("validation_error", f"--set takes FIELD=VALUE, not {override!r}")
        event[field] = value
    return json.dumps(event)


def examples(name: str) -> int:
    """The function's named examples (the same the Lambda console offers), one per line."""
    from infra.console_events import examples_of

    named = examples_of(name)
    if not named:
        print(f"devstack: no examples for {name!r} (chalicelib/schemas/examples/{name}.json)", file=sys.stderr)
        return 1
    for example, event in named.items():
        print(f"{example}\t{json.dumps(event, ensure_ascii=False)}")
    return 0


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
    p_invoke.add_argument("--example", help="run this named example (see `examples NAME`) instead of EVENT")
    p_invoke.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="with --example: set a top-level string field (repeatable)",
    )
    p_examples = sub.add_parser("examples", help="the named example events of a function")
    p_examples.add_argument("name")
    p_outbox = sub.add_parser("outbox", help="email accepted by the local SES stand-in")
    p_outbox.add_argument("--json", action="store_true")
    sub.add_parser("openapi", help="copy the request schemas into chalicelib/openapi.json")
    args = parser.parse_args(argv)
    if args.command == "run":
        from .run import run

        return run()
    if args.command == "invoke":
        if args.example is None:
            return invoke(args.name, args.event)
        event = example_event(args.name, args.example, args.set)
        if isinstance(event, dict):
            print(json.dumps(event, indent=2))
            return 1
        return invoke(args.name, event)
    if args.command == "examples":
        return examples(args.name)
    if args.command == "openapi":
        from .openapi import SPEC, sync

        print(f"devstack: {SPEC} {'updated' if sync() else 'already up to date'}")
        return 0
    return outbox(args.json)


if __name__ == "__main__":
    sys.exit(main())
