"""W6: a CSV import through examples/apply_tags.py, as a script author runs it.

Unlike W1-W5, W6 is not a stream of request bodies: it is the script, run as a process
against the bench's server, timed from start to exit. Its CSV names all 10,000 products of
the dataset (by name, as such files do) with their own tags and priorities plus one more
tag, in `--mode set`; a second CSV puts the dataset's tags back. Both are timed, so each
round writes 10,000 links and deletes them again, and the junction is the dataset's after
every round (the bench checks it). Rows per second are rows / wall-clock seconds, the
catalog lookup by name and the interpreter's start included.

Beside it, the same script with `--batch-size 1`, one request per row as it used to work,
over the first 1,000 rows (10,000 would take minutes).
"""

from __future__ import annotations

import csv
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.dataset import Dataset, planned_links
from bench.workloads import TOKEN

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "apply_tags.py"
EXTRA_TAG = "W6 import:7"
PER_ROW_ROWS = 1_000


@dataclass(frozen=True)
class ImportRun:
    label: str
    rows: int
    seconds: float
    failed: bool

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class ImportResult:
    batched: list[ImportRun]
    per_row: list[ImportRun]

    def failures(self) -> int:
        return sum(run.failed for run in [*self.batched, *self.per_row])


def write_csvs(directory: Path) -> tuple[Path, Path]:
    """The import CSV (each product's tags plus EXTRA_TAG) and the one that restores them.

    Names follow bench/dataset.py: "Product 00001" carries the seed's tags of product 0,
    "Tag 001" is tag 0.
    """
    tags: dict[int, list[str]] = {}
    for product, tag, priority in planned_links():
        tags.setdefault(product, []).append(f"Tag {tag + 1:03d}:{priority}")
    directory.mkdir(parents=True, exist_ok=True)
    changed, restore = directory / "w6-import.csv", directory / "w6-restore.csv"
    for path, extra in ((changed, [EXTRA_TAG]), (restore, [])):
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["product", "tags"])
            for product in sorted(tags):
                writer.writerow([f"Product {product + 1:05d}", "; ".join(tags[product] + extra)])
    return changed, restore


def first_rows(path: Path, rows: int) -> Path:
    """A copy of the CSV with only its first `rows` rows."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    target = path.with_name(f"{path.stem}-{rows}{path.suffix}")
    target.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return target


def run(graphql_url: str, dataset: Dataset, rounds: int, directory: Path) -> ImportResult:
    """W6 for `rounds` rounds: each imports 10,000 rows and restores them (both timed),
    then imports 1,000 rows one request per row and restores those."""
    del dataset  # the CSVs follow the seed, which the dataset was built from
    changed, restore = write_csvs(directory)
    few_changed = first_rows(changed, PER_ROW_ROWS)
    few_restore = first_rows(restore, PER_ROW_ROWS)
    batched: list[ImportRun] = []
    per_row: list[ImportRun] = []
    for _ in range(rounds):
        batched.append(_timed(graphql_url, changed, "import", []))
        batched.append(_timed(graphql_url, restore, "restore", []))
        per_row.append(_timed(graphql_url, few_changed, "import", ["--batch-size", "1"]))
        per_row.append(_timed(graphql_url, few_restore, "restore", ["--batch-size", "1"]))
    return ImportResult(batched, per_row)


def _timed(graphql_url: str, path: Path, label: str, options: list[str]) -> ImportRun:
    rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
    command = [sys.executable, str(SCRIPT), str(path), "--url", graphql_url, "--token", TOKEN]
    command += ["--quiet", "--mode", "set", *options]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(f"bench: W6 {label} exited with {done.returncode}:\n{done.stderr[-2000:]}")
    return ImportRun(label, rows, seconds, done.returncode != 0)


def markdown(result: ImportResult) -> str:
    """The W6 table: rows per second, batched and one request per row (medians over runs)."""

    def median(runs: list[ImportRun]) -> tuple[float, float, int]:
        return (
            statistics.median(r.per_second for r in runs),
            statistics.median(r.seconds for r in runs),
            runs[0].rows,
        )

    batched_rate, batched_seconds, batched_rows = median(result.batched)
    single_rate, single_seconds, single_rows = median(result.per_row)
    return "\n".join(
        [
            "| W6: examples/apply_tags.py --mode set | rows | seconds | rows/s | failed |",
            "|---|--:|--:|--:|--:|",
            f"| 1,000 rows per request (applyTags) | {batched_rows:,} | {batched_seconds:.1f}"
            f" | {batched_rate:,.0f} | {sum(r.failed for r in result.batched)}"
            f"/{len(result.batched)} |",
            f"| one request per row (--batch-size 1) | {single_rows:,} | {single_seconds:.1f}"
            f" | {single_rate:,.0f} | {sum(r.failed for r in result.per_row)}"
            f"/{len(result.per_row)} |",
        ]
    )
