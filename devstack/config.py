"""Ports and paths of the local stack."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = REPO_ROOT / ".local"
CACHE_DIR = LOCAL_DIR / "cache"
LOG_DIR = LOCAL_DIR / "logs"
DYNAMODB_DATA_DIR = LOCAL_DIR / "dynamodb"
SECRETS_DIR = LOCAL_DIR / "secrets"
KMS_KEY_MATERIAL_FILE = LOCAL_DIR / "kms-key-material.bin"

LOCAL_TABLE_PREFIX = "pledge-local-"
HOST = "127.0.0.1"


def _port(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value else default


@dataclass(frozen=True)
class Ports:
    api: int
    dynamodb: int
    aws: int


def ports() -> Ports:
    """Ports of the running local stack: defaults 8000/8001/8002, overridable by
    PLEDGE_API_PORT, PLEDGE_DYNAMODB_PORT and PLEDGE_AWS_PORT."""
    return Ports(
        api=_port("PLEDGE_API_PORT", 8000),
        dynamodb=_port("PLEDGE_DYNAMODB_PORT", 8001),
        aws=_port("PLEDGE_AWS_PORT", 8002),
    )


def url(port: int) -> str:
    return f"http://{HOST}:{port}"


def port_in_use(port: int, host: str = HOST) -> bool:
    """True when something listens on (or holds) the port; TIME_WAIT leftovers of a
    previous run do not count (servers bind with SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def port_open(port: int, host: str = HOST) -> bool:
    """True when something accepts connections on the port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port(host: str = HOST) -> int:
    """A port nothing listens on now, never one of the default 8000-8002."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if port not in (8000, 8001, 8002):
            return port
