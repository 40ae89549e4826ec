#!/usr/bin/env bash
# Manage a PROJECT-LOCAL RabbitMQ node for service-host development and tests.
#
# Usage: tools/rabbitmq.sh start|stop|status|url|reset|ctl [rabbitmqctl args...]
#
#   start   install rabbitmq-server (apt) if missing, start the node if it is not
#           already answering, wait (bounded) until the broker is fully booted
#   stop    stop the node and wait for the OS process to exit (no error if not running)
#   status  exit 0 if the node answers, non-zero otherwise
#   url     print the oslo.messaging transport URL for the node
#   reset   stop the node and delete all of its state (data, logs, cookie)
#   ctl     run rabbitmqctl against the node, e.g. `tools/rabbitmq.sh ctl list_queues`
#
# Environment:
#   SERVICE_HOST_STATE_DIR          state dir (default <repo>/.state); node lives in $STATE/rabbitmq
#   SERVICE_HOST_RABBIT_PORT        AMQP port on 127.0.0.1 (default 5682); Erlang
#                                   distribution port is PORT+20000
#   RABBITMQ_NODENAME               node name (default service-host@localhost)
#   SERVICE_HOST_RABBIT_START_TIMEOUT  seconds to wait for boot (default 60)
#
# The node never touches the system-wide broker: it runs the real scripts from
# /usr/lib/rabbitmq/bin directly (the Debian /usr/sbin wrappers would `su rabbitmq`
# and use /var/lib/rabbitmq), with its own config, data, logs, enabled-plugins file
# and Erlang cookie (HOME is pointed at $STATE/rabbitmq for the server and for
# rabbitmqctl, so they always agree, even when HOME is unset).
# Only epmd (port 4369) is shared with any other Erlang node on the machine; it
# is started on demand by Erlang and is left running by `stop`.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

