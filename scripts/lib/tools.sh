# Tools the gates need, shared by .ci/run and scripts/*.sh. Source it; it starts nothing.

tools_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# The Python tools of the gates (schemathesis, openapi-python-client, openapi-spec-validator,
# hadolint) live in one venv, .ci/.venv, installed from the pinned .ci/requirements.txt and
# reinstalled whenever that file changes. Call it as a command, not inside $(...), so that a
# failed install stops the script.
ensure_venv() {
    local venv="$tools_root/.ci/.venv"
    if ! cmp -s "$tools_root/.ci/requirements.txt" "$venv/requirements.installed" 2>/dev/null; then
        echo "installing .ci/requirements.txt into .ci/.venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$tools_root/.ci/requirements.txt"
        cp "$tools_root/.ci/requirements.txt" "$venv/requirements.installed"
    fi
}
venv_bin="$tools_root/.ci/.venv/bin"

# The directory of the PostgreSQL server binaries, found the way the server finds them
# (src/db/embedded.rs): POSTGRES_BIN_DIR, then initdb on PATH, then the newest
# /usr/lib/postgresql/*/bin. Prints nothing when there are none.
postgres_bin_dir() {
    if [[ -n "${POSTGRES_BIN_DIR:-}" ]]; then
        printf '%s\n' "$POSTGRES_BIN_DIR"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
    else
        ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true
    fi
}

# The unprivileged account PostgreSQL runs as when we are root: `postgres`, else `nobody`
# (the server makes the same choice).
postgres_run_as() {
    if id postgres >/dev/null 2>&1; then echo postgres; else echo nobody; fi
}
