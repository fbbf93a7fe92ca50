#!/usr/bin/env python3
"""The attack run of issue 16 as a regression gate: every attack, each asserting its refusal.

Run it through scripts/attack.sh, which starts a fresh server (private PostgreSQL in a temp
directory), creates an admin account and sets the variables below:

    bash scripts/attack.sh                               # every check
    bash scripts/attack.sh --only lockout --only pat-cap # some checks
    bash scripts/attack.sh --list                        # the names of the checks
    FINAI_BIN=/tmp/attack-finai bash scripts/attack.sh   # another binary

Each check prints `PASS name (seconds): what held` or `FAIL name (seconds): what did not`; the
run exits 1 if any check failed. Only Python's standard library is used.

Environment (set by attack.sh):
    ATTACK_BASE_URL           the server, e.g. http://127.0.0.1:18581
    ATTACK_ADMIN_EMAIL        an admin account on it
    ATTACK_ADMIN_PASSWORD
    ATTACK_JWT_SECRET_FILE    the server's signing key (development: $FINAI_DATA_DIR/jwt_secret),
                              to sign tokens that are valid but for one claim
    ATTACK_FINAI_BIN          the server binary, for extra servers and subcommands
    ATTACK_FINAI_ENV          the server's hermetic environment, NUL-separated VAR=value
    ATTACK_LOCKOUT_THRESHOLD  the server's LOGIN_LOCKOUT_THRESHOLD (default 5)
    ATTACK_CSV_VALID_EVERY    csv-200k-lines stores one line in this many (default 20; 1 stores
                              all 200,000, about a minute on a release build)

Adding a check: write a function taking the Context and decorate it with `@check("name")`; it
passes by returning (optionally a one-line summary) and fails by raising `Failure` (`expect`,
`expect_error` and `expect_status` do that). Checks run in the order they are defined and must
not depend on each other: each registers its own users (`ctx.register()`), so `--only` runs any
one alone. The helpers:

    ctx.register(tag)         a new account, logged in: a `User` with .access, .refresh, .id
    ctx.login(email, pw)      the login's Response
    ctx.admin()               the admin account, logged in
    user.get/post/patch/delete(path, json=..., headers=..., token=...)  -> Response
    user.data(method, path, json=...)  the answer's `data`, failing unless it is a 2xx
    ctx.api.request(method, path, token=..., json=..., body=..., headers=...)  -> Response
    Response: .status, .headers (lower-case names), .body (bytes), .json, .code (the error
              envelope's code), .data, .elapsed
    parallel(ctx.api, [(method, path, kwargs), ...])  sends them at the same instant
    ctx.extra_server(name, env={...})  a second server with its own database and settings
              (e.g. rate limits on, or two-factor options): .start(), .stop(), .api,
              .run(args...) for subcommands such as create-admin, .database_url() for a
              third server on the same database

Where the next checks go. Two-factor login (mfa_required, POST /auth/mfa/verify, recovery codes
good once, failed codes counting toward the lockout, expired challenges) needs nothing special:
write it like `lockout`, against the main server. Rate limits are off on the main server (the
checks send bursts on purpose), so a rate-limit check starts its own with them on,
`ctx.extra_server("limits", env={"RATE_LIMIT_WRITES_PER_MIN": "5"})`, and, to show that a limit
does not multiply with instances, a second one on its database,
`ctx.extra_server("limits-2", env={"DATABASE_URL": first.database_url(), ...})`.
"""

import argparse
import base64
import concurrent.futures
import csv
import datetime
import hashlib
import hmac
import http.client
import io
import json
import os
import random
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
import zlib

PASSWORD = "Attack!pass1"
RUN = uuid.uuid4().hex[:8]
API = "/api/v1"


class Failure(Exception):
    """A check found the server not refusing what it must refuse."""


def expect(condition, message):
    if not condition:
        raise Failure(message)


# --- HTTP ------------------------------------------------------------------------------------


class Response:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed

    @property
    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def code(self):
        """The error code of the envelope (`{"code": ...}`, or `{"error": {"code": ...}}`)."""
        body = self.json
        if not isinstance(body, dict):
            return None
        if isinstance(body.get("error"), dict):
            return body["error"].get("code")
        return body.get("code")

    @property
    def data(self):
        body = self.json
        return body.get("data") if isinstance(body, dict) else None

    def brief(self):
        text = self.body[:300].decode("utf-8", "replace")
        return f"{self.status} {text}"


class Api:
    def __init__(self, base_url):
        parsed = urllib.parse.urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.host = parsed.hostname
        self.port = parsed.port or 80

    def connection(self, timeout=60):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, *, token=None, json=None, body=None, headers=None,
                conn=None, timeout=60):
        """One request; a new connection unless `conn` is given. `path` is sent as written
        (no escaping), so `/api/v1/%61uth/login` reaches the server as such."""
        all_headers = {"Accept": "application/json"}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        if json is not None:
            body = _json_bytes(json)
            all_headers["Content-Type"] = "application/json"
        if isinstance(body, str):
            body = body.encode()
        all_headers.update(headers or {})
        own = conn is None
        conn = conn or self.connection(timeout)
        try:
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - start
            merged = {}
            for name, value in response.getheaders():
                name = name.lower()
                merged[name] = f"{merged[name]}, {value}" if name in merged else value
            return Response(response.status, merged, data, elapsed)
        finally:
            if own:
                conn.close()


def _json_bytes(value):
    return json.dumps(value, ensure_ascii=False).encode()


def parallel(api, requests, timeout=60):
    """Sends every (method, path, kwargs) at the same instant, each on a connection opened
    beforehand; returns the Responses in order."""
    conns = [api.connection(timeout) for _ in requests]
    for conn in conns:
        conn.connect()
    barrier = threading.Barrier(len(requests))

    def send(index):
        method, path, kwargs = requests[index]
        barrier.wait()
        return api.request(method, path, conn=conns[index], **kwargs)

    try:
        with concurrent.futures.ThreadPoolExecutor(len(requests)) as pool:
            return list(pool.map(send, range(len(requests))))
    finally:
        for conn in conns:
            conn.close()


def expect_status(response, status, what):
    statuses = status if isinstance(status, (tuple, list, set)) else (status,)
    expect(response.status in statuses,
           f"{what}: expected {'/'.join(map(str, statuses))}, got {response.brief()}")
    return response


def expect_error(response, status, code, what):
    """`status` and the envelope's `code` (one of, when a tuple is given)."""
    codes = code if isinstance(code, (tuple, list, set)) else (code,)
    expect(response.status == status and response.code in codes,
           f"{what}: expected {status} {'/'.join(codes)}, got {response.brief()}")
    return response


# --- accounts --------------------------------------------------------------------------------


class User:
    def __init__(self, api, email, password, session):
        self.api = api
        self.email = email
        self.password = password
        self.id = session["user"]["id"]
        self.profile = session["user"]
        self.access = session["access_token"]
        self.refresh = session["refresh_token"]

    def request(self, method, path, **kwargs):
        kwargs.setdefault("token", self.access)
        return self.api.request(method, path, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def data(self, method, path, **kwargs):
        response = self.request(method, path, **kwargs)
        expect(200 <= response.status < 300, f"{method} {path} as {self.email}: {response.brief()}")
        return response.data


def unique_email(tag):
    unique_email.counter += 1
    return f"{tag}-{RUN}-{unique_email.counter}@attack.test"


unique_email.counter = 0


# --- tokens ----------------------------------------------------------------------------------


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token):
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def jwt_sign(header, claims, secret):
    algorithms = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    signing_input = f"{b64url(_json_bytes(header))}.{b64url(_json_bytes(claims))}"
    digest = algorithms.get(header.get("alg"), hashlib.sha256)
    signature = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64url(signature)}"


# --- extra servers ---------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_gone(process, seconds):
    try:
        process.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        return False