STATE_DIR=${SERVICE_HOST_STATE_DIR:-$REPO_ROOT/.state}
case $STATE_DIR in /*) ;; *) STATE_DIR=$PWD/$STATE_DIR ;; esac
RABBIT_DIR=$STATE_DIR/rabbitmq
NODE=${RABBITMQ_NODENAME:-service-host@localhost}
PORT=${SERVICE_HOST_RABBIT_PORT:-5682}
START_TIMEOUT=${SERVICE_HOST_RABBIT_START_TIMEOUT:-60}
LOCK_FILE=$STATE_DIR/rabbitmq.lock
APT_LOG=$STATE_DIR/apt-rabbitmq.log

die() { echo "tools/rabbitmq.sh: error: $*" >&2; exit 1; }
info() { echo "tools/rabbitmq.sh: $*" >&2; }

case $PORT in '' | *[!0-9]*) die "SERVICE_HOST_RABBIT_PORT must be a number, got '$PORT'" ;; esac
if [ "$PORT" -lt 1024 ] || [ "$PORT" -gt 35000 ]; then
    # PORT+20000 is the distribution port and rabbitmqctl uses PORT+30000..+30010.
    die "SERVICE_HOST_RABBIT_PORT must be between 1024 and 35000, got $PORT"
fi
DIST_PORT=$((PORT + 20000))
URL="rabbit://guest:guest@127.0.0.1:$PORT/"

RABBIT_BIN=""
SERVER_PID=""

find_rabbit_bin() {
    local d p
    for d in /usr/lib/rabbitmq/bin /usr/local/lib/rabbitmq/bin; do
        if [ -x "$d/rabbitmq-server" ] && [ -x "$d/rabbitmqctl" ]; then
            RABBIT_BIN=$d
            return 0
        fi
    done
    # Generic-unix tarball or other layout: rabbitmq-server on PATH is the real script.
    if p=$(command -v rabbitmq-server 2>/dev/null); then
        p=$(readlink -f "$p")
        d=$(dirname "$p")
        if [ -x "$d/rabbitmqctl" ] && [ "$(basename "$p")" = rabbitmq-server ]; then
            RABBIT_BIN=$d
            return 0
        fi
    fi
    return 1
}

ensure_installed() {
    find_rabbit_bin && return 0
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo="sudo -n"
        else
            die "rabbitmq-server is not installed and this is not root; install it with
    apt-get install rabbitmq-server   (as root), then re-run tools/rabbitmq.sh start"
        fi
    fi
    mkdir -p "$STATE_DIR"
    info "installing rabbitmq-server with apt-get (log: $APT_LOG) ..."
    local rc=0
    {
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                -o DPkg::Lock::Timeout=300 rabbitmq-server
    } </dev/null >>"$APT_LOG" 2>&1 || rc=$?
    if ! find_rabbit_bin; then
        tail -n 20 "$APT_LOG" >&2 || true
        die "could not install rabbitmq-server with apt-get (exit $rc); see $APT_LOG"
    fi
    if [ "$rc" != 0 ]; then
        # Typically the package's postinst failed to start the SYSTEM service
        # (containers without an init system); our own node does not need it.
        info "warning: apt-get exited with $rc but rabbitmq-server is installed; continuing (see $APT_LOG)"
    fi
}

# Environment for both the server and rabbitmqctl. Everything points into
# $RABBIT_DIR so that nothing from /etc/rabbitmq or /var/lib/rabbitmq is used.
rabbit_env() {
    unset RABBITMQ_NODE_PORT RABBITMQ_NODE_IP_ADDRESS RABBITMQ_USE_LONGNAME \
        RABBITMQ_BASE RABBITMQ_ERLANG_COOKIE XDG_CONFIG_HOME || true
    export HOME=$RABBIT_DIR
    export LC_ALL=C.UTF-8 LANG=C.UTF-8
    export RABBITMQ_NODENAME=$NODE
    export RABBITMQ_DIST_PORT=$DIST_PORT
    export RABBITMQ_MNESIA_BASE=$RABBIT_DIR/mnesia
    export RABBITMQ_LOG_BASE=$RABBIT_DIR/log
    export RABBITMQ_CONFIG_FILE=$RABBIT_DIR/rabbitmq.conf
    export RABBITMQ_ADVANCED_CONFIG_FILE=$RABBIT_DIR/advanced.config
    export RABBITMQ_CONF_ENV_FILE=$RABBIT_DIR/rabbitmq-env.conf
    export RABBITMQ_ENABLED_PLUGINS_FILE=$RABBIT_DIR/enabled_plugins
    export RABBITMQ_PID_FILE=$RABBIT_DIR/$NODE.pid
    export ERL_CRASH_DUMP=$RABBIT_DIR/log/erl_crash.dump
    # Bind the Erlang distribution listener to loopback as well.
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="${RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS:-} -kernel inet_dist_use_interface {127,0,0,1}"
}

write_config() {
    mkdir -p "$RABBIT_DIR/mnesia" "$RABBIT_DIR/log"
    cat >"$RABBITMQ_CONFIG_FILE" <<EOF
# Generated by tools/rabbitmq.sh -- project-local node $NODE; edits are overwritten.
listeners.tcp.1 = 127.0.0.1:$PORT
log.file.level = info
log.console = false
EOF
    echo '[].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
    : >"$RABBITMQ_CONF_ENV_FILE"
}

ctl() {
    # Every rabbitmqctl call is bounded so that a wedged node cannot hang us.
    local t=$1
    shift
    timeout --kill-after=5 "$t" "$RABBIT_BIN/rabbitmqctl" -n "$NODE" "$@" </dev/null
}

node_answers() {
    ctl 30 -q status >/dev/null 2>&1
}

node_pid() {
    local pid
    [ -f "$RABBITMQ_PID_FILE" ] || return 1
    pid=$(tr -dc '0-9' <"$RABBITMQ_PID_FILE")
    [ -n "$pid" ] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Make sure the pid is really our beam process (pid files can go stale).
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$RABBIT_DIR" || return 1
    echo "$pid"
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

fail_start() {
    local log=$RABBIT_DIR/log/$NODE.log
    {
        echo
        echo "tools/rabbitmq.sh: error: the project-local RabbitMQ node $NODE did not come up: $*."
        echo "It is configured with data in $RABBIT_DIR/mnesia, AMQP on 127.0.0.1:$PORT and Erlang"
        echo "distribution on port $DIST_PORT. Check that these ports are free (ss -ltnp), that the"
        echo "Erlang cookie $RABBIT_DIR/.erlang.cookie is readable, and the logs in $RABBIT_DIR/log;"
        echo "'tools/rabbitmq.sh reset' wipes the node's state and usually fixes a corrupted node."
        for f in "$log" "$RABBIT_DIR/log/startup.log"; do
            if [ -s "$f" ]; then
                echo "---- last lines of $f ----"
                tail -n 25 "$f"
            fi
        done
    } >&2
    exit 1
}

await_boot() {
    local deadline=$((SECONDS + START_TIMEOUT)) left
    while :; do
        left=$((deadline - SECONDS))
        [ "$left" -gt 0 ] || fail_start "timed out after ${START_TIMEOUT}s"
        if ctl $((left + 5)) -q await_startup --timeout "$left" >/dev/null 2>&1; then
            return 0
        fi
        # await_startup fails immediately while the VM is not yet registered
        # with epmd; detect an early crash instead of waiting for the timeout.
        if [ -n "$SERVER_PID" ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
            fail_start "the broker process exited during boot"
        fi
        sleep 0.5
    done
}

cmd_start() {
    ensure_installed
    rabbit_env
    mkdir -p "$RABBIT_DIR"
    exec 9>"$LOCK_FILE"
    flock -w 120 9 || die "timed out waiting for the lock $LOCK_FILE"
    if node_answers; then
        await_boot
        info "node $NODE already running ($URL)"
        return 0
    fi
    if node_pid >/dev/null; then
        # The OS process exists but does not answer: let it finish booting.
        await_boot
        info "node $NODE running ($URL)"
        return 0
    fi
    if port_in_use "$PORT"; then
        fail_start "port 127.0.0.1:$PORT is already in use by another process (set SERVICE_HOST_RABBIT_PORT)"
    fi
    write_config
    rm -f "$RABBITMQ_PID_FILE"
    local t0=$SECONDS
    info "starting node $NODE on 127.0.0.1:$PORT (state: $RABBIT_DIR) ..."
    # Equivalent of `rabbitmq-server -detached`, but run in the background in its
    # own session so that (a) its stdout/stderr (early boot errors such as a busy
    # distribution port) land in startup.log and (b) we can tell at once when it
    # dies during boot. fd 9 (the lock) must not leak into the VM or into epmd.
    (
        # Close every inherited fd above 2 (our lock, callers' pipes) so the
        # long-lived VM cannot hold them open.
        for fd in "/proc/$BASHPID/fd/"*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-"; fi
        done
        cd "$RABBIT_DIR" && exec setsid -w "$RABBIT_BIN/rabbitmq-server"
    ) </dev/null >"$RABBIT_DIR/log/startup.log" 2>&1 9>&- &
    SERVER_PID=$!
    await_boot
    info "node $NODE started in $((SECONDS - t0))s ($URL)"
}

cmd_stop() {
    find_rabbit_bin || { info "rabbitmq-server not installed; nothing to stop"; return 0; }
    rabbit_env
    [ -d "$RABBIT_DIR" ] || { info "node $NODE not running"; return 0; }
    exec 9>"$LOCK_FILE"
    flock -w 120 9 || die "timed out waiting for the lock $LOCK_FILE"
    local pid="" was_running=""
    pid=$(node_pid) || pid=""
    [ -z "$pid" ] || was_running=1
    if node_answers; then
        was_running=1
        info "stopping node $NODE ..."
        # With the pid file argument rabbitmqctl waits for the OS process to exit.
        if [ -n "$pid" ]; then
            ctl 90 stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 || true
        else
            ctl 90 stop >/dev/null 2>&1 || true
        fi
    fi
    # Fallback (node wedged, or does not answer e.g. because the cookie was deleted).
    pid=$(node_pid) || pid=""
    if [ -n "$pid" ]; then
        info "node process $pid still alive; sending SIGTERM"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 60); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        if kill -0 "$pid" 2>/dev/null; then
            info "sending SIGKILL to $pid"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
        fi
    fi
    rm -f "$RABBITMQ_PID_FILE"
    if [ -n "$was_running" ]; then
        info "node $NODE stopped"
    else
        info "node $NODE not running"
    fi
}

cmd_status() {
    find_rabbit_bin || { info "rabbitmq-server not installed"; return 1; }
    rabbit_env
    if [ -d "$RABBIT_DIR" ] && node_answers; then
        info "node $NODE is running ($URL)"
        return 0
    fi
    info "node $NODE is not running"
    return 1
}

cmd_reset() {
    cmd_stop
    rm -rf "$RABBIT_DIR" "$LOCK_FILE"
    info "removed $RABBIT_DIR"
}

cmd_ctl() {
    find_rabbit_bin || die "rabbitmq-server is not installed (run tools/rabbitmq.sh start)"
    rabbit_env
    exec "$RABBIT_BIN/rabbitmqctl" -n "$NODE" "$@"
}

usage() {
    echo "usage: tools/rabbitmq.sh start|stop|status|url|reset|ctl [rabbitmqctl args...]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
url) echo "$URL" ;;
reset) cmd_reset ;;
ctl) cmd_ctl "$@" ;;
-h | --help | help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//' ;;
*) usage ;;
esac
