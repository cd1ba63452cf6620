#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 with trust authentication for the
# user `postgres`, as the tests expect. If none answers, starts a throwaway cluster from the
# machine's PostgreSQL binaries (as the `postgres` system user when run as root, since
# PostgreSQL refuses to run as root).
set -euo pipefail

host=127.0.0.1
port=5432

if pg_isready -q -h "$host" -p "$port" 2>/dev/null; then
    echo "postgres: answering on $host:$port"
    exit 0
fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "postgres: no server on $host:$port and no PostgreSQL binaries under /usr/lib/postgresql;" >&2
    echo "install them (apt-get install postgresql) or start a server there." >&2
    exit 1
fi

data=$(mktemp -d /tmp/prepsync-postgres.XXXXXX)
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres:postgres "$data"
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

echo "postgres: starting a throwaway cluster in $data"
as_owner "$bin/initdb" -D "$data" -U postgres -A trust --no-sync >/dev/null
as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-h $host -p $port -k $data -c fsync=off -c max_connections=300" start >/dev/null
pg_isready -h "$host" -p "$port"
