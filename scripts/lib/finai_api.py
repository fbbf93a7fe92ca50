"""The HTTP calls of the Python gates (scripts/*.py): FinAI's API at $FINAI_BASE_URL, with the
standard library only. An HTTP error ends the script with the gate's name, the request and
the answer."""

import json
import os
import sys
import urllib.error
import urllib.request

BASE = os.environ.get("FINAI_BASE_URL", "http://127.0.0.1:8080") + "/api/v1"


def request(gate, method, path, token=None, body=None, raw=None, content_type=None):
    """(status, content type, body bytes) of one call: `body` goes as JSON, `raw` as bytes of
    `content_type` (default application/octet-stream)."""
    call = urllib.request.Request(BASE + path, method=method)
    if token:
        call.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        call.add_header("Content-Type", "application/json")
    if raw is not None:
        data = raw
        call.add_header("Content-Type", content_type or "application/octet-stream")
    try:
        with urllib.request.urlopen(call, data) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        sys.exit(f"{gate}: FAILED: {method} {path}: {error.code} "
                 f"{error.read().decode(errors='replace')}")


def data(gate, method, path, token=None, body=None, raw=None, content_type=None):
    """The `data` of a call's JSON envelope (None for an empty answer)."""
    answer = request(gate, method, path, token, body, raw, content_type)[2]
    return json.loads(answer)["data"] if answer else None
