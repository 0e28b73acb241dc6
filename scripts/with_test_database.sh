#!/usr/bin/env bash
# Runs a command (the test suite) with BINDLEDGER_TEST_DATABASE_URL naming a PostgreSQL server
# whose role may create databases (each test session creates and drops its own):
#   1. the URL already in BINDLEDGER_TEST_DATABASE_URL, if set;
#   2. else a server answering on 127.0.0.1:5432 or the local socket, if one of the usual
#      roles gets in without a password;
#   3. else a throwaway cluster: initdb into a temporary folder, started on a free port for
#      this run and removed after it, installing Debian's postgresql package first if needed
#      (as the Makefile installs Chromium). PostgreSQL refuses to run as root, so as root the
#      cluster runs as the `postgres` user the package creates.
# Set BINDLEDGER_TEST_THROWAWAY_CLUSTER=1 to skip 1 and 2.
set -euo pipefail

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

usable() {  # a role that can log in and create databases
    [ "$(psql "$1" -XAtq -c "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user" 2>/dev/null)" = t ]
}

running_server() {
    command -v pg_isready >/dev/null && command -v psql >/dev/null || return 1
    local me url
    me=$(id -un)
    if pg_isready -q -h 127.0.0.1 -p 5432; then
        for url in "postgresql://postgres@127.0.0.1:5432/postgres" \
                   "postgresql://postgres@127.0.0.1:5432/test" \
                   "postgresql://$me@127.0.0.1:5432/postgres"; do
            if usable "$url"; then echo "$url"; return 0; fi
        done
    fi
    if pg_isready -q -h /var/run/postgresql; then
        for url in "postgresql:///postgres?host=/var/run/postgresql" \
                   "postgresql://postgres@/postgres?host=/var/run/postgresql"; do
            if usable "$url"; then echo "$url"; return 0; fi
        done
    fi
    return 1
}

postgres_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

CLUSTER=""
RUN_AS=()

stop_cluster() {
    if [ -n "$CLUSTER" ]; then
        "${RUN_AS[@]}" "$(postgres_bin)/pg_ctl" -D "$CLUSTER/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$CLUSTER"
    fi
}

throwaway_cluster() {
    if [ -z "$(postgres_bin)" ]; then
        echo "with_test_database: installing Debian's postgresql package for the tests" >&2
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
    fi
    local bin port
    bin=$(postgres_bin)
    CLUSTER=$(mktemp -d /tmp/bindledger-pg.XXXXXX)
    trap stop_cluster EXIT
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$CLUSTER"
        RUN_AS=(runuser -u postgres --)
    else
        RUN_AS=(env)
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${RUN_AS[@]}" "$bin/initdb" -D "$CLUSTER/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
    # fsync off: the cluster is thrown away after the run, and the tests go faster.
    "${RUN_AS[@]}" "$bin/pg_ctl" -D "$CLUSTER/data" -l "$CLUSTER/log" -w \
        -o "-k $CLUSTER -p $port -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
}

if [ -z "${BINDLEDGER_TEST_DATABASE_URL:-}" ]; then
    url=""
    if [ -z "${BINDLEDGER_TEST_THROWAWAY_CLUSTER:-}" ]; then
        url=$(running_server) || url=""
    fi
    if [ -z "$url" ]; then
        throwaway_cluster >/tmp/bindledger-pg-url.$$ 
        url=$(cat /tmp/bindledger-pg-url.$$)
        rm -f /tmp/bindledger-pg-url.$$
        echo "with_test_database: throwaway PostgreSQL cluster at $url" >&2
    else
        echo "with_test_database: PostgreSQL at $url" >&2
    fi
    export BINDLEDGER_TEST_DATABASE_URL="$url"
fi
"$@"
