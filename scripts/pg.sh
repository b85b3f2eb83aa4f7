# A throwaway PostgreSQL cluster for the tests.
#
#   source scripts/pg.sh && pg_start     (scripts/test does this)
#   bash scripts/pg.sh COMMAND [ARGS]    (runs COMMAND with a cluster, e.g. one test file)
#
# Unless CASELOAD_TEST_PG already names a database, pg_start finds PostgreSQL's server binaries
# (installing Debian's postgresql package when they are missing), starts a cluster in a temporary
# folder that listens only on a unix socket in that folder, creates a database and exports
# CASELOAD_TEST_PG. The cluster is stopped and the folder removed when the shell exits, also when
# the tests fail. Without PostgreSQL the tests skip its cases, unless CASELOAD_REQUIRE_PG=1.

_pg_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir 2>/dev/null || true)"
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

_pg_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  echo "pg.sh: installing PostgreSQL (Debian package postgresql)" >&2
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends postgresql >/dev/null \
    || { $sudo apt-get update -q >/dev/null && \
         DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends postgresql >/dev/null; }
}

# PostgreSQL refuses to run as root: as root, the cluster runs as `nobody`.
_pg_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

_pg_unavailable() {
  echo "pg.sh: PostgreSQL is unavailable ($1); its test cases will be skipped." >&2
  if [ "${CASELOAD_REQUIRE_PG:-}" = 1 ]; then
    echo "pg.sh: CASELOAD_REQUIRE_PG=1, so that is a failure." >&2
    return 1
  fi
  return 0
}

pg_stop() {
  if [ -n "${_PG_DIR:-}" ] && [ -d "$_PG_DIR" ]; then
    _pg_as "$_PG_BIN/pg_ctl" -D "$_PG_DIR/data" -m immediate -s stop >/dev/null 2>&1 || true
    rm -rf "$_PG_DIR"
  fi
  _PG_DIR=""
}

pg_start() {
  if [ -n "${CASELOAD_TEST_PG:-}" ]; then return 0; fi
  _PG_BIN="$(_pg_bindir)" || { _pg_install && _PG_BIN="$(_pg_bindir)"; } \
    || { _pg_unavailable "no server binaries and they could not be installed"; return; }
  _PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/caseload-pg.XXXXXX")"
  trap pg_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [ "$(id -u)" = 0 ]; then chown nobody "$_PG_DIR"; fi
  local user=caseload db=caseload_test
  if ! _pg_as "$_PG_BIN/initdb" -D "$_PG_DIR/data" -U "$user" --auth=trust --no-sync \
      --encoding=UTF8 --locale=C.UTF-8 >"$_PG_DIR/initdb.log" 2>&1; then
    cat "$_PG_DIR/initdb.log" >&2
    pg_stop
    _pg_unavailable "initdb failed"; return
  fi
  # Durability off (a throwaway cluster); a server time zone other than UTC, as an office's may be,
  # so the tests show caseload keeps times in UTC on PostgreSQL as on SQLite.
  if ! _pg_as "$_PG_BIN/pg_ctl" -D "$_PG_DIR/data" -l "$_PG_DIR/server.log" -w -s start \
      -o "-c listen_addresses='' -c unix_socket_directories='$_PG_DIR' -c fsync=off \
          -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
          -c TimeZone=Europe/London" >/dev/null; then
    cat "$_PG_DIR/server.log" >&2
    pg_stop
    _pg_unavailable "the server did not start"; return
  fi
  _pg_as "$_PG_BIN/createdb" -h "$_PG_DIR" -U "$user" "$db"
  export CASELOAD_TEST_PG="postgresql+psycopg://$user@/$db?host=$_PG_DIR"
}

# Run as a script: start a cluster, run the command, stop the cluster, keep the command's exit code.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  pg_start || exit 1
  "$@"
  exit $?
fi
