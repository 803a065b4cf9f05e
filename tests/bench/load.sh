#!/usr/bin/env bash
# The load benchmark: simulated pupils against a production build (whole-program
# optimised) of the server on loopback. Each configuration runs RUNS times on a
# fresh database; the table at the end gives the median of each measure. After every saves run the server is
# killed with SIGKILL and the database is checked for every acknowledged save.
#
#   bash tests/bench/load.sh                      # everything (about 40 minutes)
#   RUNS=1 SECONDS_PER_RUN=10 bash tests/bench/load.sh    # a quick look
#   CONFIGS="sqlite-full" CONCURRENCY="64" bash tests/bench/load.sh
#
# Settings (environment):
#   CONFIGS       which servers to measure, from: sqlite-full sqlite-normal
#                 postgres postgres-relaxed      (default: all four)
#   CONCURRENCY   simulated pupils at once        (default: "64 1000")
#   MODES         saves (load, save, move on), pages (load only) and/or
#                 logins (staff sign-ins, LOGIN_CONCURRENCY at once, default 20,
#                 each starting again as soon as it is answered) and/or
#                 login-bursts (LOGIN_CONCURRENCY sign-ins sent at the same
#                 moment, the next burst once all are answered) and/or
#                 starts (pupils typing a new code and pressing Start, over
#                 and over)
#                 (default: "saves pages logins login-bursts starts"; pages
#                 and logins run on sqlite-full only)
#   RUNS          repeats of each configuration   (default: 3)
#   SECONDS_PER_RUN, WARMUP   measured and warm-up seconds (default: 20, 3)
#   RESULTS       file of JSON lines to append to (default: a new temp file)
#   LOG_LEVEL     the server's RUST_LOG           (default: info, as in production)
#   LOADGEN_THREADS  the simulated pupils' threads (default: 1, which keeps
#                 up with 1,000 pupils and leaves the server more of the machine)
#   GZIP          true: pupils accept gzip as browsers do, so pages come
#                 compressed; false: they ask for none   (default: true)
#   SKIP_BUILD=1  use the binaries already built; SERVER_BIN=PATH another server,
#                 LOADGEN_BIN=PATH another load generator (of that server's build)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

CONFIGS="${CONFIGS:-sqlite-full sqlite-normal postgres postgres-relaxed}"
CONCURRENCY="${CONCURRENCY:-64 1000}"
MODES="${MODES:-saves pages logins login-bursts starts}"
LOGIN_CONCURRENCY="${LOGIN_CONCURRENCY:-20}"
RUNS="${RUNS:-3}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-20}"
WARMUP="${WARMUP:-3}"
LOG_LEVEL="${LOG_LEVEL:-info}"
LOADGEN_THREADS="${LOADGEN_THREADS:-1}"
GZIP="${GZIP:-true}"
PORT="${BENCH_PORT:-18080}"
# Below the ephemeral range (32768-60999), so no client socket of the
# benchmark itself can be holding the port when the cluster starts.
PG_PORT="${BENCH_PG_PORT:-25532}"

log() { printf '==> %s\n' "$*" >&2; }

target="${CARGO_TARGET_DIR:-$root/target}"
if [ "${SKIP_BUILD:-}" != 1 ]; then
  log "building production binaries (--profile production)"
  cargo build --profile production -p server -p tests --bin server --bin loadgen >&2
fi
server_bin="${SERVER_BIN:-$target/production/server}"
loadgen="${LOADGEN_BIN:-$target/production/loadgen}"

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work="$(mktemp -d /tmp/survey-bench.XXXXXX)"
results="${RESULTS:-$work/results.jsonl}"
: >>"$results"

# --- a throwaway PostgreSQL cluster, durable (fsync on) ----------------------
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
pgdir=""
as_pg=()
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true
  if [ -n "$pgdir" ]; then
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pgdir"
  fi
  rm -rf "$work/run"
}
trap cleanup EXIT

