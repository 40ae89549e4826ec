#!/usr/bin/env bash
# Prepare the service-host development environment. Idempotent; fast when
# everything is already in place.
#
#   tools/setup-env.sh            # set everything up
#   source tools/setup-env.sh     # ... and also export the variables below (bash)
#
# Steps:
#   1. create a virtualenv at ${SERVICE_HOST_VENV:-<repo>/.venv} with `python3 -m venv`
#      (installs Debian's python3-venv with apt only if that fails)
#   2. pip install -e '<repo>[test]' and -e every plugins/*/ that has a
#      setup.py/setup.cfg/pyproject.toml -- skipped while the stamp file
#      <venv>/.service-host-installed is newer than those files and this script
#   3. start the project-local RabbitMQ node (tools/rabbitmq.sh start)
#
# When sourced it exports SERVICE_HOST_VENV, VIRTUAL_ENV, PATH (venv bin first)
# and SERVICE_HOST_TRANSPORT_URL (rabbit://guest:guest@127.0.0.1:PORT/). The
# caller's shell options are left alone (the work runs in a child bash).
# The broker stays running afterwards; stop it with `tools/rabbitmq.sh stop`.

if [[ "${BASH_SOURCE[0]}" != "${0}" ]]; then
    # ---- sourced -------------------------------------------------------------
    _she_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    bash "$_she_root/tools/setup-env.sh" || {
        _she_rc=$?
        unset _she_root
        return "$_she_rc"
    }
    SERVICE_HOST_VENV=${SERVICE_HOST_VENV:-$_she_root/.venv}
    case $SERVICE_HOST_VENV in /*) ;; *) SERVICE_HOST_VENV=$PWD/$SERVICE_HOST_VENV ;; esac
    export SERVICE_HOST_VENV
    export VIRTUAL_ENV=$SERVICE_HOST_VENV
    case ":$PATH:" in
    ":$SERVICE_HOST_VENV/bin:"*) ;;
    *) export PATH="$SERVICE_HOST_VENV/bin:$PATH" ;;
    esac
    unset PYTHONHOME
    SERVICE_HOST_TRANSPORT_URL=$(bash "$_she_root/tools/rabbitmq.sh" url) || {
        unset _she_root
        return 1
    }
    export SERVICE_HOST_TRANSPORT_URL
    unset _she_root _she_rc
    return 0
fi

# ---- executed ----------------------------------------------------------------
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF=$REPO_ROOT/tools/setup-env.sh
VENV=${SERVICE_HOST_VENV:-$REPO_ROOT/.venv}
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
STATE_DIR=${SERVICE_HOST_STATE_DIR:-$REPO_ROOT/.state}
case $STATE_DIR in /*) ;; *) STATE_DIR=$PWD/$STATE_DIR ;; esac
STAMP=$VENV/.service-host-installed

export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1
export DEBIAN_FRONTEND=noninteractive

say() { echo "==> $*" >&2; }
die() { echo "tools/setup-env.sh: error: $*" >&2; exit 1; }

mkdir -p "$STATE_DIR"
# Serialise concurrent runs (e.g. two terminals, parallel CI steps in one checkout).
exec 8>"$STATE_DIR/setup-env.lock"
flock -w 600 8 || die "timed out waiting for $STATE_DIR/setup-env.lock"

apt_install() {
    local log=$STATE_DIR/apt-$1.log sudo=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo="sudo -n"
        else
            die "package '$1' is needed; install it as root: apt-get install $1"
        fi
    fi
    say "installing Debian package $1 (log: $log)"
    {
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                -o DPkg::Lock::Timeout=300 "$1"
    } </dev/null >>"$log" 2>&1 || {
        tail -n 20 "$log" >&2
        die "apt-get install $1 failed; see $log"
    }
}

# 1. virtualenv -----------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ] || [ ! -x "$VENV/bin/pip" ]; then
    command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH"
    existed=""
    [ -e "$VENV" ] && existed=1
    say "creating virtualenv $VENV"
    if ! python3 -m venv "$VENV" </dev/null >"$STATE_DIR/venv.log" 2>&1; then
        # Debian ships ensurepip separately (python3-venv / python3.X-venv).
        [ -n "$existed" ] || rm -rf "$VENV"
        apt_install python3-venv
        python3 -m venv "$VENV" </dev/null >"$STATE_DIR/venv.log" 2>&1 || {
            cat "$STATE_DIR/venv.log" >&2
            die "python3 -m venv $VENV failed"
        }
    fi
fi
"$VENV/bin/python" -c 'pass' 2>/dev/null ||
    die "the virtualenv $VENV is broken (python upgraded?); remove it (rm -rf $VENV) and re-run"

# 2. pip install -e -----------------------------------------------------------------
[ -f "$REPO_ROOT/setup.cfg" ] || [ -f "$REPO_ROOT/setup.py" ] || [ -f "$REPO_ROOT/pyproject.toml" ] ||
    die "no setup.cfg/setup.py/pyproject.toml in $REPO_ROOT; nothing to install"

plugins=()
deps=("$SELF")
for f in "$REPO_ROOT"/setup.cfg "$REPO_ROOT"/setup.py "$REPO_ROOT"/pyproject.toml; do
    [ -f "$f" ] && deps+=("$f")
done
for d in "$REPO_ROOT"/plugins/*/; do
    d=${d%/}
    found=""
    for f in "$d"/setup.cfg "$d"/setup.py "$d"/pyproject.toml; do
        if [ -f "$f" ]; then
            deps+=("$f")
            found=1
        fi
    done
    [ -z "$found" ] || plugins+=("$d")
done
# The stamp also records which plugins were installed, so adding or removing
# a plugin directory triggers a reinstall even if no file is newer.
want="plugins: ${plugins[*]:-}"

need_install=""
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
    need_install=1
else
    for f in "${deps[@]}"; do
        if [ "$f" -nt "$STAMP" ]; then
            need_install=1
            break
        fi
    done
fi

if [ -n "$need_install" ]; then
    rm -f "$STAMP"
    PIP_LOG=$STATE_DIR/pip-install.log
    : >"$PIP_LOG"
    say "upgrading pip (log: $PIP_LOG)"
    "$VENV/bin/python" -m pip install -q --upgrade pip </dev/null >>"$PIP_LOG" 2>&1 ||
        echo "tools/setup-env.sh: warning: could not upgrade pip; continuing (see $PIP_LOG)" >&2
    args=(-e "${REPO_ROOT}[test]")
    for d in "${plugins[@]}"; do
        args+=(-e "$d")
    done
    say "pip install -e .[test]${plugins[*]:+ and plugins: ${plugins[*]#"$REPO_ROOT"/}}"
    # Output goes to the log (setuptools/pip warnings are noisy); shown on failure.
    "$VENV/bin/python" -m pip install "${args[@]}" </dev/null >>"$PIP_LOG" 2>&1 || {
        rc=$?
        echo "---- last lines of $PIP_LOG ----" >&2
        grep -v "^WARNING: Location '.*' is ignored" "$PIP_LOG" | tail -n 40 >&2
        die "pip install failed (exit $rc); full log: $PIP_LOG"
    }
    printf '%s\n' "$want" >"$STAMP"
else
    say "python packages up to date ($VENV)"
fi

# 3. RabbitMQ -----------------------------------------------------------------------
say "starting project-local RabbitMQ (tools/rabbitmq.sh start)"
bash "$REPO_ROOT/tools/rabbitmq.sh" start 8>&-

say "environment ready: venv $VENV, transport $(bash "$REPO_ROOT/tools/rabbitmq.sh" url)"
