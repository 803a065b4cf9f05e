#!/usr/bin/env bash
# National release benchmark: 450,000 synthetic pupils in all 32 partnerships,
# the full questionnaire, every breakdown, suppression and audit.
#
#   bash exporter/bench/run.sh
#
# Builds with the production profile, fills a temporary SQLite database once with
# `server synth`, makes the national release RUNS times (default 5: every
# partnership with its school reports, then Scotland, all stored; the stored
# releases are deleted between runs) and prints the median wall time and peak
# memory (from /usr/bin/time -v), and the share of cells hidden by kind of
# question (exporter/bench/loss.py). Then serves the stored files: 50 clients
# download a partnership's frequencies.csv at once, and the script prints the
# median and 99th percentile of their response times. Last, it compares the
# exporter's read-and-count step with DuckDB's GROUP BY over the same answers
# (dumped once as a long CSV, one row per answer; DuckDB reads CSV natively).
#
# Environment: PUPILS (450000), RUNS (5), SEED (1), BENCH_DIR (a temporary
# directory; set it to keep the database between runs), CARGO_TARGET_DIR.
set -euo pipefail

PUPILS="${PUPILS:-450000}"
RUNS="${RUNS:-5}"
SEED="${SEED:-1}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BENCH_DIR="${BENCH_DIR:-$(mktemp -d -t exporter-bench.XXXXXX)}"
DB="$BENCH_DIR/bench.sqlite"
URL="sqlite://$DB?mode=rwc"

cd "$ROOT"
echo "== building (production profile)"
cargo build --profile production -q -p server -p exporter
SERVER="$TARGET/production/server"
EXPORTER="$TARGET/production/exporter"

if [ ! -s "$DB" ]; then
  echo "== synthesising $PUPILS pupils into $DB"
  "$SERVER" --database-url "$URL" --data-dir "$BENCH_DIR" --durability normal \
    synth --pupils "$PUPILS" --seed "$SEED" --cpps 32
else
  echo "== reusing $DB"
fi

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

WAVE="Synthetic data (seed $SEED)"
unrelease() {
  python3 - "$DB" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute("DELETE FROM result_release_file")
con.execute("DELETE FROM result_release")
con.commit()
con.execute("VACUUM")
PY
}

echo "== releasing every partnership and Scotland $RUNS times"
: > "$BENCH_DIR/wall.txt"; : > "$BENCH_DIR/rss.txt"
for i in $(seq "$RUNS"); do
  unrelease
  /usr/bin/time -v "$EXPORTER" --database-url "$URL" release --wave "$WAVE" --all \
    > "$BENCH_DIR/export.log" 2> "$BENCH_DIR/time.log"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(j=1;j<=n;j++) s=s*60+p[j]; print s}' "$BENCH_DIR/time.log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$BENCH_DIR/time.log")
  echo "  run $i: ${wall} s, peak RSS $((rss / 1024)) MB — $(tail -2 "$BENCH_DIR/export.log" | head -1)"
  echo "$wall" >> "$BENCH_DIR/wall.txt"; echo "$rss" >> "$BENCH_DIR/rss.txt"
done
EXPORT_MEDIAN=$(median < "$BENCH_DIR/wall.txt")
RSS_MAX=$(sort -g "$BENCH_DIR/rss.txt" | tail -1)
STORED=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*), sum(size) FROM result_release_file").fetchone())' "$DB")
echo "  stored files, bytes: $STORED"
echo "== information loss of the stored partnership releases"
python3 "$ROOT/exporter/bench/loss.py" "$DB"

echo "== serving a stored file to 50 clients at once"
PORT="${PORT:-18089}"
ADMIN_PASSWORD="bench harbour lantern pebble"
printf '%s\n' "$ADMIN_PASSWORD" | "$SERVER" --database-url "$URL" --data-dir "$BENCH_DIR" \
  create-admin --email timing@example.org >/dev/null || true
"$SERVER" --database-url "$URL" --data-dir "$BENCH_DIR" --bind "127.0.0.1:$PORT" --no-demo serve \
  > "$BENCH_DIR/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