start_pg() {
  [ -n "$pgdir" ] && return 0
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    log "PostgreSQL is not installed (apt-get install postgresql); skipping it"
    return 1
  fi
  pgdir="$(mktemp -d /tmp/survey-bench-pg.XXXXXX)"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$pgdir"
    as_pg=(runuser -u postgres --)
  fi
  log "starting a throwaway PostgreSQL cluster on 127.0.0.1:$PG_PORT (fsync on)"
  "${as_pg[@]}" "$pg_bin/initdb" -D "$pgdir/data" -A trust -U survey -E UTF8 >/dev/null
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
    -o "-p $PG_PORT -h 127.0.0.1 -k $pgdir -c max_connections=200 -c shared_buffers=256MB" \
    start >/dev/null || { cat "$pgdir/log" >&2; return 1; }
}

db_seq=0
# Sets up a fresh database for one run; exports the server's environment.
fresh_env() {
  local config="$1"
  rm -rf "$work/run"
  mkdir -p "$work/run/data"
  export DATA_DIR="$work/run/data" NO_DEMO=true BIND="127.0.0.1:$PORT" RUST_LOG="$LOG_LEVEL"
  unset DATABASE_URL DURABILITY
  case "$config" in
    sqlite-full) export DURABILITY=full ;;
    sqlite-normal) export DURABILITY=normal ;;
    postgres | postgres-relaxed)
      db_seq=$((db_seq + 1))
      local name="bench_$$_$db_seq"
      "$pg_bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U survey "$name"
      export DATABASE_URL="postgres://survey@127.0.0.1:$PG_PORT/$name"
      if [ "$config" = postgres-relaxed ]; then
        "$pg_bin/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U survey -d "$name" \
          -c "ALTER DATABASE $name SET synchronous_commit = off" >/dev/null
      fi
      ;;
  esac
}

start_server() {
  "$server_bin" >"$work/run/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do
    if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/run/server.log" >&2; return 1; }
    sleep 0.1
  done
  log "the server did not come up"; return 1
}

one_run() {
  local config="$1" mode="$2" conc="$3" label="$4"
  fresh_env "$config"
  # Enough codes that nobody runs out: no pupil finishes, each saves about
  # 40 to 70 pages, and the fastest configuration saves ~15,000 pages a second.
  local codes=$(( (SECONDS_PER_RUN + WARMUP + 5) * 250 + conc * 2 ))
  # Starting is the whole of a starts run: a code each, ~3,000 a second at most.
  [ "$mode" = starts ] && codes=$(( (SECONDS_PER_RUN + WARMUP + 5) * 3000 + conc * 2 ))
  "$loadgen" prepare --codes "$codes" --stages P6,S2 --out "$work/run/codes.txt"
  case "$mode" in logins | login-bursts) "$loadgen" staff ;; esac
  start_server
  "$loadgen" run --url "http://127.0.0.1:$PORT" --codes "$work/run/codes.txt" \
    --concurrency "$conc" --warmup "$WARMUP" --seconds "$SECONDS_PER_RUN" \
    --mode "$mode" --server-pid "$server_pid" --acked "$work/run/acked.txt" \
    --label "$label" --threads "$LOADGEN_THREADS" --gzip "$GZIP" | tee -a "$results"
  # A crash, not a clean stop: what was acknowledged must already be durable.
  kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  if [ "$mode" = saves ]; then
    "$loadgen" verify --acked "$work/run/acked.txt" --label "$label" | tee -a "$results"
  fi
}

gauge_before="$("$loadgen" gauge)"
for config in $CONFIGS; do
  case "$config" in postgres*) start_pg || continue ;; esac
  for mode in $MODES; do
    case "$mode" in
      saves | starts) ;;
      *) [ "$config" != sqlite-full ] && continue ;;
    esac
    concurrency="$CONCURRENCY"
    case "$mode" in logins | login-bursts) concurrency="$LOGIN_CONCURRENCY" ;; esac
    for conc in $concurrency; do
      label="$config $mode c=$conc"
      for run in $(seq 1 "$RUNS"); do
        log "$label, run $run of $RUNS"
        one_run "$config" "$mode" "$conc" "$label"
      done
    done
  done
done

echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "One argon2id hash at the server's cost (loadgen gauge): ${gauge_before} ms before the runs, $("$loadgen" gauge) ms after"
echo "Medians of $RUNS run(s) of ${SECONDS_PER_RUN} s each (results: $results)"
echo
"$loadgen" summary "$results"
