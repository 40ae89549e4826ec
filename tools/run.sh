#!/usr/bin/env bash
# THE main-job command: run the service host against the project-local broker.
#
#   tools/run.sh [extra service-host options...]
#
# Sets up the environment (tools/setup-env.sh: virtualenv, editable installs,
# local RabbitMQ on 127.0.0.1:5682) and then runs, from the repository root:
#   service-host --config-file etc/service-host/service-host.conf "$@"
#
# The shipped config uses transport_url = rabbit://guest:guest@127.0.0.1:5682/.
# If you run the broker on another port (SERVICE_HOST_RABBIT_PORT), pass an extra
# config file that overrides transport_url; later --config-file options win:
#   tools/run.sh --config-file my-overrides.conf
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

# shellcheck source=tools/setup-env.sh
source "$REPO_ROOT/tools/setup-env.sh"

if [ "${SERVICE_HOST_RABBIT_PORT:-5682}" != 5682 ]; then
    echo "tools/run.sh: note: SERVICE_HOST_RABBIT_PORT=$SERVICE_HOST_RABBIT_PORT but" \
        "etc/service-host/service-host.conf points at port 5682; override transport_url" \
        "($SERVICE_HOST_TRANSPORT_URL) with an extra --config-file" >&2
fi

exec "$SERVICE_HOST_VENV/bin/service-host" \
    --config-file "$REPO_ROOT/etc/service-host/service-host.conf" "$@"
