#!/usr/bin/env bash
# Runs every test: unit and end-to-end tests on SQLite, then the end-to-end tests
# again against a throwaway PostgreSQL cluster, with pupil pages in headless
# Chromium. Installs what it needs first (Debian packages, npm packages).
#
#   bash tests/run.sh              # everything
#   SKIP_POSTGRES=1 bash tests/run.sh   # SQLite only
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

log() { printf '\n==> %s\n' "$*"; }

# --- system packages -------------------------------------------------------
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || need+=(postgresql)
fonts_ok=$(fc-list 2>/dev/null | grep -ci dejavu || true)
[ "${fonts_ok:-0}" -gt 0 ] || need+=(fonts-dejavu-core)
# The exporter's label files are read back by R and PSPP (exporter/tests/labels.rs).
command -v Rscript >/dev/null 2>&1 || need+=(r-base-core)
command -v pspp >/dev/null 2>&1 || need+=(pspp)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
fi

# --- browser test packages -------------------------------------------------
if [ ! -d "$here/browser/node_modules/playwright-core" ] || [ ! -d "$here/browser/node_modules/axe-core" ]; then
  log "installing browser test packages (npm ci)"
  (cd "$here/browser" && npm ci --no-audit --no-fund --loglevel=error)
fi
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"

# --- SQLite ----------------------------------------------------------------
log "all tests on SQLite"
unset TEST_DATABASE_URL
cargo test --workspace

# --- PostgreSQL ------------------------------------------------------------
if [ "${SKIP_POSTGRES:-}" = "1" ]; then
  log "skipping PostgreSQL (SKIP_POSTGRES=1)"
  exit 0
fi
pgdir="$(mktemp -d /tmp/survey-pg.XXXXXX)"
# Below the ephemeral range (32768-60999): a client socket of an earlier test
# could otherwise still hold the port.
port="${PG_TEST_PORT:-25432}"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: run the throwaway cluster as `postgres`.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$pgdir"
  as_pg=(runuser -u postgres --)
fi
stop_pg() {
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap stop_pg EXIT
log "starting a throwaway PostgreSQL cluster on 127.0.0.1:$port"
"${as_pg[@]}" "$pg_bin/initdb" -D "$pgdir/data" -A trust -U survey -E UTF8 >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
  -o "-p $port -h 127.0.0.1 -k $pgdir -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
export TEST_DATABASE_URL="postgres://survey@127.0.0.1:$port/postgres"

log "end-to-end tests on PostgreSQL"
cargo test -p tests

log "crash safety, backup, transactions, sitting windows, the store's contract, unlinkability and migrations on PostgreSQL"
PG_BIN="$pg_bin" cargo test -p server --test crash --test backup --test transactions \
  --test sitting_windows --test store_contract --test unlinkable --test migrate_endings \
  --test migrate_waves --test migrate_releases

log "all tests passed on SQLite and PostgreSQL"