class ExtraServer:
    """A server of its own: own data directory (so its own PostgreSQL), port and settings,
    started like attack.sh starts the main one. `run()` runs a subcommand on its database
    (while the server is stopped: the private cluster serves one process at a time)."""

    def __init__(self, ctx, name, env=None):
        self.ctx = ctx
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"finai-attack-{name}.")
        # Run as root, PostgreSQL runs as `postgres` and must be able to enter it.
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.api = Api(self.base_url)
        self.env = ctx.finai_environment(self.dir, self.port, env or {})
        self.log_path = os.path.join(self.dir, "server.log")
        self.process = None

    def run(self, *args, env=None, stdin_text=None, timeout=120):
        """Runs `finai ARGS` with this server's environment (plus `env`)."""
        return subprocess.run(
            [self.ctx.finai_bin, *args], env={**self.env, **(env or {})}, cwd=self.dir,
            input=stdin_text, capture_output=True, text=True, timeout=timeout)

    def start(self, timeout=90):
        if self.process is not None and self.process.poll() is None:
            return self
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [self.ctx.finai_bin, "serve"], env=self.env, cwd=self.dir,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise Failure(f"extra server {self.name} exited ({self.process.returncode}): "
                              f"{self.log_tail()}")
            try:
                if self.api.request("GET", "/ready", timeout=2).status == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise Failure(f"extra server {self.name} not ready in {timeout} s: "
                              f"{self.log_tail()}")
            time.sleep(0.2)

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            if not wait_gone(self.process, 30):
                self.process.terminate()
                if not wait_gone(self.process, 10):
                    self.process.kill()
                    self.process.wait()
        self.process = None

    def database_url(self):
        """The URL of this server's private PostgreSQL (while it runs), for a second server
        on the same database: `ctx.extra_server("b", env={"DATABASE_URL": a.database_url()})`.
        The socket is in `run/` of the data directory (src/db/embedded.rs; temp dirs are short
        enough for the kernel's limit)."""
        socket_dir = urllib.parse.quote(os.path.join(self.dir, "run"), safe="")
        return f"postgresql://finai@/finai?host={socket_dir}&port=5432"

    def log_tail(self, lines=15):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                return " | ".join(log.read().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def close(self):
        self.stop()
        # The server stops its PostgreSQL on SIGINT; if it could not, stop that cluster (only a
        # postgres process serving this directory).
        pid_file = os.path.join(self.dir, "postgres", "postmaster.pid")
        try:
            with open(pid_file, encoding="utf-8") as f:
                pid = int(f.readline().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                serves_ours = self.dir.encode() in f.read()
            with open(f"/proc/{pid}/comm", encoding="utf-8") as f:
                serves_ours = serves_ours and f.read().startswith("postgres")
            if not serves_ours:
                raise ProcessLookupError(pid)
            os.kill(pid, signal.SIGINT)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.1)
        except (OSError, ValueError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the context every check gets ------------------------------------------------------------


class Context:
    def __init__(self):
        env = os.environ
        self.base_url = env.get("ATTACK_BASE_URL", "")
        self.api = Api(self.base_url) if self.base_url else None
        self.admin_email = env.get("ATTACK_ADMIN_EMAIL")
        self.admin_password = env.get("ATTACK_ADMIN_PASSWORD")
        self.jwt_secret_file = env.get("ATTACK_JWT_SECRET_FILE")
        self.finai_bin = env.get("ATTACK_FINAI_BIN")
        self.finai_env_file = env.get("ATTACK_FINAI_ENV")
        self.lockout_threshold = int(env.get("ATTACK_LOCKOUT_THRESHOLD", "5"))
        self._admin = None
        self._spec = None
        self._extra = {}

    def register(self, tag="user", email=None, password=PASSWORD):
        email = email or unique_email(tag)
        response = self.api.request("POST", f"{API}/auth/register",
                                    json={"email": email, "password": password, "name": tag})
        expect_status(response, 201, f"register {email}")
        return User(self.api, email, password, response.data)

    def login(self, email, password, path=f"{API}/auth/login", **kwargs):
        return self.api.request("POST", path, json={"email": email, "password": password},
                                **kwargs)

    def login_user(self, email, password):
        response = expect_status(self.login(email, password), 200, f"login {email}")
        return User(self.api, email, password, response.data)

    def refresh(self, refresh_token, path=f"{API}/auth/refresh", **kwargs):
        return self.api.request("POST", path, json={"refresh_token": refresh_token}, **kwargs)

    def admin(self):
        if self._admin is None:
            expect(self.admin_email and self.admin_password, "ATTACK_ADMIN_EMAIL/PASSWORD unset")
            self._admin = self.login_user(self.admin_email, self.admin_password)
        return self._admin

    def jwt_secret(self):
        expect(self.jwt_secret_file and os.path.exists(self.jwt_secret_file),
               f"the server's JWT secret file is missing ({self.jwt_secret_file!r})")
        with open(self.jwt_secret_file, encoding="utf-8") as f:
            return f.read().strip()

    def spec(self):
        if self._spec is None:
            self._spec = expect_status(self.api.request("GET", f"{API}/openapi.json"), 200,
                                       "the served OpenAPI document").json
        return self._spec

    def finai_environment(self, data_dir, port, extra):
        expect(self.finai_bin and self.finai_env_file and os.path.exists(self.finai_env_file),
               "ATTACK_FINAI_BIN / ATTACK_FINAI_ENV unset (run through scripts/attack.sh)")
        with open(self.finai_env_file, "rb") as f:
            words = [w.decode() for w in f.read().split(b"\0") if w]
        environment = dict(word.split("=", 1) for word in words)
        environment.update({
            "FINAI_DATA_DIR": data_dir,
            "FINAI_BIND": f"127.0.0.1:{port}",
            "FINAI_PUBLIC_URL": f"http://127.0.0.1:{port}",
        })
        environment.update(extra)
        return environment

    def extra_server(self, name, env=None):
        """A second server, made once per name and kept until the run ends."""
        if name not in self._extra:
            self._extra[name] = ExtraServer(self, name, env)
        return self._extra[name]

    def close(self):
        for server in self._extra.values():
            server.close()


# --- the registry ----------------------------------------------------------------------------

CHECKS = []


def check(name):
    def register(function):
        CHECKS.append((name, function))
        return function
    return register


def expense_category(user):
    """One of the account's (default) expense categories."""
    categories = user.data("GET", f"{API}/categories?kind=expense&per_page=1")
    expect(categories, f"{user.email} has no expense category")
    return categories[0]


def today(days=0):
    return (datetime.date.today() + datetime.timedelta(days=days)).isoformat()


# === forged and stale access tokens =========================================================


@check("jwt-forged")
def jwt_forged(ctx):
    """Signatures that are not the server's: wrong secret, `alg: none`, other algorithms,
    a tampered payload, garbage; all 401 invalid_token (no header: 401 missing_token)."""
    user = ctx.register("jwt")
    header, claims, signature = jwt_parts(user.access)
    payload = user.access.split(".")[1]
    none_header = b64url(b'{"alg":"none","typ":"JWT"}')
    capital_none = b64url(b'{"alg":"None"}')
    rs256 = b64url(b'{"alg":"RS256","typ":"JWT"}')
    forged = {
        "wrong secret": jwt_sign(header, claims, "not-the-secret-" + "x" * 40),
        "alg none, no signature": f"{none_header}.{payload}.",
        "alg none, old signature": f"{none_header}.{payload}.{signature}",
        "alg None": f"{capital_none}.{payload}.",
        "alg HS512 with a wrong key": jwt_sign({"alg": "HS512", "typ": "JWT"}, claims, "k" * 48),
        "alg RS256 header": f"{rs256}.{payload}.{signature}",
        "payload changed (sub)": (f"{user.access.split('.')[0]}."
                                  f"{b64url(_json_bytes({**claims, 'sub': str(uuid.uuid4())}))}."
                                  f"{signature}"),
        "signature cut": user.access[:-4],
        "two parts": ".".join(user.access.split(".")[:2]),
        "garbage": "not.a.token",
        "empty claims": f"{user.access.split('.')[0]}.{b64url(b'{}')}.{signature}",
    }
    for what, token in forged.items():
        expect_error(user.get(f"{API}/users/me", token=token), 401, "invalid_token", what)
    expect_error(ctx.api.request("GET", f"{API}/users/me"), 401, "missing_token", "no token")
    expect_error(ctx.api.request("GET", f"{API}/users/me",
                                 headers={"Authorization": f"Basic {user.access}"}),
                 401, "invalid_token", "Basic scheme")
    expect_status(user.get(f"{API}/users/me"), 200, "the genuine token (control)")
    return f"{len(forged) + 2} forgeries refused"


@check("jwt-claims")
def jwt_claims(ctx):
    """Tokens signed with the server's own key but expired, for another audience or issuer, or
    missing a required claim: 401 (token_expired for the expired one)."""
    secret = ctx.jwt_secret()
    user = ctx.register("claims")
    header, claims, _ = jwt_parts(user.access)
    expect_status(user.get(f"{API}/users/me", token=jwt_sign(header, claims, secret)), 200,
                  "a token re-signed with the server's key (control: the key is right)")
    now = int(time.time())
    expect_error(user.get(f"{API}/users/me",
                          token=jwt_sign(header, {**claims, "iat": now - 3600, "exp": now - 5},
                                         secret)),
                 401, "token_expired", "expired token")
    variants = {
        "wrong audience": {**claims, "aud": "another-api"},
        "wrong issuer": {**claims, "iss": "evil"},
        "audience list without ours": {**claims, "aud": ["other"]},
    }
    for missing in ("exp", "aud", "iss", "sub", "iat"):
        variants[f"no {missing}"] = {k: v for k, v in claims.items() if k != missing}
    for what, forged in variants.items():
        expect_error(user.get(f"{API}/users/me", token=jwt_sign(header, forged, secret)), 401,
                     "invalid_token", what)
    return f"expired and {len(variants)} claim variants refused"


@check("jwt-role-claim")
def jwt_role_claim(ctx):
    """`role: admin` put into a user's token: with the old signature 401; even validly signed,
    the role comes from the database (403 forbidden on /admin/* and /users)."""
    secret = ctx.jwt_secret()
    user = ctx.register("role")
    header, claims, signature = jwt_parts(user.access)
    elevated = {**claims, "role": "admin"}
    tampered = f"{user.access.split('.')[0]}.{b64url(_json_bytes(elevated))}.{signature}"
    expect_error(user.get(f"{API}/admin/stats", token=tampered), 401, "invalid_token",
                 "role claim added, old signature")
    signed = jwt_sign(header, elevated, secret)
    for method, path, body in [
        ("GET", f"{API}/admin/stats", None),
        ("GET", f"{API}/admin/audit-log", None),
        ("GET", f"{API}/users", None),
        ("GET", f"{API}/users/{user.id}", None),
        ("PATCH", f"{API}/users/{user.id}", {"role": "admin"}),
        ("POST", f"{API}/admin/announcements", {"title": "pwned", "body": "pwned"}),
    ]:
        expect_error(user.request(method, path, token=signed, json=body), 403, "forbidden",
                     f"validly signed role=admin token: {method} {path}")
    me = user.data("GET", f"{API}/users/me")
    expect(me["role"] == "user", f"the account's role became {me['role']}")
    return "role claims ignored"


@check("deleted-user-tokens")
def deleted_user_tokens(ctx):
    """After DELETE /users/me the account's access token, refresh token and personal access
    token are dead, also once the address is registered again."""
    user = ctx.register("deleted")
    pat = user.data("POST", f"{API}/users/me/tokens",
                    json={"name": "doomed", "scopes": ["read", "write"]})["token_secret"]
    expect_status(user.delete(f"{API}/users/me", json={"password": user.password}), 200,
                  "DELETE /users/me")
    expect_error(user.get(f"{API}/users/me"), 401, "invalid_token", "access token of a deleted user")
    expect_error(user.post(f"{API}/wallets", json={"name": "x", "type": "cash"}), 401,
                 "invalid_token", "write with a deleted user's access token")
    expect_error(ctx.refresh(user.refresh), 401, "invalid_refresh_token",
                 "refresh token of a deleted user")
    expect_error(user.get(f"{API}/users/me", token=pat), 401, "invalid_token",
                 "personal access token of a deleted user")
    again = ctx.register(email=user.email)
    expect(again.id != user.id, "the new account reused the deleted account's id")
    expect_error(user.get(f"{API}/users/me"), 401, "invalid_token",
                 "old access token after the address was registered again")
    expect_error(ctx.refresh(user.refresh), 401, "invalid_refresh_token",
                 "old refresh token after the address was registered again")
    return "access, refresh and personal tokens dead"


# === refresh tokens =========================================================================


@check("refresh-parallel")
def refresh_parallel(ctx):
    """20 parallel refreshes of one refresh token: exactly one 200; the others are reuse (401),
    which ends the family, so the winner's new tokens die too."""
    user = ctx.register("parallel")
    answers = parallel(ctx.api, [("POST", f"{API}/auth/refresh",
                                  {"json": {"refresh_token": user.refresh}})] * 20)
    winners = [a for a in answers if a.status == 200]
    expect(len(winners) == 1, f"{len(winners)} of 20 parallel refreshes answered 200: "
                              f"{sorted(a.status for a in answers)}")
    losers = [a for a in answers if a.status != 200]
    bad = [a.brief() for a in losers
           if a.status != 401 or a.code not in ("refresh_token_reused", "invalid_refresh_token")]
    expect(not bad, f"losers not 401 refresh_token_reused: {bad[:3]}")
    won = winners[0].data
    expect_error(ctx.refresh(won["refresh_token"]), 401,
                 ("invalid_refresh_token", "refresh_token_reused"),
                 "the winner's refresh token after the reuse")
    expect_error(ctx.api.request("GET", f"{API}/users/me", token=won["access_token"]), 401,
                 "invalid_token", "the winner's access token after the reuse")
    return "1 of 20 won; family revoked"


@check("refresh-reuse-race")
def refresh_reuse_race(ctx):
    """Finding 1: t1 -> t2, then t1 (reuse) and t2 at once. t1 is 401 refresh_token_reused;
    whatever t2 got (t3) and its access token must be dead afterwards. 30 trials."""
    user = ctx.register("race")
    trials, rotated, leaks = 30, 0, []
    for trial in range(trials):
        first = expect_status(ctx.login(user.email, user.password), 200, "login").data
        second = expect_status(ctx.refresh(first["refresh_token"]), 200, "refresh t1").data
        reuse, rotation = parallel(ctx.api, [
            ("POST", f"{API}/auth/refresh", {"json": {"refresh_token": first["refresh_token"]}}),
            ("POST", f"{API}/auth/refresh", {"json": {"refresh_token": second["refresh_token"]}}),
        ])
        expect_error(reuse, 401, "refresh_token_reused", f"trial {trial}: reused t1")
        expect(rotation.status in (200, 401), f"trial {trial}: t2 answered {rotation.brief()}")
        answer = ctx.api.request("GET", f"{API}/users/me", token=second["access_token"])
        if answer.status != 401:
            leaks.append(f"trial {trial}: t2's access token still works ({answer.status})")
        if rotation.status == 200:
            rotated += 1
            third = rotation.data
            answer = ctx.api.request("GET", f"{API}/users/me", token=third["access_token"])
            if answer.status != 401:
                leaks.append(f"trial {trial}: t3's access token works ({answer.status})")
            answer = ctx.refresh(third["refresh_token"])
            if answer.status != 401:
                leaks.append(f"trial {trial}: t3 refreshes ({answer.status})")
    expect(not leaks, f"{len(leaks)} leaks in {trials} trials: {leaks[:4]}")
    return f"{trials} trials, t2 won the race {rotated} times, nothing survived"


# === lockout ================================================================================


@check("lockout")
def lockout(ctx):
    """After LOGIN_LOCKOUT_THRESHOLD wrong passwords the address is locked (429 account_locked,
    with Retry-After), also for the right password; wrong guesses spread over case variants,
    Unicode whitespace and X-Forwarded-For count toward one lock, and none of those variants
    gets in while it holds. A parallel burst reaches the password check at most threshold
    times."""
    n = ctx.lockout_threshold
    victim = ctx.register("lockvictim")
    email = victim.email
    variants = [
        ("as registered", email, {}),
        ("upper case", email.upper(), {}),
        ("NBSP and em space", f"\u00a0{email}\u2003", {}),
        ("ideographic space, title case", f"\u3000{email.title()}\u3000", {}),
        ("X-Forwarded-For", email, {"X-Forwarded-For": "203.0.113.7"}),
        ("X-Real-IP and Forwarded", email.swapcase(),
         {"X-Real-IP": "198.51.100.9", "Forwarded": "for=198.51.100.9"}),
        ("tab and newline", f"\t{email}\n", {}),
    ]
    for attempt in range(1, n + 1):
        what, address, headers = variants[(attempt - 1) % len(variants)]
        answer = ctx.login(address, "Wrong!pass9", headers=headers)
        if attempt < n:
            expect_error(answer, 401, "invalid_credentials", f"wrong password #{attempt} ({what})")
        else:
            expect_error(answer, 429, "account_locked", f"wrong password #{attempt} ({what})")
    for what, address, headers in variants + [
            ("X-Forwarded-For list", email, {"X-Forwarded-For": "10.1.2.3, 127.0.0.1"})]:
        answer = ctx.login(address, victim.password, headers=headers)
        expect_error(answer, 429, "account_locked", f"right password while locked ({what})")
        expect("retry-after" in answer.headers, f"no Retry-After on the lock answer ({what})")
    form = ctx.api.request(
        "POST", f"{API}/auth/login",
        body=urllib.parse.urlencode({"email": email.upper(), "password": victim.password}),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect_error(form, 429, "account_locked", "right password as a form while locked")
    # Look-alikes that are other addresses must not log in either.
    for what, address in [("zero-width space", f"\u200b{email}"),
                          ("fullwidth @", email.replace("@", "\uff20"))]:
        answer = ctx.login(address, victim.password)
        expect(answer.status in (401, 422, 429),
               f"right password with a {what} in the address: {answer.brief()}")

    burst_victim = ctx.register("lockburst")
    answers = parallel(ctx.api, [("POST", f"{API}/auth/login",
                                  {"json": {"email": burst_victim.email,
                                            "password": "Wrong!pass9"}})] * 20)
    checked = sum(1 for a in answers if a.status == 401)
    others = [a.brief() for a in answers if a.status not in (401, 429)]
    expect(not others, f"burst answers other than 401/429: {others[:3]}")
    expect(checked <= n, f"{checked} of 20 parallel guesses reached the password check (limit {n})")
    expect_error(ctx.login(burst_victim.email, burst_victim.password), 429, "account_locked",
                 "right password after a parallel burst")
    return f"locked after {n}; {len(variants) + 2} variants refused; burst: {checked} checked"


# === mass assignment ========================================================================


@check("mass-assignment")
def mass_assignment(ctx):
    """register and PATCH /users/me with role, status, email_verified, id and the like: refused
    (422) or ignored; the account stays a plain, unverified user."""
    fields = {
        "role": "admin",
        "status": "active",
        "email_verified": True,
        "email_verified_at": "2020-01-01T00:00:00Z",
        "id": str(uuid.uuid4()),
        "tokens_valid_after": "2000-01-01T00:00:00Z",
        "password_hash": "$2b$04$" + "a" * 53,
    }
    for field, value in fields.items():
        email = unique_email("massreg")
        answer = ctx.api.request("POST", f"{API}/auth/register",
                                 json={"email": email, "password": PASSWORD, "name": "m",
                                       field: value})
        if answer.status == 201:
            user = answer.data["user"]
            expect(user["role"] == "user" and not user["email_verified"]
                   and user["id"] != fields["id"], f"register with {field}: {user}")
        else:
            expect_error(answer, 422, "validation_failed", f"register with {field}")
            expect_error(ctx.login(email, PASSWORD), 401, "invalid_credentials",
                         f"login after the refused register with {field}")
    user = ctx.register("masspatch")
    before = user.data("GET", f"{API}/users/me")
    patches = [{k: v} for k, v in fields.items()] + [
        {"email": unique_email("takeover")},
        {"status": "disabled"},
        {"name": "ok", "role": "admin"},
        {"settings": {"role": "admin"}},
        {"settings": {"theme": "dark", "email_verified": True}},
    ]
    for body in patches:
        answer = user.patch(f"{API}/users/me", json=body)
        if answer.status != 200:
            expect_error(answer, 422, "validation_failed", f"PATCH /users/me {body}")
    after = user.data("GET", f"{API}/users/me")
    for key in ("id", "email", "role", "status", "email_verified", "created_at"):
        expect(after[key] == before[key], f"{key} changed: {before[key]!r} -> {after[key]!r}")
    expect_error(user.get(f"{API}/admin/stats"), 403, "forbidden", "admin route afterwards")
    return f"{len(fields)} register and {len(patches)} profile attempts held"


# === cross-user ids =========================================================================


def create_world(user, base):
    """One of every resource the API lets `user` create under `base` (`/api/v1` or a ledger's
    `/api/v1/ledgers/{id}`). Returns {resource: id}."""
    ids = {}
    ids["wallet"] = user.data("POST", f"{base}/wallets",
                              json={"name": f"Secret wallet {RUN}", "type": "bank",
                                    "currency": "USD", "opening_balance": 1000})["id"]
    ids["category"] = user.data("POST", f"{base}/categories",
                                json={"name": f"Secret {RUN}", "kind": "expense"})["id"]
    ids["description"] = user.data("POST", f"{base}/categories/{ids['category']}/descriptions",
                                   json={"text": "secret espresso"})["id"]
    ids["transaction"] = user.data("POST", f"{base}/transactions", json={
        "type": "expense", "amount": 12.5, "wallet_id": ids["wallet"],
        "category_id": ids["category"], "description": "Secret purchase", "date": today(-1)})["id"]
    ids["budget"] = user.data("POST", f"{base}/budgets", json={
        "name": "Secret budget", "amount": 300, "category_ids": [ids["category"]],
        "period": "monthly", "currency": "USD"})["id"]
    ids["bill"] = user.data("POST", f"{base}/bills", json={
        "name": "Secret bill", "amount": 40, "category_id": ids["category"],
        "wallet_id": ids["wallet"], "frequency": "monthly", "next_due_date": today(20)})["id"]
    ids["recurring"] = user.data("POST", f"{base}/recurring", json={
        "type": "expense", "amount": 9, "wallet_id": ids["wallet"],
        "category_id": ids["category"], "frequency": "monthly", "next_date": today(25),
        "description": "Secret subscription"})["id"]
    ids["webhook"] = user.data("POST", f"{base}/webhooks", json={
        "url": "https://93.184.215.14/finai-attack", "event_types": ["budget_alert"],
        "description": "secret hook"})["id"]
    ids["import"] = user.data(
        "POST", f"{base}/imports?wallet_id={ids['wallet']}",
        body="!Type:Bank\nD03/02/2026\nT-5.00\nPSecret shop\n^\n",
        headers={"Content-Type": "application/qif"})["id"]
    ids["rule"] = user.data("POST", f"{base}/rules", json={
        "name": "Secret rule", "payee_contains": "secret", "category_id": ids["category"]})["id"]
    ids["attachment"] = user.data(
        "POST", f"{base}/transactions/{ids['transaction']}/attachments", body=blank_png(),
        headers={"Content-Type": "image/png"})["id"]
    ids["receipt"] = user.data("POST", f"{base}/receipts", body=blank_png(),
                               headers={"Content-Type": "image/png"})["id"]
    ids["goal"] = user.data("POST", f"{base}/goals", json={
        "name": "Secret goal", "target_amount": 5000, "currency": "USD"})["id"]
    ids["scenario"] = user.data("POST", f"{base}/scenarios", json={
        "name": "Secret plan", "scenario": {"months": 2, "changes": [
            {"kind": "expense", "amount": 10, "wallet_id": ids["wallet"]}]}})["id"]
    ids["answer"] = user.data("POST", f"{base}/assistant/ask", json={
        "question": "How much did I spend this month?"})["answer_id"]
    return ids


def blank_png(width=40, height=40):
    """A white greyscale PNG, made with the standard library."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\0" + b"\xff" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def admin_paths(template):
    return template.startswith(f"{API}/admin/") or template.startswith(f"{API}/users/{{")


# The literal segment before an `{id}` names the resource it stands for.
RESOURCE_OF_SEGMENT = {
    "wallets": "wallet", "categories": "category", "transactions": "transaction",
    "expenses": "transaction", "budgets": "budget", "bills": "bill", "recurring": "recurring",
    "webhooks": "webhook", "notifications": "notification", "sessions": "session",
    "tokens": "token", "users": "user", "members": "member", "invitations": "invitation",
    "descriptions": "description", "imports": "import", "rules": "rule",
    "attachments": "attachment", "receipts": "receipt", "goals": "goal",
    "scenarios": "scenario", "answers": "answer",
}


def probe_body(method, template, ids, intruder):
    """A valid body for B's request, so that only ownership can refuse it. None: no body."""
    parts = [p for p in template.split("/") if p]
    ends_with_param = parts[-1].startswith("{")
    noun = parts[-2] if ends_with_param else parts[-1]
    if method in ("GET", "DELETE"):
        return None
    if method == "PATCH":
        return {"wallets": {"name": "pwned"}, "categories": {"name": "pwned"},
                "transactions": {"description": "pwned"}, "expenses": {"description": "pwned"},
                "budgets": {"name": "pwned"}, "bills": {"name": "pwned"},
                "recurring": {"description": "pwned"}, "webhooks": {"description": "pwned"},
                "ledgers": {"name": "pwned"}, "members": {"role": "owner"},
                "rules": {"name": "pwned"}, "receipts": {"merchant": "pwned"},
                "goals": {"name": "pwned"},
                "users": {"role": "admin"}}.get(noun, {})
    wallet, category = ids.get("wallet"), ids.get("category")
    creates = {
        "wallets": {"name": "pwned", "type": "cash"},
        "categories": {"name": f"pwned {uuid.uuid4().hex[:6]}", "kind": "expense"},
        "descriptions": {"text": "pwned"},
        "transactions": {"type": "expense", "amount": 1, "wallet_id": wallet,
                         "category_id": category, "description": "pwned"},
        "expenses": {"amount": 1, "wallet_id": wallet, "category_id": category,
                     "description": "pwned"},
        "budgets": {"name": "pwned", "amount": 1, "category_ids": [category],
                    "period": "monthly"},
        "bills": {"name": "pwned", "amount": 1, "category_id": category, "wallet_id": wallet,
                  "frequency": "monthly", "next_due_date": today(30)},
        "recurring": {"type": "expense", "amount": 1, "wallet_id": wallet,
                      "frequency": "monthly", "next_date": today(30)},
        "webhooks": {"url": "https://93.184.215.14/pwned"},
        "rules": {"name": "pwned", "payee_contains": "x", "category_id": category},
        "transaction": {"wallet_id": wallet},
        "members": {"email": intruder.email, "role": "owner"},
        "categorize": {"description": "coffee"},
        "goals": {"name": "pwned", "target_amount": 1, "wallet_id": wallet},
        "contributions": {"amount": 1},
        "scenarios": {"name": "pwned", "scenario": {"months": 1, "changes": [
            {"kind": "expense", "amount": 1, "wallet_id": wallet}]}},
        "simulate": {"months": 1, "changes": [{"kind": "expense", "amount": 1, "wallet_id": wallet}]},
        "feedback": {"rating": "helpful"},
        "ask": {"question": "How much did I spend this month?"},
        "announcements": {"title": "pwned", "body": "pwned"},
    }
    return creates.get(noun, {})


def probe(ctx, intruder, method, path, template, ids):
    headers, body, kwargs = {}, None, {}
    if template.endswith("/import"):
        body = f"date,amount,description\n{today()},-1,pwned\n"
        headers["Content-Type"] = "text/csv"
        path += f"?wallet_id={ids.get('wallet', uuid.uuid4())}"
    elif template.endswith("/ws"):
        headers.update({"Connection": "Upgrade", "Upgrade": "websocket",
                        "Sec-WebSocket-Version": "13",
                        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()})
    elif template.endswith("/stream"):
        headers["Accept"] = "text/event-stream"
    else:
        json_body = probe_body(method, template, ids, intruder)
        if json_body is not None:
            kwargs["json"] = json_body
    try:
        return intruder.request(method, path, body=body, headers=headers, timeout=10, **kwargs)
    except (OSError, http.client.HTTPException) as error:
        return Response(0, {}, f"no answer: {error!r}".encode(), 0)


def fill(template, ledger, ids):
    """The template with its parameters filled in, or None if one has no id in `ids`."""
    out = []
    parts = template.split("/")
    for index, part in enumerate(parts):
        if not part.startswith("{"):
            out.append(part)
            continue
        previous = parts[index - 1]
        if part == "{ledger_id}" or previous == "ledgers":
            value = ledger
        else:
            value = ids.get(RESOURCE_OF_SEGMENT.get(previous, "?"))
        if value is None:
            return None
        out.append(str(value))
    return "/".join(out)


SNAPSHOT_PATHS = [
    "/wallets/{wallet}", "/categories/{category}", "/categories/{category}/descriptions",
    "/transactions/{transaction}", "/budgets/{budget}", "/bills/{bill}",
    "/bills/{bill}/payments", "/recurring/{recurring}", "/webhooks/{webhook}",
    "/webhooks/{webhook}/deliveries", "/wallets", "/categories", "/transactions", "/budgets",
    "/bills", "/recurring", "/webhooks", "/notifications", "/goals/{goal}", "/goals/{goal}/contributions",
    "/scenarios", "/assistant/answers",
]


# What the webhook dispatcher itself changes while it retries A's own deliveries in the
# background (to an address that cannot be reached here): not A's data, and left out of the
# comparison. A delivery B could cause would still show in the deliveries list, which is compared.
DELIVERY_STATE = ("failing_since", "updated_at")


def without_delivery_state(value):
    if isinstance(value, dict) and "event_types" in value:
        return {k: v for k, v in value.items() if k not in DELIVERY_STATE}
    if isinstance(value, list):
        return [without_delivery_state(v) for v in value]
    return value


def snapshot(owner, personal, shared, ledger):
    state = {}
    for base, ids in [(API, personal), (f"{API}/ledgers/{ledger}", shared)]:
        for path in SNAPSHOT_PATHS:
            full = base + path.format(**ids)
            state[full] = without_delivery_state(owner.data("GET", full))
    for path in ["/users/me", "/users/me/tokens", "/users/me/sessions", "/ledgers",
                 f"/ledgers/{ledger}", f"/ledgers/{ledger}/members",
                 f"/ledgers/{ledger}/invitations"]:
        state[API + path] = owner.data("GET", API + path)
    return state


@check("cross-user-ids")
def cross_user_ids(ctx):
    """A makes one of every resource, in its personal ledger and in a shared one; B, with its
    own token, tries every spec path that takes an id (and every route of A's ledgers) with
    A's ids: 404 (403 on admin routes), and A's data is unchanged afterwards. B also names A's
    wallets and categories in bodies of its own creates: refused."""
    a, b = ctx.register("owner"), ctx.register("intruder")
    personal = create_world(a, API)
    ledger = a.data("POST", f"{API}/ledgers",
                    json={"name": f"Secret business {RUN}", "kind": "business",
                          "currency": "USD"})["id"]
    shared = create_world(a, f"{API}/ledgers/{ledger}")
    personal["token"] = a.data("POST", f"{API}/users/me/tokens",
                               json={"name": "secret", "scopes": ["read"]})["id"]
    personal["session"] = a.data("GET", f"{API}/users/me/sessions")[0]["id"]
    personal["user"] = personal["member"] = shared["member"] = a.id
    a.data("POST", f"{API}/ledgers/{ledger}/members",
           json={"email": unique_email("invitee"), "role": "editor"})
    shared["invitation"] = a.data("GET", f"{API}/ledgers/{ledger}/invitations")[0]["id"]
    ctx.admin().data("POST", f"{API}/admin/announcements",
                     json={"title": f"Notice {RUN}", "body": "for everyone"})
    notifications = a.data("GET", f"{API}/notifications")
    expect(notifications, "A got no notification from the announcement")
    personal["notification"] = notifications[0]["id"]
    shared_notes = a.data("GET", f"{API}/ledgers/{ledger}/notifications")
    shared["notification"] = shared_notes[0]["id"] if shared_notes else personal["notification"]

    before = snapshot(a, personal, shared, ledger)
    spec = ctx.spec()
    probes, controls, wrong, unfilled = 0, 0, [], []
    methods = ("get", "post", "put", "patch", "delete")
    for template, operations in spec["paths"].items():
        if "{" not in template:
            continue
        scoped = template.startswith(f"{API}/ledgers/{{")
        other_params = template.count("{") > (1 if scoped else 0)
        # (ledger, A's ids, whether A itself may GET the path: the control)
        if scoped:
            choices = [(ledger, shared, True), (a.id, personal, True)]
            if other_params:
                choices += [(b.id, personal, False), (b.id, shared, False)]
        else:
            choices = [(None, personal, True), (None, shared, False)]
        filled = [(fill(template, led, ids), ids, own) for led, ids, own in choices]
        filled = [(path, ids, own) for path, ids, own in filled if path]
        if not filled:
            unfilled.append(template)
            continue
        admin_only = admin_paths(template)
        expected = (403, "forbidden") if admin_only else (404, "not_found")
        streams = template.endswith("/stream") or template.endswith("/ws")
        for method in (m.upper() for m in operations if m in methods):
            for path, ids, own in filled:
                probes += 1
                answer = probe(ctx, b, method, path, template, ids)
                if (answer.status, answer.code) != expected:
                    wrong.append(f"{method} {path}: {answer.brief()[:120]}")
                elif b"No such route" in answer.body:
                    wrong.append(f"{method} {path}: not routed, so nothing was tried")
                elif method == "GET" and own and not admin_only and not streams:
                    controls += 1
                    mine = a.get(path)
                    # Routed and found for its owner (a personal ledger's business report is
                    # 403 business_ledger_required, which is not about who asks).
                    if mine.status == 404 or mine.status == 401 or mine.status >= 500:
                        wrong.append(f"control: A's own GET {path}: {mine.brief()[:100]}")
    expect(not unfilled, f"no id of A's for {unfilled} (add the resource to create_world)")
    expect(not wrong, f"{len(wrong)} of {probes} cross-user requests not refused: {wrong[:5]}")

    # A's ids in the bodies of B's own requests.
    own_wallet = b.data("POST", f"{API}/wallets",
                        json={"name": "B wallet", "type": "cash", "currency": "USD"})["id"]
    own_category = expense_category(b)["id"]
    own_tx = b.data("POST", f"{API}/transactions",
                    json={"type": "expense", "amount": 1, "wallet_id": own_wallet,
                          "category_id": own_category})["id"]
    body_refs = [
        ("POST", f"{API}/transactions", {"type": "expense", "amount": 5,
                                         "wallet_id": personal["wallet"],
                                         "category_id": own_category}),
        ("POST", f"{API}/transactions", {"type": "expense", "amount": 5, "wallet_id": own_wallet,
                                         "category_id": personal["category"]}),
        ("POST", f"{API}/transactions", {"type": "transfer", "amount": 5,
                                         "wallet_id": own_wallet,
                                         "to_wallet_id": personal["wallet"]}),
        ("PATCH", f"{API}/transactions/{own_tx}", {"wallet_id": personal["wallet"]}),
        ("POST", f"{API}/budgets", {"name": "x", "amount": 1, "period": "monthly",
                                    "category_ids": [personal["category"]]}),
        ("POST", f"{API}/bills", {"name": "x", "amount": 1, "category_id": personal["category"],
                                  "wallet_id": own_wallet, "frequency": "monthly",
                                  "next_due_date": today(9)}),
        ("POST", f"{API}/recurring", {"type": "expense", "amount": 1, "frequency": "monthly",
                                      "wallet_id": shared["wallet"],
                                      "category_id": own_category}),
        ("POST", f"{API}/categories", {"name": "child", "parent_id": personal["category"]}),
    ]
    for method, path, body in body_refs:
        expect_error(b.request(method, path, json=body), 404, "not_found",
                     f"B's {method} {path} naming A's ids")
    answer = b.post(f"{API}/transactions/import?wallet_id={personal['wallet']}",
                    body=f"date,amount,description\n{today()},-3,pwned\n",
                    headers={"Content-Type": "text/csv"})
    expect_error(answer, 404, "not_found", "B's import into A's wallet")

    after = snapshot(a, personal, shared, ledger)
    changed = [path for path in before if before[path] != after[path]]

    def what(path):
        old, new = before[path], after[path]
        if isinstance(old, dict) and isinstance(new, dict):
            return {k: (old.get(k), new.get(k)) for k in old.keys() | new.keys()
                    if old.get(k) != new.get(k)}
        return "the list changed"
    expect(not changed, f"A's data changed: {[(p, what(p)) for p in changed[:5]]}")
    return (f"{probes} cross-user requests ({controls} GETs that A itself reads) and "
            f"{len(body_refs) + 1} body references refused")


# === idempotency keys =======================================================================


@check("idempotency-cross-user")
def idempotency_cross_user(ctx):
    """The same Idempotency-Key sent by B never replays A's answer (nor conflicts with it)."""
    a, b = ctx.register("idem-a"), ctx.register("idem-b")
    key, key2 = f"shared-key-{RUN}", f"second-key-{RUN}"
    body = {"name": "Idempotent wallet", "type": "cash", "currency": "USD"}
    first = expect_status(a.post(f"{API}/wallets", json=body, headers={"Idempotency-Key": key}),
                          201, "A's first create")
    again = a.post(f"{API}/wallets", json=body, headers={"Idempotency-Key": key})
    expect(again.headers.get("idempotent-replayed") == "true"
           and again.data["id"] == first.data["id"],
           f"control: A's own retry is not a replay ({again.brief()}); the check would be void")
    theirs = expect_status(b.post(f"{API}/wallets", json=body, headers={"Idempotency-Key": key}),
                           201, "B with A's key and body")
    expect("idempotent-replayed" not in theirs.headers, "B got a replayed answer")
    expect(theirs.data["id"] != first.data["id"], "B got A's wallet id")
    expect_error(b.get(f"{API}/wallets/{first.data['id']}"), 404, "not_found",
                 "B reading A's wallet")
    a.data("POST", f"{API}/categories", json={"name": "Idem", "kind": "expense"},
           headers={"Idempotency-Key": key2})
    other = b.post(f"{API}/wallets", json={"name": "Other", "type": "cash"},
                   headers={"Idempotency-Key": key2})
    expect_status(other, 201, "B with A's key on another request (no idempotency_key_reused)")
    expect("idempotent-replayed" not in other.headers, "B got a replay of A's category")
    anonymous = ctx.api.request("POST", f"{API}/wallets", json=body,
                                headers={"Idempotency-Key": key})
    expect_error(anonymous, 401, "missing_token", "the key without a token")
    forged = ctx.api.request("POST", f"{API}/wallets", json=body, token="not.a.token",
                             headers={"Idempotency-Key": key})
    expect_error(forged, 401, "invalid_token", "the key with a forged token")
    wallets = [w["id"] for w in a.data("GET", f"{API}/wallets")]
    expect(theirs.data["id"] not in wallets and other.data["id"] not in wallets,
           "B's wallets ended up in A's list")
    return "keys are per user"


# === huge bodies ============================================================================


def send_big(api, path, size, headers, chunked=False, timeout=15):
    """POSTs `size` bytes (as fast as the socket takes them), stopping when the server answers.
    Returns (status, body bytes, seconds from the first byte to the answer)."""
    sock = socket.create_connection((api.host, api.port), timeout=timeout)
    try:
        head = [f"POST {path} HTTP/1.1", f"Host: {api.host}:{api.port}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        start = time.perf_counter()
        block = b"7" * 65536
        frame = f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block
        pending, sent = b"", 0
        sock.setblocking(False)
        while sent < size or pending:
            readable, writable, _ = select.select([sock], [sock], [], timeout)
            if readable:
                break
            if not writable:
                raise Failure(f"{path}: the server neither read nor answered for {timeout} s")
            if not pending:
                pending = frame
                sent += len(block)
            try:
                pending = pending[sock.send(pending):]
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.setblocking(True)
        sock.settimeout(timeout)
        raw = b""
        try:
            while b"\r\n\r\n" not in raw:
                piece = sock.recv(65536)
                if not piece:
                    break
                raw += piece
            elapsed = time.perf_counter() - start
            head_part, _, rest = raw.partition(b"\r\n\r\n")
            length = 0
            for line in head_part.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(rest) < length:
                piece = sock.recv(65536)
                if not piece:
                    break
                rest += piece
        except ConnectionResetError:
            raise Failure(f"{path}: connection reset without an answer after "
                          f"{sent / 1e6:.1f} MB") from None
        expect(raw.startswith(b"HTTP/1.1 "), f"{path}: no HTTP answer ({raw[:80]!r})")
        return int(raw.split()[1]), rest, elapsed, sent
    finally:
        sock.close()


@check("body-50mb")
def body_50mb(ctx):
    """50 MB bodies, declared or chunked, anonymous or with a token and an Idempotency-Key, on
    JSON routes and the CSV import: 413 payload_too_large in well under a second."""
    user = ctx.register("bigbody")
    size = 50 * 1024 * 1024
    auth = {"Authorization": f"Bearer {user.access}"}
    cases = [
        ("register, Content-Length", f"{API}/auth/register",
         {"Content-Type": "application/json"}, False),
        ("login, chunked", f"{API}/auth/login", {"Content-Type": "application/json"}, True),
        ("wallets with Idempotency-Key", f"{API}/wallets",
         {**auth, "Content-Type": "application/json", "Idempotency-Key": f"big-{RUN}"}, False),
        ("wallets with Idempotency-Key, chunked", f"{API}/wallets",
         {**auth, "Content-Type": "application/json", "Idempotency-Key": f"big2-{RUN}"}, True),
        ("CSV import", f"{API}/transactions/import", {**auth, "Content-Type": "text/csv"}, False),
        ("CSV import, chunked", f"{API}/transactions/import",
         {**auth, "Content-Type": "text/csv"}, True),
    ]
    slowest = 0.0
    for what, path, headers, chunked in cases:
        status, body, elapsed, _ = send_big(ctx.api, path, size, headers, chunked)
        try:
            code = json.loads(body).get("code")
        except ValueError:
            code = None
        expect(status == 413 and code == "payload_too_large",
               f"{what}: expected 413 payload_too_large, got {status} {body[:200]!r}")
        expect(elapsed < 1.0, f"{what}: refused after {elapsed:.2f} s")
        slowest = max(slowest, elapsed)
    expect_status(ctx.api.request("GET", "/health"), 200, "health afterwards")
    expect_status(user.get(f"{API}/users/me"), 200, "a normal request afterwards")
    return f"{len(cases)} bodies refused, slowest {slowest * 1000:.0f} ms"


@check("csv-200k-lines")
def csv_200k_lines(ctx):
    """A 200,000-line CSV import is answered (a 4xx, or a report accounting for every line) and
    the server keeps serving others meanwhile and afterwards. Every line is parsed and resolved;
    one in ATTACK_CSV_VALID_EVERY (default 20) names a real category and is stored, the others
    an unknown one and are reported (ATTACK_CSV_VALID_EVERY=1 stores all 200,000: about a
    minute on a release build, too long for CI's debug one)."""
    every = int(os.environ.get("ATTACK_CSV_VALID_EVERY", "20"))
    user = ctx.register("bigcsv")
    other = ctx.register("bystander")
    wallet = user.data("POST", f"{API}/wallets",
                       json={"name": "Import", "type": "bank", "currency": "USD"})["id"]
    category = expense_category(user)["name"]
    lines = 200_000
    rows = ["date,amount,description,category"]
    start_day = datetime.date(2024, 1, 1)
    for i in range(lines):
        day = start_day + datetime.timedelta(days=i % 700)
        name = category if i % every == 0 else f"Nope {i % 7}"
        rows.append(f"{day.isoformat()},-{1 + i % 97}.{i % 100:02d},Row {i},{name}")
    body = ("\n".join(rows) + "\n").encode()
    valid = len(range(0, lines, every))
    result = {}

    def run_import():
        result["answer"] = user.post(f"{API}/transactions/import?wallet_id={wallet}", body=body,
                                     headers={"Content-Type": "text/csv"}, timeout=300)

    worker = threading.Thread(target=run_import)
    started = time.perf_counter()
    worker.start()
    time.sleep(0.2)
    slowest_other = 0.0
    while worker.is_alive():
        answer = other.get(f"{API}/users/me", timeout=30)
        expect_status(answer, 200, "another user's request during the import")
        slowest_other = max(slowest_other, answer.elapsed)
        worker.join(0.3)
    answer = result["answer"]
    took = time.perf_counter() - started
    if answer.status == 200:
        report = answer.data
        expect(report["created"] == valid and len(report["failed"]) == lines - valid,
               f"expected {valid} created and {lines - valid} failed, got {report['created']} "
               f"created, {report['duplicates']} duplicates, {len(report['failed'])} failed")
        outcome = f"{report['created']} stored, {len(report['failed'])} reported"
    else:
        expect(400 <= answer.status < 500 and answer.code,
               f"200,000 lines: expected 200 or a 4xx with a code, got {answer.brief()}")
        outcome = f"refused {answer.status} {answer.code}"
    expect_status(ctx.api.request("GET", "/health"), 200, "health afterwards")
    expect_status(other.get(f"{API}/users/me"), 200, "another user afterwards")
    expect(slowest_other < 5, f"another user's request took {slowest_other:.1f} s meanwhile")
    return (f"{len(body) / 1e6:.1f} MB: {outcome} in {took:.1f} s; others answered within "
            f"{slowest_other * 1000:.0f} ms meanwhile")


# === finding 2: /auth answers are never idempotent replays ==================================


@check("auth-path-idempotency")
def auth_path_idempotency(ctx):
    """Finding 2: `POST /api/v1/%61uth/login` (and other escapes of /auth) with an
    Idempotency-Key is a fresh login each time, never a stored answer; a spent refresh token
    sent that way triggers reuse detection instead of replaying the stored pair."""
    user = ctx.register("authidem")
    routed = 0
    for path in [f"{API}/%61uth/login", f"{API}/a%75th/login", f"{API}/%61%75%74%68/login",
                 f"{API}/auth/login", f"{API}/auth/%6cogin"]:
        key = f"login-{uuid.uuid4()}"
        answers = [ctx.login(user.email, user.password, path=path,
                             headers={"Idempotency-Key": key}) for _ in range(2)]
        if answers[0].status == 404:
            continue
        routed += 1
        for answer in answers:
            expect_status(answer, 200, f"login via {path}")
            expect("idempotent-replayed" not in answer.headers, f"{path}: a replayed answer")
        expect(answers[0].data["refresh_token"] != answers[1].data["refresh_token"],
               f"{path}: the same refresh token twice (a stored answer)")
    expect(routed >= 2, f"only {routed} escaped login paths routed; the check would be void")

    session = expect_status(ctx.login(user.email, user.password), 200, "login").data
    key = f"refresh-{uuid.uuid4()}"
    path = f"{API}/%61uth/refresh"
    first = expect_status(ctx.refresh(session["refresh_token"], path=path,
                                      headers={"Idempotency-Key": key}), 200,
                          f"first refresh via {path}")
    again = ctx.refresh(session["refresh_token"], path=path, headers={"Idempotency-Key": key})
    expect("idempotent-replayed" not in again.headers, "the spent refresh token got a replay")
    expect_error(again, 401, "refresh_token_reused", "the spent refresh token sent again")
    expect_error(ctx.refresh(first.data["refresh_token"]), 401,
                 ("invalid_refresh_token", "refresh_token_reused"),
                 "the pair issued before the reuse")
    expect_error(ctx.api.request("GET", f"{API}/users/me", token=first.data["access_token"]),
                 401, "invalid_token", "the access token issued before the reuse")
    return f"{routed} escaped paths never replayed; reuse detected"


# === finding 3: disabling ends old access tokens for good ===================================


@check("disable-enable-old-tokens")
def disable_enable_old_tokens(ctx):
    """Finding 3: an admin disables an account, then enables it: the access, refresh and
    personal access tokens issued before the disabling stay dead; a new login works."""
    admin = ctx.admin()
    user = ctx.register("disabled")
    expect_status(user.get(f"{API}/users/me"), 200, "control")
    pat = user.data("POST", f"{API}/users/me/tokens",
                    json={"name": "script", "scopes": ["read"]})["token_secret"]
    expect_status(user.get(f"{API}/users/me", token=pat), 200, "control (personal token)")
    admin.data("PATCH", f"{API}/users/{user.id}", json={"status": "disabled"})
    expect_error(user.get(f"{API}/users/me"), 403, "account_disabled", "while disabled")
    expect_error(ctx.login(user.email, user.password), 403, "account_disabled",
                 "login while disabled")
    admin.data("PATCH", f"{API}/users/{user.id}", json={"status": "active"})
    expect_error(user.get(f"{API}/users/me"), 401, "invalid_token",
                 "the old access token after re-enabling")
    expect_error(user.post(f"{API}/wallets", json={"name": "x", "type": "cash"}), 401,
                 "invalid_token", "a write with the old access token after re-enabling")
    expect_error(ctx.refresh(user.refresh), 401, "invalid_refresh_token",
                 "the old refresh token after re-enabling")
    expect_error(user.get(f"{API}/users/me", token=pat), 401, "invalid_token",
                 "a personal access token made before the disabling, after re-enabling")
    fresh = ctx.login_user(user.email, user.password)
    expect_status(fresh.get(f"{API}/users/me"), 200, "a new login after re-enabling")
    return "old tokens dead after disable/enable"


# === finding 4: password reset does not tell who has an account =============================


@check("forgot-password-timing")
def forgot_password_timing(ctx):
    """Finding 4: POST /auth/password/forgot for a known and an unknown address, 200 each, in a
    random order on one connection: the same answer, and medians close (difference under
    0.25 ms or ratio under 1.3; the issue measured 1.02 vs 0.58 ms). 200 of each; when that
    fails, up to 400 more of each are added (noise averages out, a real difference stays)."""
    known = ctx.register("forgot")
    batch = 200
    conn = ctx.api.connection()
    path = f"{API}/auth/password/forgot"
    times = {"known": [], "unknown": []}
    bodies = {}

    def ask(kind):
        email = known.email if kind == "known" else unique_email("nobody")
        answer = ctx.api.request("POST", path, json={"email": email}, conn=conn)
        expect_status(answer, 200, f"forgot for {email}")
        bodies.setdefault(kind, answer.body)
        return answer.elapsed

    def verdict():
        known_ms = statistics.median(times["known"]) * 1000
        unknown_ms = statistics.median(times["unknown"]) * 1000
        difference = abs(known_ms - unknown_ms)
        ratio = max(known_ms, unknown_ms) / max(min(known_ms, unknown_ms), 1e-6)
        summary = (f"medians known {known_ms:.3f} ms, unknown {unknown_ms:.3f} ms (difference "
                   f"{difference:.3f} ms, ratio {ratio:.2f}) over {len(times['known'])} each")
        return difference < 0.25 or ratio < 1.3, summary

    try:
        for _ in range(20):  # warm up both paths
            ask("known")
            ask("unknown")
        for _ in range(3):
            order = ["known"] * batch + ["unknown"] * batch
            random.shuffle(order)
            for kind in order:
                times[kind].append(ask(kind))
            close, summary = verdict()
            if close:
                break
    finally:
        conn.close()
    expect(bodies["known"] == bodies["unknown"],
           f"different answers: {bodies['known'][:200]!r} vs {bodies['unknown'][:200]!r}")
    expect(close, f"timing tells: {summary}")
    return summary


# === finding 5: security headers ============================================================


@check("security-headers")
def security_headers(ctx):
    """Finding 5: `X-Content-Type-Options: nosniff` on every answer; `Cache-Control: no-store`
    on /api/v1/auth/* (however the path is escaped) and /api/v1/users/me*; frame protection and
    a content security policy on Swagger UI; no HSTS on this plain-HTTP server (its option is
    checked by `hsts`)."""
    user = ctx.register("headers")
    anon = ctx.api
    answers = {
        "GET /health": anon.request("GET", "/health"),
        "GET /ready": anon.request("GET", "/ready"),
        "GET openapi.json": anon.request("GET", f"{API}/openapi.json"),
        "GET /swagger-ui/": anon.request("GET", "/swagger-ui/"),
        "GET /swagger-ui": anon.request("GET", "/swagger-ui"),
        "GET unknown route": anon.request("GET", "/nowhere"),
        "GET /users/me without token": anon.request("GET", f"{API}/users/me"),
        "GET /users/me": user.get(f"{API}/users/me"),
        "GET /wallets": user.get(f"{API}/wallets"),
        "POST malformed JSON": user.request("POST", f"{API}/wallets", body="{",
                                            headers={"Content-Type": "application/json"}),
        "GET export": user.get(f"{API}/transactions/export"),
        "OPTIONS preflight": anon.request("OPTIONS", f"{API}/wallets", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}),
    }
    no_store = {
        "login 200": ctx.login(user.email, user.password),
        "login 401": ctx.login(user.email, "Wrong!pass9"),
        "login via %61uth": ctx.login(user.email, user.password, path=f"{API}/%61uth/login"),
        "register 201": anon.request("POST", f"{API}/auth/register", json={
            "email": unique_email("hdr"), "password": PASSWORD, "name": "h"}),
        "register 422": anon.request("POST", f"{API}/auth/register", json={"email": "x"}),
        "refresh 200": ctx.refresh(user.refresh),
        "refresh 401": ctx.refresh("nope"),
        "forgot": anon.request("POST", f"{API}/auth/password/forgot",
                               json={"email": user.email}),
        "users/me 200": user.get(f"{API}/users/me"),
        "users/me 401": anon.request("GET", f"{API}/users/me"),
        "users/me PATCH": user.patch(f"{API}/users/me", json={"name": "Header"}),
        "users/me/tokens POST": user.post(f"{API}/users/me/tokens",
                                          json={"name": "h", "scopes": ["read"]}),
        "users/me/tokens GET": user.get(f"{API}/users/me/tokens"),
        "users/me/sessions": user.get(f"{API}/users/me/sessions"),
    }
    problems = []
    for what, answer in {**answers, **no_store}.items():
        if answer.headers.get("x-content-type-options", "").lower() != "nosniff":
            problems.append(f"{what}: no nosniff")
        if "strict-transport-security" in answer.headers:
            problems.append(f"{what}: HSTS over plain HTTP")
    for what, answer in no_store.items():
        if "no-store" not in answer.headers.get("cache-control", ""):
            problems.append(f"{what}: Cache-Control {answer.headers.get('cache-control')!r}")
    swagger = answers["GET /swagger-ui/"]
    expect_status(swagger, 200, "Swagger UI")
    for asset in ("/swagger-ui/index.html", "/swagger-ui/swagger-initializer.js"):
        extra = anon.request("GET", asset)
        if extra.status == 200:
            answers[asset] = extra
    for what in [k for k in answers if "swagger" in k]:
        answer = answers[what]
        policy = answer.headers.get("content-security-policy", "")
        framing = answer.headers.get("x-frame-options", "").upper()
        if framing not in ("DENY", "SAMEORIGIN") and "frame-ancestors" not in policy:
            problems.append(f"{what}: no frame protection")
        if not policy:
            problems.append(f"{what}: no Content-Security-Policy")
        elif "frame-ancestors 'none'" not in policy and framing != "DENY":
            problems.append(f"{what}: CSP without frame-ancestors 'none': {policy}")
        script_src = [d for d in policy.split(";") if d.strip().startswith("script-src")]
        if any("'unsafe-inline'" in d or "*" in d for d in script_src):
            problems.append(f"{what}: script-src allows inline or any script: {policy}")
    expect(not problems, "; ".join(problems[:8]))
    return f"{len(answers) + len(no_store)} answers checked"


@check("hsts")
def hsts(ctx):
    """Finding 5, the deployment behind TLS: with FINAI_HSTS_SECONDS set every answer carries
    `Strict-Transport-Security: max-age=N; includeSubDomains` (a second server)."""
    server = ctx.extra_server("tls", env={"FINAI_HSTS_SECONDS": "31536000"}).start()
    problems = []
    for method, path in [("GET", "/health"), ("GET", f"{API}/users/me"),
                         ("GET", "/swagger-ui/"), ("POST", f"{API}/auth/login")]:
        answer = server.api.request(method, path, json={} if method == "POST" else None)
        value = answer.headers.get("strict-transport-security", "")
        if "max-age=31536000" not in value or "includesubdomains" not in value.lower():
            problems.append(f"{method} {path}: {value!r}")
    expect(not problems, f"HSTS missing: {problems}")
    return "HSTS sent when configured"


# === finding 6: create-admin and unverified registrations ===================================


@check("create-admin-unverified")
def create_admin_unverified(ctx):
    """Finding 6: `finai create-admin --email X` for an address someone registered but never
    verified is refused (non-zero exit) and changes nothing; `--promote-unverified` promotes it
    (keeping the registrant's password, as documented). A second server, stopped for the
    subcommand (its private PostgreSQL serves one process at a time)."""
    server = ctx.extra_server("tls", env={"FINAI_HSTS_SECONDS": "31536000"}).start()
    email = unique_email("squatter")
    answer = server.api.request("POST", f"{API}/auth/register",
                                json={"email": email, "password": PASSWORD, "name": "Squatter"})
    expect_status(answer, 201, "register the squatter")
    expect(not answer.data["user"]["email_verified"], "registration verified the address")
    server.stop()
    admin_env = {"FINAI_ADMIN_PASSWORD": "Own3r!password"}
    for address in (email, email.upper(), f"  {email} "):
        refused = server.run("create-admin", "--email", address, env=admin_env)
        expect(refused.returncode != 0,
               f"create-admin --email {address!r} succeeded: {refused.stdout} {refused.stderr}")
        expect("verif" in (refused.stdout + refused.stderr).lower(),
               f"create-admin refused without saying why: {refused.stderr.strip()[-300:]}")
    server.start()
    expect_status(server.api.request("GET", f"{API}/admin/stats", token=expect_status(
        server.api.request("POST", f"{API}/auth/login",
                           json={"email": email, "password": PASSWORD}), 200,
        "squatter login").data["access_token"]), 403, "the squatter after the refusals")
    server.stop()
    promoted = server.run("create-admin", "--email", email, "--promote-unverified", env=admin_env)
    expect(promoted.returncode == 0,
           f"--promote-unverified failed ({promoted.returncode}): {promoted.stderr[-300:]}")
    server.start()
    login = expect_status(server.api.request("POST", f"{API}/auth/login",
                                             json={"email": email, "password": PASSWORD}),
                          200, "login after --promote-unverified")
    expect(login.data["user"]["role"] == "admin", f"not promoted: {login.data['user']}")
    return "refused without --promote-unverified, promoted with it"


# === CSV export formulas ====================================================================

FORMULA_LOOKALIKES = [
    "=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20",  # ASCII and fullwidth
    "\ufe66", "\ufe62", "\ufe63", "\ufe6b",  # small forms
    "\u207c", "\u207a", "\u207b", "\u208c", "\u208a", "\u208b", "\u2212",  # super/sub, minus
]


@check("csv-export-formulas")
def csv_export_formulas(ctx):
    """A description, merchant, note or tag starting with `=`, `+`, `-`, `@` or a fullwidth /
    compatibility look-alike (`＝ ＋ － ＠ ﹦ ⁼ −` ...) comes out of the CSV export behind a `'`."""
    user = ctx.register("formula")
    wallet = user.data("POST", f"{API}/wallets",
                       json={"name": "Formulas", "type": "cash", "currency": "USD"})["id"]
    category = expense_category(user)["id"]
    payloads = {}
    for index, sign in enumerate(FORMULA_LOOKALIKES):
        text = f"{sign}HYPERLINK(\"https://evil.example/?{index}\",\"x\")"
        payloads[index] = text
        user.data("POST", f"{API}/transactions", json={
            "type": "expense", "amount": 1 + index, "wallet_id": wallet, "description": text,
            "category_id": category,
            "merchant": f"{sign}cmd|' /C calc'!A0", "notes": f"{sign}1+1",
            "tags": [f"{sign}tag{index}"], "date": today(-1)})
    answer = user.get(f"{API}/transactions/export")
    expect_status(answer, 200, "export")
    rows = list(csv.DictReader(io.StringIO(answer.body.decode("utf-8-sig"))))
    expect(len(rows) == len(FORMULA_LOOKALIKES), f"{len(rows)} rows exported")
    # A spreadsheet runs a cell as a formula when it starts with one of these (the ASCII signs,
    # their look-alikes, a tab or a carriage return); a guarded cell starts with `'`.
    starts = set(FORMULA_LOOKALIKES) | {"\t", "\r"}
    problems = []
    for row in rows:
        for column in ("description", "merchant", "notes", "tags"):
            cell = row[column]
            if cell[:1] in starts:
                problems.append(f"{column} {cell[:12]!r} (U+{ord(cell[0]):04X})")
    expect(not problems, f"{len(problems)} unguarded cells: {problems[:6]}")
    exported = {row["description"] for row in rows}
    expect(exported == {"'" + text for text in payloads.values()},
           f"descriptions not exported as `'` + the stored text: {sorted(exported)[:3]}")
    return f"{len(FORMULA_LOOKALIKES)} signs x 4 text columns neutralised"


# === production secrets =====================================================================


@check("production-weak-jwt-secret")
def production_weak_jwt_secret(ctx):
    """FINAI_ENV=production with a JWT_SECRET of 32 identical characters (or a two-letter
    pattern, or too short) makes `finai serve` exit non-zero with a message naming JWT_SECRET,
    before it serves anything."""
    results = []
    for what, secret in [("32 identical", "a" * 32), ("two letters", "ab" * 16),
                         ("31 random", uuid.uuid4().hex[:31])]:
        directory = tempfile.mkdtemp(prefix="finai-attack-prod.")
        os.chmod(directory, 0o755)
        port = free_port()
        env = ctx.finai_environment(directory, port, {"FINAI_ENV": "production",
                                                      "JWT_SECRET": secret})
        process = subprocess.Popen([ctx.finai_bin, "serve"], env=env, cwd=directory,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=30)
            raise Failure(f"{what}: `finai serve` accepted the secret and kept running")
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        expect(process.returncode != 0, f"{what}: exit status 0")
        expect("JWT_SECRET" in output, f"{what}: the message does not name JWT_SECRET: {output}")
        results.append(what)
    return f"refused: {', '.join(results)}"


# === personal access tokens =================================================================


@check("pat-invalid")
def pat_invalid(ctx):
    """Bearer tokens that are not a live personal access token: unknown prefix, garbage, the
    prefix alone, a real secret altered or under another scheme: 401 invalid_token."""
    user = ctx.register("patbad")
    secret = user.data("POST", f"{API}/users/me/tokens",
                       json={"name": "real", "scopes": ["read"]})["token_secret"]
    expect_status(user.get(f"{API}/users/me", token=secret), 200, "the real token (control)")
    prefix = "finai_pat_"
    expect(secret.startswith(prefix), f"unexpected token format {secret[:14]}...")
    body = secret[len(prefix):]
    bad = {
        "unknown prefix": f"ghp_{body}",
        "prefix changed": f"finai_pet_{body}",
        "prefix upper case": f"FINAI_PAT_{body}",
        "prefix only": prefix,
        "random after the prefix": prefix + uuid.uuid4().hex + uuid.uuid4().hex,
        "one character changed": secret[:-1] + ("A" if secret[-1] != "A" else "B"),
        "extra character": secret + "x",
        "garbage": "$$$%%%",
        "very long": prefix + "x" * 8000,
    }
    for what, token in bad.items():
        answer = user.get(f"{API}/users/me", token=token)
        expect_error(answer, 401, "invalid_token", what)
    expect_error(ctx.api.request("GET", f"{API}/users/me",
                                 headers={"Authorization": f"Token {secret}"}),
                 401, "invalid_token", "the real secret under another scheme")
    return f"{len(bad) + 1} bad tokens refused"


@check("pat-read-scope")
def pat_read_scope(ctx):
    """A `read` personal access token reads but every write is 403 insufficient_scope, with or
    without an Idempotency-Key, and nothing is written."""
    user = ctx.register("patread")
    wallet = user.data("POST", f"{API}/wallets",
                       json={"name": "Mine", "type": "cash", "currency": "USD"})["id"]
    read = user.data("POST", f"{API}/users/me/tokens",
                     json={"name": "reader", "scopes": ["read"]})["token_secret"]
    expect_status(user.get(f"{API}/wallets", token=read), 200, "read with a read token")
    writes = [
        ("POST", f"{API}/wallets", {"name": "x", "type": "cash"}, {}),
        ("POST", f"{API}/wallets", {"name": "x", "type": "cash"}, {"Idempotency-Key": RUN}),
        ("PATCH", f"{API}/wallets/{wallet}", {"name": "renamed"}, {}),
        ("DELETE", f"{API}/wallets/{wallet}", None, {}),
        ("PATCH", f"{API}/users/me", {"name": "renamed"}, {}),
        ("POST", f"{API}/transactions", {"type": "expense", "amount": 1, "wallet_id": wallet}, {}),
        ("POST", f"{API}/ledgers", {"name": "x", "kind": "household"}, {}),
        ("POST", f"{API}/events/ticket", None, {}),
        ("POST", f"{API}/auth/password/change",
         {"current_password": PASSWORD, "new_password": "New!pass123"}, {}),
        ("DELETE", f"{API}/users/me", {"password": PASSWORD}, {}),
    ]
    for method, path, body, headers in writes:
        answer = user.request(method, path, token=read, json=body, headers=headers)
        expect_error(answer, 403, "insufficient_scope", f"{method} {path} with a read token")
    wallets = user.data("GET", f"{API}/wallets")
    expect([w["name"] for w in wallets] == ["Mine"], f"wallets changed: {wallets}")
    expect(user.data("GET", f"{API}/users/me")["name"] == "patread", "the name changed")
    return f"{len(writes)} writes refused"


@check("pat-cap")
def pat_cap(ctx):
    """Creating personal access tokens in a loop, 10,000 times (20 of them at once near the cap),
    stops at 50 with 409 token_limit; nothing beyond is stored, nor from bad requests."""
    user = ctx.register("patcap")
    create = ("POST", f"{API}/users/me/tokens",
              {"token": user.access, "json": {"name": "loop", "scopes": ["read"]}})
    for bad in [{"name": "x", "scopes": ["admin"]}, {"name": "x", "scopes": []},
                {"name": "", "scopes": ["read"]}, {"name": "x", "scopes": ["read"],
                                                   "expires_in_days": 0},
                {"name": "x" * 101, "scopes": ["read"]}]:
        expect_error(user.post(f"{API}/users/me/tokens", json=bad), 422, "validation_failed",
                     f"bad token request {bad}")
    expect(user.data("GET", f"{API}/users/me/tokens") == [], "bad requests stored tokens")
    for index in range(40):
        expect_status(ctx.api.request(create[0], create[1], **create[2]), 201, f"token {index}")
    burst = parallel(ctx.api, [create] * 20)
    made = sum(1 for a in burst if a.status == 201)
    others = [a.brief() for a in burst if a.status != 201 and
              (a.status, a.code) != (409, "token_limit")]
    expect(not others, f"burst answers other than 201 / 409 token_limit: {others[:3]}")
    expect(made == 10, f"{made} of 20 parallel creates succeeded with 40 held (cap 50)")
    # The rest of 10,000 requests in a loop (the issue's count), on one kept-alive connection.
    conn = ctx.api.connection()
    try:
        for index in range(10_000 - 60):
            answer = ctx.api.request(create[0], create[1], conn=conn, **create[2])
            if (answer.status, answer.code) != (409, "token_limit"):
                raise Failure(f"create #{61 + index}: expected 409 token_limit, got "
                              f"{answer.brief()}")
    finally:
        conn.close()
    held = user.data("GET", f"{API}/users/me/tokens")
    expect(len(held) == 50, f"{len(held)} tokens stored")
    return "10,000 creates (20 of them at once near the cap): 50 stored, the rest 409"


@check("pat-token-management")
def pat_token_management(ctx):
    """A personal access token (even `write`) cannot list, create or revoke personal access
    tokens: 403 session_required, and nothing changes."""
    user = ctx.register("pattokens")
    made = user.data("POST", f"{API}/users/me/tokens",
                     json={"name": "writer", "scopes": ["read", "write"]})
    pat, pat_id = made["token_secret"], made["id"]
    for method, path, body in [
        ("GET", f"{API}/users/me/tokens", None),
        ("POST", f"{API}/users/me/tokens", {"name": "minted", "scopes": ["read", "write"]}),
        ("DELETE", f"{API}/users/me/tokens/{pat_id}", None),
    ]:
        expect_error(user.request(method, path, token=pat, json=body), 403, "session_required",
                     f"{method} {path} with a personal access token")
    tokens = user.data("GET", f"{API}/users/me/tokens")
    expect([t["id"] for t in tokens] == [pat_id], f"tokens changed: {tokens}")
    return "token management refused to tokens"


@check("pat-session-management")
def pat_session_management(ctx):
    """A personal access token (even `write`) cannot list or end the account's login sessions:
    403 session_required, and the login session still works afterwards."""
    user = ctx.register("patsessions")
    pat = user.data("POST", f"{API}/users/me/tokens",
                    json={"name": "writer", "scopes": ["read", "write"]})["token_secret"]
    session_id = user.data("GET", f"{API}/users/me/sessions")[0]["id"]
    problems = []
    for method, path in [("GET", f"{API}/users/me/sessions"),
                         ("DELETE", f"{API}/users/me/sessions/{session_id}")]:
        answer = user.request(method, path, token=pat)
        if (answer.status, answer.code) != (403, "session_required"):
            problems.append(f"{method} {path} with a personal access token: "
                            f"{answer.brief()[:110]}")
    refreshed = ctx.refresh(user.refresh)
    if refreshed.status != 200:
        problems.append(f"the login session was ended by the token: {refreshed.brief()[:80]}")
    expect(not problems, "; ".join(problems))
    return "session management refused to tokens"


# === two-factor login (TOTP) ================================================================


def totp(secret_b32, at):
    """RFC 6238 with the standard library: HMAC-SHA1, 30-second steps, six digits."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def steady_step(margin=8):
    """Waits until the current 30-second step has `margin` seconds left."""
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.5)


def enrolled(ctx, tag):
    """A new account with two-factor login on: (user, secret, recovery codes, confirm time)."""
    user = ctx.register(tag)
    secret = user.data("POST", f"{API}/users/me/two-factor",
                       json={"password": user.password})["secret"]
    steady_step()
    at = time.time()
    codes = user.data("POST", f"{API}/users/me/two-factor/confirm",
                      json={"code": totp(secret, at)})["recovery_codes"]
    return user, secret, codes, at


def mfa_challenge(ctx, user):
    answer = expect_status(ctx.login(user.email, user.password), 202,
                           "a right password of an enrolled account")
    expect(answer.data.get("status") == "mfa_required" and "access_token" not in answer.data,
           f"the 202 hands out tokens or says nothing: {answer.brief()}")
    return answer.data["challenge"]


def mfa_verify(ctx, challenge, code):
    return ctx.api.request("POST", f"{API}/auth/mfa/verify",
                           json={"challenge": challenge, "code": code})


@check("mfa-bypass")
def mfa_bypass(ctx):
    """Two-factor login cannot be skipped: a right password gets a challenge and no tokens; the
    challenge is no bearer token; wrong, used, too-old and too-new codes, unknown challenges
    and malformed codes are refused (malformed ones 422 without counting); each recovery code
    works once; a spent challenge cannot be replayed."""
    user, secret, codes, at = enrolled(ctx, "mfa")
    challenge = mfa_challenge(ctx, user)
    expect_error(ctx.api.request("GET", f"{API}/users/me", token=challenge), 401,
                 "invalid_token", "the challenge as a bearer token")
    # The login counted one attempt: three wrong codes stay below the lockout of five.
    for what, code in [("the confirming code again", totp(secret, at)),
                       ("a code two steps ahead", totp(secret, at + 60)),
                       ("a code two steps back", totp(secret, at - 60))]:
        expect_error(mfa_verify(ctx, challenge, code), 401, "invalid_mfa_code", what)
    for bad in ["", "12345", "1234567", "12a456", "\uff11\uff12\uff13\uff14\uff15\uff16",
                "abcde-fghi", "' OR 1=1 --", "x" * 40]:
        answer = mfa_verify(ctx, challenge, bad)
        expect(answer.status == 422, f"malformed code {bad!r}: {answer.brief()}")
    expect_error(mfa_verify(ctx, "not-a-challenge", totp(secret, at + 30)), 401,
                 "mfa_challenge_invalid", "an unknown challenge")
    good = expect_status(mfa_verify(ctx, challenge, codes[0]), 200, "a recovery code")
    expect(good.data.get("access_token"), "no session after the recovery code")
    expect_error(mfa_verify(ctx, challenge, codes[1]), 401, "mfa_challenge_invalid",
                 "the spent challenge replayed")
    again = mfa_challenge(ctx, user)
    expect_error(mfa_verify(ctx, again, codes[0]), 401, "invalid_mfa_code",
                 "a recovery code used twice")
    expect_error(mfa_verify(ctx, again, "000000"), 401, "invalid_mfa_code", "all zeros")
    expect_status(mfa_verify(ctx, again, totp(secret, at + 30)), 200, "the next step's code")
    return "no way past the second step"


@check("mfa-lockout")
def mfa_lockout(ctx):
    """Wrong codes count toward the lockout like wrong passwords, and a right password alone
    does not reset the count: a stolen password buys at most threshold guesses."""
    n = ctx.lockout_threshold
    user, secret, _, at = enrolled(ctx, "mfalock")
    challenge = mfa_challenge(ctx, user)
    answers = [mfa_verify(ctx, challenge, f"{i:06d}") for i in range(n)]
    locked = [a for a in answers if a.status == 429]
    expect(locked and locked[0].code == "account_locked",
           f"{n} wrong codes after a login did not lock: {[a.status for a in answers]}")
    expect_error(mfa_verify(ctx, challenge, totp(secret, at + 30)), 429, "account_locked",
                 "the right code while locked")
    other, _, _, _ = enrolled(ctx, "mfalock2")
    statuses = [ctx.login(other.email, other.password).status for _ in range(n + 1)]
    expect(statuses[-1] == 429, f"password-only logins never lock: {statuses}")
    return f"locked within {n} wrong codes; password-only logins locked too"


@check("mfa-needs-session")
def mfa_needs_session(ctx):
    """A personal access token (even `write`) can neither enrol, confirm, turn off nor renew
    two-factor login: 403 session_required."""
    user, secret, codes, at = enrolled(ctx, "mfapat")
    challenge = mfa_challenge(ctx, user)
    session = expect_status(mfa_verify(ctx, challenge, codes[0]), 200, "login").data
    pat = user.data("POST", f"{API}/users/me/tokens", token=session["access_token"],
                    json={"name": "w", "scopes": ["read", "write"]})["token_secret"]
    for path, body in [("/users/me/two-factor/disable", {"password": user.password,
                                                         "code": codes[1]}),
                       ("/users/me/two-factor/recovery-codes", {"code": codes[1]}),
                       ("/users/me/two-factor", {"password": user.password})]:
        expect_error(user.post(f"{API}{path}", token=pat, json=body), 403, "session_required",
                     f"POST {path} with a personal access token")
    status = user.data("GET", f"{API}/users/me/two-factor", token=session["access_token"])
    expect(status["enabled"] and status["recovery_codes_remaining"] == 9,
           f"the token changed something: {status}")
    return "second factor managed from a session only"


# === rate limits ============================================================================


@check("rate-limits")
def rate_limits(ctx):
    """Every route is limited: two servers on one database share a user's write limit (it does
    not double), a 429 says when to retry and writes nothing, guessing tokens is limited per
    address, and an escaped /auth path counts against the /auth bucket."""
    limits = {"RATE_LIMIT_WRITES_PER_MIN": "5", "RATE_LIMIT_READS_PER_MIN": "1000",
              "RATE_LIMIT_ANONYMOUS_PER_MIN": "4", "AUTH_RATE_LIMIT_PER_MIN": "3",
              # One deployment: both servers sign and accept the same tokens.
              "JWT_SECRET": base64.urlsafe_b64encode(os.urandom(32)).decode()}
    first = ctx.extra_server("limits", env=limits).start()
    second = ctx.extra_server("limits-2", env={**limits, "DATABASE_URL": first.database_url()})
    second.start()
    response = first.api.request("POST", f"{API}/auth/register", json={
        "email": unique_email("limited"), "password": PASSWORD, "name": "limited"})
    token = expect_status(response, 201, "register on the limited server").data["access_token"]
    made = []
    for i in range(10):
        server = (first, second)[i % 2]
        answer = server.api.request("POST", f"{API}/wallets", token=token,
                                    json={"name": f"W{i}", "type": "cash"})
        made.append(answer)
    created = [a for a in made if a.status == 201]
    refused = [a for a in made if a.status == 429]
    expect(len(created) == 5 and len(refused) == 5,
           f"two instances let {len(created)} of 10 writes through (limit 5): "
           f"{[a.status for a in made]}")
    for answer in refused:
        expect(answer.code == "rate_limited" and int(answer.headers.get("retry-after", 0)) >= 1,
               f"a 429 without rate_limited and Retry-After: {answer.brief()}")
        expect(answer.headers.get("ratelimit-remaining") == "0",
               f"a 429 without RateLimit-Remaining: 0: {answer.headers}")
    wallets = first.api.request("GET", f"{API}/wallets?per_page=100", token=token)
    names = {w["name"] for w in expect_status(wallets, 200, "list").data}
    expect(len(names) == 5, f"refused writes stored something: {sorted(names)}")
    guesses = [first.api.request("GET", f"{API}/wallets", token=f"finai_pat_guess{i}")
               for i in range(6)]
    expect([g.status for g in guesses].count(429) >= 2,
           f"token guessing is not limited: {[g.status for g in guesses]}")
    logins = [first.api.request("POST", path, json={"email": "x@example.com",
                                                    "password": "Wrong!pass9"})
              for path in [f"{API}/auth/login", f"{API}/%61uth/login", f"{API}/auth/login",
                           f"{API}/%61uth/login"]]
    expect([a.status for a in logins][-1] == 429,
           f"the /auth limit does not hold across escaped paths: {[a.status for a in logins]}")
    return "5 of 10 writes over two instances; guesses and escaped /auth paths limited"


# === the runner =============================================================================


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this check (repeatable; comma-separated names work too)")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    args = parser.parse_args()
    names = [name for name, _ in CHECKS]
    if args.list:
        for name, function in CHECKS:
            summary = " ".join((function.__doc__ or "").split())
            print(f"{name:28} {summary[:90] + '...' if len(summary) > 90 else summary}")
        return 0
    wanted = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in names]
    if unknown:
        parser.error(f"unknown check(s) {unknown}; the checks: {', '.join(names)}")
    ctx = Context()
    if ctx.api is None:
        parser.error("ATTACK_BASE_URL is unset: run it through scripts/attack.sh")
    selected = [(n, f) for n, f in CHECKS if not wanted or n in wanted]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    failed = []
    started = time.perf_counter()
    print(f"attack: {len(selected)} checks against {ctx.base_url} (run {RUN})", flush=True)
    try:
        for name, function in selected:
            begin = time.perf_counter()
            try:
                detail = function(ctx)
                outcome = f"PASS {name}"
            except Failure as failure:
                detail, outcome = str(failure), f"FAIL {name}"
                failed.append(name)
            except Exception:  # a crash of the check is a failure too, with its trace
                detail, outcome = traceback.format_exc().strip(), f"FAIL {name}"
                failed.append(name)
            took = time.perf_counter() - begin
            print(f"{outcome} ({took:.1f} s): {detail or 'ok'}", flush=True)
    finally:
        ctx.close()
    total = time.perf_counter() - started
    print(f"attack: {len(selected) - len(failed)} passed, {len(failed)} failed "
          f"in {total:.0f} s" + (f" ({', '.join(failed)})" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
