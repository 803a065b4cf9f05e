#!/usr/bin/env bash
# National export benchmark: 450,000 synthetic pupils in all 32 partnerships,
# the full questionnaire, every breakdown, suppression and audit.
#
#   bash exporter/bench/run.sh
#
# Builds with the production profile, fills a temporary SQLite database once with
# `server synth`, runs the export RUNS times (default 5) and prints the median
# wall time and peak memory (from /usr/bin/time -v). Then compares the
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

echo "== exporting $RUNS times"
: > "$BENCH_DIR/wall.txt"; : > "$BENCH_DIR/rss.txt"
for i in $(seq "$RUNS"); do
  rm -rf "$BENCH_DIR/out"
  /usr/bin/time -v "$EXPORTER" --database-url "$URL" --questionnaire wellbeing \
    --out "$BENCH_DIR/out" > "$BENCH_DIR/export.log" 2> "$BENCH_DIR/time.log"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(j=1;j<=n;j++) s=s*60+p[j]; print s}' "$BENCH_DIR/time.log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$BENCH_DIR/time.log")
  echo "  run $i: ${wall} s, peak RSS $((rss / 1024)) MB — $(cat "$BENCH_DIR/export.log")"
  echo "$wall" >> "$BENCH_DIR/wall.txt"; echo "$rss" >> "$BENCH_DIR/rss.txt"
done
EXPORT_MEDIAN=$(median < "$BENCH_DIR/wall.txt")
RSS_MAX=$(sort -g "$BENCH_DIR/rss.txt" | tail -1)
du -sh "$BENCH_DIR/out" | sed 's/^/  output size: /'

echo "== aggregation alone: exporter (read from SQLite, decode, count)"
: > "$BENCH_DIR/agg.txt"
for i in $(seq "$RUNS"); do
  "$EXPORTER" --database-url "$URL" --questionnaire wellbeing --aggregate-only \
    | tee /dev/stderr | awk '{for(j=1;j<=NF;j++) if ($(j+1)=="s") print $j}' >> "$BENCH_DIR/agg.txt"
done
AGG_MEDIAN=$(median < "$BENCH_DIR/agg.txt")

echo "== aggregation alone: DuckDB GROUP BY over the same answers"
if [ ! -s "$BENCH_DIR/answers.csv" ]; then
  "$EXPORTER" --database-url "$URL" --questionnaire wellbeing --dump-answers "$BENCH_DIR/answers.csv"
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
echo "national export (read, count, suppress, audit, write): median ${EXPORT_MEDIAN} s, peak RSS $((RSS_MAX / 1024)) MB"
echo "aggregation alone, exporter from SQLite:              median ${AGG_MEDIAN} s"
echo "aggregation alone, DuckDB GROUP BY (in memory):       median ${DUCK_MEDIAN} s (CSV load ${DUCK_LOAD} s, ${DUCK_ROWS} answer rows, ${DUCK_GROUPS} groups)"
awk -v a="$AGG_MEDIAN" -v d="$DUCK_MEDIAN" -v l="$DUCK_LOAD" 'BEGIN {printf "ratio exporter / DuckDB: %.2f (group by only), %.2f (DuckDB load + group by)\n", a/d, a/(d+l)}'
echo "kept in $BENCH_DIR"
