# Sourced by scripts/test and bench/run: a throwaway PostgreSQL cluster on a free port, removed on exit.
# pg_bin is empty when no PostgreSQL server is installed; start_throwaway_postgres DBNAME sets POSTGRES_URL.

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)

start_throwaway_postgres() {
    pg_dir=$(mktemp -d)
    chown postgres: "$pg_dir" 2>/dev/null || true
    trap stop_throwaway_postgres EXIT
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_postgres "$pg_bin/initdb -D $pg_dir/data -A trust -U postgres -E UTF8 --no-sync" >/dev/null
    as_postgres "$pg_bin/pg_ctl -D $pg_dir/data -l $pg_dir/log -o '-p $port -k $pg_dir -c listen_addresses=127.0.0.1 ${PG_OPTIONS:-}' -w start" >/dev/null
    as_postgres "$pg_bin/createdb -h 127.0.0.1 -p $port -U postgres $1"
    POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/$1"
}

as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi; }

stop_throwaway_postgres() {
    as_postgres "$pg_bin/pg_ctl -D $pg_dir/data -m immediate stop" >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
}
