"""Logs in to a FinAI server with codes from pyotp, an implementation of RFC 6238 that shares
no code with FinAI's. Run by scripts/totp-crosscheck.sh with FINAI_BASE_URL set."""

import json
import os
import sys
import time
import urllib.error
import urllib.request

import pyotp

BASE = os.environ["FINAI_BASE_URL"].rstrip("/")
PASSWORD = "Str0ng!pass"


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def expect(what, status, body, wanted, code=None):
    if status != wanted or (code and body.get("code") != code):
        sys.exit(f"FAIL {what}: wanted {wanted} {code or ''}, got {status} {body}")
    print(f"ok   {what}")


def steady_step(margin=10):
    """Wait until the current step has `margin` seconds left."""
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.5)


email = f"totp-{int(time.time())}@example.com"
status, body = call("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD, "name": "TOTP"})
expect("register", status, body, 201)
token = body["data"]["access_token"]

status, body = call("POST", "/api/v1/users/me/two-factor", {"password": PASSWORD}, token)
expect("enrol", status, body, 201)
uri = body["data"]["otpauth_uri"]
totp = pyotp.parse_uri(uri)
if not isinstance(totp, pyotp.TOTP) or totp.digits != 6 or totp.interval != 30:
    sys.exit(f"FAIL the key URI does not describe a 6-digit, 30-second TOTP: {uri}")
if totp.secret != body["data"]["secret"] or totp.issuer != "FinAI" or totp.name != email:
    sys.exit(f"FAIL the key URI's secret, issuer or account differ: {uri}")
print("ok   pyotp reads the key URI")

steady_step()
now = time.time()
# Confirm with the previous step's code (a phone clock running late).
status, body = call("POST", "/api/v1/users/me/two-factor/confirm", {"code": totp.at(now - 30)}, token)
expect("confirm with the code of one step ago", status, body, 200)
recovery = body["data"]["recovery_codes"]


def challenge():
    status, body = call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
    expect("login answers mfa_required", status, body, 202)
    return body["data"]["challenge"]


def verify(challenge_token, code):
    return call("POST", "/api/v1/auth/mfa/verify", {"challenge": challenge_token, "code": code})


login = challenge()
status, body = verify(login, totp.at(now))
expect("verify with the current code", status, body, 200)
login = challenge()
status, body = verify(login, totp.at(now + 30))
expect("verify with the next step's code (a phone clock running early)", status, body, 200)

login = challenge()
for label, code in [
    ("a used code", totp.at(now + 30)),
    ("a code older than the last used", totp.at(now)),
    ("a code two steps ahead", totp.at(now + 60)),
]:
    status, body = verify(login, code)
    expect(f"refuse {label}", status, body, 401, "invalid_mfa_code")
status, body = verify(login, recovery[0])
expect("verify with a recovery code", status, body, 200)
print("totp-crosscheck: pyotp's codes and FinAI's agree")
