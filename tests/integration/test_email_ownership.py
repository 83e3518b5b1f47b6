"""Email verification and password reset, against DynamoDB Local and the SES stand-in."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from chalice.test import Client

from app import app
from chalicelib.services import account_tokens
from tests.helpers import PASSWORD, call, last_mail, link_token, login, signup, unique_email
from tests.stack import outbox

CONFIRM = "Confirm your email address"
RESET = "Reset your password"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client(clean_stack):
    with Client(app, stage_name="local") as test_client:
        yield test_client


def scan(stack, logical: str) -> list[dict]:
    return stack.dynamodb().scan(TableName=f"{stack.table_prefix}{logical}", ConsistentRead=True)["Items"]


def verification_token(email: str) -> str:
    return link_token(last_mail(email, CONFIRM), "/verify-email")


def reset_token(email: str) -> str:
    return link_token(last_mail(email, RESET), "/password-reset")


def profile(client, account) -> dict:
    return call(client, "GET", "/account", account=account).json


# --- email verification ----------------------------------------------------------------


def test_signup_sends_a_link_and_only_its_post_verifies(client, clean_stack):
    account = signup(client)
    assert profile(client, account)["email_verified"] is False
    token = verification_token(account.email)
    assert all(token not in str(item) for item in scan(clean_stack, "account_tokens"))  # stored as a hash only

    page = call(client, "GET", f"/verify-email?token={token}")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    body = page.body.decode()
    assert (
        'method="post"' in body
        and f'value="{token}"' in body
        and "frame-ancestors 'none'" in (page.headers["Content-Security-Policy"])
    )
    assert profile(client, account)["email_verified"] is False  # a GET changes nothing

    done = call(client, "POST", "/verify-email", {"token": token})
    assert (done.status_code, done.json) == (200, {"email_verified": True})
    assert profile(client, account)["email_verified"] is True
    again = call(client, "POST", "/verify-email", {"token": token})
    assert again.status_code == 404 and again.json["error"]["code"] == "not_found"


def test_the_page_button_posts_a_form_and_answers_a_page(client):
    account = signup(client)
    done = call(client, "POST", "/verify-email", headers=FORM, raw=f"token={verification_token(account.email)}")
    assert done.status_code == 200 and "confirmed" in done.body.decode()
    assert profile(client, account)["email_verified"] is True


@pytest.mark.parametrize("token", ["", "short", "x" * 200, "bad token with spaces!!", "A" * 43])
def test_bad_tokens_change_nothing(client, token):
    account = signup(client)
    answer = call(client, "POST", "/verify-email", {"token": token})
    assert answer.status_code in (400, 404) and answer.json["error"]["code"] in ("validation_error", "not_found")
    assert len(token) < 10 or token not in answer.body.decode()
    assert profile(client, account)["email_verified"] is False


def test_an_expired_link_is_refused(client, monkeypatch):
    account = signup(client)
    token = verification_token(account.email)
    later = account_tokens.time.time() + 7 * 86400 + 1
    monkeypatch.setattr(account_tokens.time, "time", lambda: later)
    assert call(client, "POST", "/verify-email", {"token": token}).status_code == 404
    assert profile(client, account)["email_verified"] is False


def test_a_token_is_spent_once_even_in_parallel(client):
    account = signup(client)
    token = verification_token(account.email)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(lambda _: call(client, "POST", "/verify-email", {"token": token}).status_code, range(6))
        )
    assert answers.count(200) == 1 and answers.count(404) == 5


def test_an_email_change_unverifies_sends_a_link_and_tells_the_old_address(client, clean_stack):
    account = signup(client)
    call(client, "POST", "/verify-email", {"token": verification_token(account.email)})
    new_email = unique_email("moved")
    changed = call(client, "PATCH", "/account", {"email": new_email}, account=account)
    assert changed.status_code == 200 and changed.json["email_verified"] is False
    assert profile(client, account)["email_verified"] is False
    notice = last_mail(account.email, "email address of your account was changed")
    assert new_email not in notice["text"] and new_email not in notice["html"]
    renamed = call(client, "PATCH", "/account", {"name": "Same Owner"}, account=account)
    assert renamed.json["email_verified"] is False

    token = verification_token(new_email)
    assert call(client, "POST", "/verify-email", {"token": token}).status_code == 200
    assert profile(client, account)["email_verified"] is True


def test_a_link_for_an_address_no_longer_held_is_refused(client):
    account = signup(client)
    first = verification_token(account.email)
    call(client, "PATCH", "/account", {"email": unique_email("other")}, account=account)
    assert call(client, "POST", "/verify-email", {"token": first}).status_code == 404
    assert profile(client, account)["email_verified"] is False


def test_a_new_link_can_be_asked_for_while_unverified(client):
    account = signup(client)
    before = len(outbox())
    asked = call(client, "POST", "/account/email-verification", account=account)
    assert asked.status_code == 202 and len(outbox()) == before + 1
    assert call(client, "POST", "/verify-email", {"token": verification_token(account.email)}).status_code == 200
    call(client, "POST", "/account/email-verification", account=account)
    assert len(outbox()) == before + 1  # verified: nothing more to send
    assert call(client, "POST", "/account/email-verification", account=account, csrf=False).status_code == 403


# --- password reset ----------------------------------------------------------------------


def test_reset_answers_202_whether_or_not_the_address_is_known(client):
    account = signup(client)
    before = len(outbox())
    unknown = call(client, "POST", "/password-reset", {"email": unique_email("nobody")})
    known = call(client, "POST", "/password-reset", {"email": account.email.upper()})
    assert unknown.status_code == known.status_code == 202 and unknown.json == known.json
    [mail] = outbox()[before:]
    assert mail["to"] == [account.email] and RESET in mail["subject"]


def test_reset_mail_is_limited_per_address_and_still_answers_202(client):
    account = signup(client)
    answers = [call(client, "POST", "/password-reset", {"email": account.email}).status_code for _ in range(5)]
    assert answers == [202] * 5
    assert len([m for m in outbox() if RESET in m["subject"]]) == 3


def test_reset_sets_the_password_ends_every_session_and_spends_the_token(client, clean_stack):
    account = signup(client)
    second_device = login(client, account.email)
    call(client, "POST", "/password-reset", {"email": account.email})
    token = reset_token(account.email)
    assert all(token not in str(item) for item in scan(clean_stack, "account_tokens"))

    page = call(client, "GET", f"/password-reset?token={token}")
    assert (
        page.status_code == 200
        and 'name="password"' in page.body.decode()
        and 'id="password-reset"' in (page.body.decode())
    )
    assert call(client, "GET", "/account", account=account).status_code == 200  # a GET changes nothing

    new_password = "a brand new passphrase"
    done = call(client, "POST", "/password-reset/confirm", {"token": token, "password": new_password})
    assert done.status_code == 200
    assert call(client, "GET", "/account", account=account).status_code == 401
    assert (
        call(
            client, "GET", "/account", headers={"Cookie": second_device.headers["Set-Cookie"].split(";")[0]}
        ).status_code
        == 401
    )
    [customer] = scan(clean_stack, "customers")
    assert customer["password_hash"]["S"].startswith("$argon2id$")
    assert login(client, account.email, PASSWORD).status_code == 401
    assert login(client, account.email, new_password).status_code == 200
    again = call(client, "POST", "/password-reset/confirm", {"token": token, "password": "yet another passphrase"})
    assert again.status_code == 404
    assert login(client, account.email, new_password).status_code == 200


def test_reset_tokens_expire_after_an_hour_and_die_with_the_password(client, monkeypatch):
    account = signup(client)
    call(client, "POST", "/password-reset", {"email": account.email})
    first = reset_token(account.email)
    call(client, "POST", "/password-reset", {"email": account.email})
    second = reset_token(account.email)
    assert (
        call(client, "POST", "/password-reset/confirm", {"token": second, "password": "first new password"}).status_code
        == 200
    )
    assert (
        call(client, "POST", "/password-reset/confirm", {"token": first, "password": "second new password"}).status_code
        == 404
    )  # the password it was for is gone

    call(client, "POST", "/password-reset", {"email": account.email})
    third = reset_token(account.email)
    later = account_tokens.time.time() + 3601
    monkeypatch.setattr(account_tokens.time, "time", lambda: later)
    assert (
        call(client, "POST", "/password-reset/confirm", {"token": third, "password": "third new password"}).status_code
        == 404
    )
    assert login(client, account.email, "first new password").status_code == 200


def test_reset_confirm_validates_and_never_echoes_the_password(client):
    short = call(client, "POST", "/password-reset/confirm", {"token": "A" * 43, "password": "short"})
    assert short.status_code == 400 and "short" not in short.body.decode().replace('"short"', "")
    assert (
        call(
            client, "POST", "/password-reset/confirm", {"token": "A" * 43, "password": "long enough password"}
        ).status_code
        == 404
    )


def test_the_reset_pages_post_forms(client):
    account = signup(client)
    asked = call(client, "POST", "/password-reset", headers=FORM, raw=f"email={account.email}")
    assert asked.status_code == 202 and "text/html" in asked.headers["Content-Type"]
    token = reset_token(account.email)
    done = call(
        client, "POST", "/password-reset/confirm", headers=FORM, raw=f"token={token}&password=a+form+posted+password"
    )
    assert done.status_code == 200 and "text/html" in done.headers["Content-Type"]
    assert login(client, account.email, "a form posted password").status_code == 200
    bad = call(client, "POST", "/password-reset/confirm", headers=FORM, raw=f"token={token}&password=x")
    assert bad.status_code == 400 and "text/html" in bad.headers["Content-Type"]
    assert call(client, "GET", "/password-reset").status_code == 200


def test_a_deactivated_customer_gets_no_reset_link(client):
    account = signup(client)
    call(client, "POST", "/account/deactivate", {"password": PASSWORD}, account=account)
    before = len(outbox())
    assert call(client, "POST", "/password-reset", {"email": account.email}).status_code == 202
    assert len(outbox()) == before
