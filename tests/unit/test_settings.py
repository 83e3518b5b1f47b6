"""Stage and secrets: a Lambda without its stage fails closed; each secret is its own document."""

from __future__ import annotations

import json

import pytest

from chalicelib.settings import get_settings, load_secret, reset_settings


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in ("PLEDGE_STAGE", "AWS_LAMBDA_FUNCTION_NAME", "PLEDGE_SECRETS_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PLEDGE_SECRETS_DIR", str(tmp_path))
    reset_settings()
    yield monkeypatch
    reset_settings()


def test_on_lambda_without_a_stage_it_refuses_to_run(env):
    env.setenv("AWS_LAMBDA_FUNCTION_NAME", "pledge-prod-api_handler")
    with pytest.raises(RuntimeError, match="PLEDGE_STAGE"):
        get_settings()
    env.setenv("PLEDGE_STAGE", "prod")
    reset_settings()
    assert get_settings().stage == "prod" and get_settings().cookie_secure


def test_off_lambda_the_default_stage_is_local(env):
    assert get_settings().stage == "local" and not get_settings().cookie_secure


def test_a_deployed_stage_never_falls_back_to_file_secrets(env):
    env.setenv("PLEDGE_STAGE", "prod")
    with pytest.raises(RuntimeError, match="PLEDGE_SECRETS_PREFIX"):
        load_secret("session")


def test_each_secret_is_its_own_file_created_once(env, tmp_path):
    session, tokens = load_secret("session"), load_secret("tokens")
    assert session != tokens and len(session["key"]) == 64
    assert set(load_secret("unsubscribe")) == {"keys", "active_key"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.json", "tokens.json", "unsubscribe.json"]
    assert (tmp_path / "session.json").stat().st_mode & 0o777 == 0o600
    reset_settings()
    assert load_secret("session") == session == json.loads((tmp_path / "session.json").read_text())
    with pytest.raises(KeyError):
        load_secret("everything")
