#!/usr/bin/env bash
# THE test command: lint + test suite.
#
#   tools/test.sh [pytest args...]
#
# Sets up the environment (tools/setup-env.sh: virtualenv, editable installs,
# local RabbitMQ on 127.0.0.1:5682), runs `ruff check` on the source trees that
# exist, then `python -m pytest "$@"` from the repository root (default options
# and test paths come from the project's pytest configuration). Exits with
# pytest's status; "no tests collected" (5) is reported as a failure.
# Set SERVICE_HOST_SKIP_LINT=1 to skip ruff.
#
# The RabbitMQ node is left running for the next run; stop it with
#   tools/rabbitmq.sh stop        (or `tools/rabbitmq.sh reset` to wipe its data)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

# shellcheck source=tools/setup-env.sh
source "$REPO_ROOT/tools/setup-env.sh"

if [ -z "${SERVICE_HOST_SKIP_LINT:-}" ]; then
    lint_paths=()
    for p in service_host plugins tests benchmarks; do
        [ -e "$p" ] && lint_paths+=("$p")
    done
    if [ ${#lint_paths[@]} -gt 0 ]; then
        [ -x "$SERVICE_HOST_VENV/bin/ruff" ] || {
            echo "tools/test.sh: error: ruff is not installed in $SERVICE_HOST_VENV;" \
                "add it to the [test] extra in setup.cfg" >&2
            exit 1
        }
        echo "==> ruff check ${lint_paths[*]}" >&2
        "$SERVICE_HOST_VENV/bin/ruff" check "${lint_paths[@]}" || {
            rc=$?
            echo "tools/test.sh: ruff check failed (exit $rc); fix the findings above" \
                "(SERVICE_HOST_SKIP_LINT=1 skips linting)" >&2
            exit "$rc"
        }
    fi
fi

echo "==> python -m pytest $*" >&2
rc=0
"$SERVICE_HOST_VENV/bin/python" -m pytest "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "tools/test.sh: error: pytest collected no tests (exit 5); check the pytest" \
        "configuration (testpaths) and the arguments: $*" >&2
fi
exit "$rc"