RELEASE_ID=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT min(id) FROM result_release WHERE cpp_id IS NOT NULL").fetchone()[0])' "$DB")
SERVE=$(python3 - "$PORT" "$RELEASE_ID" "$ADMIN_PASSWORD" <<'PY'
import http.cookiejar, re, statistics, sys, threading, time, urllib.parse, urllib.request
port, release, password = sys.argv[1], sys.argv[2], sys.argv[3]
base = f"http://127.0.0.1:{port}"
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
def client():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
opener = client()
page = opener.open(base + "/staff/login").read().decode()
csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
form = urllib.parse.urlencode({"csrf": csrf, "email": "timing@example.org", "password": password}).encode()
try:
    opener.open(base + "/staff/login", form)
except urllib.error.HTTPError as e:
    if e.code != 303:
        raise
path = f"{base}/staff/releases/{release}/frequencies.csv"
times, size, lock = [], [0], threading.Lock()
def fetch(n):
    for _ in range(n):
        t = time.perf_counter()
        body = opener.open(path).read()
        elapsed = time.perf_counter() - t
        with lock:
            times.append(elapsed)
            size[0] = len(body)
threads = [threading.Thread(target=fetch, args=(20,)) for _ in range(50)]
for t in threads: t.start()
for t in threads: t.join()
times.sort()
p99 = times[int(len(times) * 0.99) - 1]
print(f"{statistics.median(times) * 1000:.1f} {p99 * 1000:.1f} {len(times)} {size[0]}")
PY
)
kill $SERVER_PID 2>/dev/null || true
read -r SERVE_MEDIAN SERVE_P99 SERVE_N SERVE_SIZE <<< "$SERVE"

echo "== aggregation alone: exporter (read from SQLite, decode, count)"
: > "$BENCH_DIR/agg.txt"
for i in $(seq "$RUNS"); do
  "$EXPORTER" --database-url "$URL" aggregate-only --wave "$WAVE" \
    | tee /dev/stderr | awk '{for(j=1;j<=NF;j++) if ($(j+1)=="s") print $j}' >> "$BENCH_DIR/agg.txt"
done
AGG_MEDIAN=$(median < "$BENCH_DIR/agg.txt")

echo "== aggregation alone: DuckDB GROUP BY over the same answers"
if [ ! -s "$BENCH_DIR/answers.csv" ]; then
  "$EXPORTER" --database-url "$URL" dump-answers --wave "$WAVE" --out "$BENCH_DIR/answers.csv"
fi
python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install -q duckdb
DUCK=$(python3 - "$BENCH_DIR/answers.csv" "$RUNS" <<'PY'
import statistics, sys, time
import duckdb
path, runs = sys.argv[1], int(sys.argv[2])
con = duckdb.connect()
con.execute("SET threads TO 2")
t = time.perf_counter()
con.execute(f"CREATE TABLE answers AS SELECT * FROM read_csv('{path}', header=true)")
load = time.perf_counter() - t
# The same counts the exporter makes: per partnership by stage and sex, and
# per partnership by school, for every question and option.
query = """
SELECT cpp_id, school_id, stage, sex, question, option, count(*) AS n
FROM answers
GROUP BY GROUPING SETS ((cpp_id, stage, sex, question, option), (cpp_id, school_id, question, option))
"""
times = []
for _ in range(runs):
    t = time.perf_counter()
    rows = con.execute(query).fetchall()
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times):.3f} {load:.3f} {len(rows)} {con.execute('SELECT count(*) FROM answers').fetchone()[0]}")
PY
)
read -r DUCK_MEDIAN DUCK_LOAD DUCK_GROUPS DUCK_ROWS <<< "$DUCK"

echo
echo "== results ($PUPILS pupils, $RUNS runs, $(nproc) cores, $(uname -m))"
echo "national release (every partnership, school reports, Scotland; all checks; stored): median ${EXPORT_MEDIAN} s, peak RSS $((RSS_MAX / 1024)) MB"
echo "serving a stored file ($SERVE_SIZE bytes), 50 clients at once, $SERVE_N downloads: median ${SERVE_MEDIAN} ms, p99 ${SERVE_P99} ms"
echo "aggregation alone, exporter from SQLite:              median ${AGG_MEDIAN} s"
echo "aggregation alone, DuckDB GROUP BY (in memory):       median ${DUCK_MEDIAN} s (CSV load ${DUCK_LOAD} s, ${DUCK_ROWS} answer rows, ${DUCK_GROUPS} groups)"
awk -v a="$AGG_MEDIAN" -v d="$DUCK_MEDIAN" -v l="$DUCK_LOAD" 'BEGIN {printf "ratio exporter / DuckDB: %.2f (group by only), %.2f (DuckDB load + group by)\n", a/d, a/(d+l)}'
echo "kept in $BENCH_DIR"
