"""Information loss of stored releases: the share of published positions that
are hidden, by kind of question, from a database's stored partnership
releases (the newest release of each partnership).

    python3 exporter/bench/loss.py DATABASE.sqlite

Reads `frequencies.csv` and `codebook.csv` of each release as stored, so it
counts exactly what readers get: every position (partnership and school rows,
every stage and sex line, every option and the base) of every question table.
Routed questions (asked only after a given answer) are counted together, as
"routed follow-up", whatever their kind. `response_rates.csv` is counted as
"response counts".
"""

import csv
import io
import sqlite3
import sys
from collections import defaultdict


def rows(blob):
    return csv.DictReader(io.StringIO(blob.decode("utf-8-sig")))


def main(path):
    db = sqlite3.connect(path)
    newest = db.execute(
        "SELECT max(id) FROM result_release WHERE cpp_id IS NOT NULL GROUP BY cpp_id"
    ).fetchall()
    cells = defaultdict(int)
    hidden = defaultdict(int)
    for (release,) in newest:
        files = dict(
            db.execute(
                "SELECT name, content FROM result_release_file WHERE release_id = ?",
                (release,),
            ).fetchall()
        )
        kinds = {}
        for r in rows(files["codebook.csv"]):
            if r["record"] == "question":
                routed = r["note"].startswith("asked when")
                kinds[r["id"]] = "routed follow-up" if routed else r["kind"]
        for r in rows(files["frequencies.csv"]):
            kind = kinds[r["question_id"]]
            cells[kind] += 1
            hidden[kind] += r["count"] == ""
        for r in rows(files["response_rates.csv"]):
            cells["response counts"] += 1
            hidden["response counts"] += r["responses"] == ""
    total_cells = sum(cells.values())
    total_hidden = sum(hidden.values())
    print(f"{len(newest)} partnership releases")
    print("| table kind | positions | hidden |")
    print("|---|---|---|")
    for kind in sorted(cells):
        share = 100 * hidden[kind] / cells[kind]
        print(f"| {kind} | {cells[kind]:,} | {share:.1f}% |")
    print(f"| all | {total_cells:,} | {100 * total_hidden / total_cells:.1f}% |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 exporter/bench/loss.py DATABASE.sqlite")
    main(sys.argv[1])
