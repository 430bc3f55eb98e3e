"""The deduplication engine on a messy French file and on a generated one."""

from __future__ import annotations

import csv
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from bench.synthetic_customers import HEADER, generate
from comptoir.customerfile import dedupe, normalise
from comptoir.customerfile.calculations import pairwise_accuracy
from comptoir.customerfile.dedupe import (
    BlockingRule,
    Column,
    Comparison,
    Schema,
    _phones,
    _siren_and_siret,
    cluster,
    deduplicate,
    deduplicate_customers,
    encode,
    in_two_processes,
)
from comptoir.customerfile.spreadsheets import suggest_mapping

MESSY = Path(__file__).parent.parent / "data" / "customers_messy.csv"
# The entity of each row of customers_messy.csv, in file order.
MESSY_ENTITIES = ["A", "A", "A", "B", "C", "C", "D", "E", "E", "F", "F", "G", "H", "I", "I", "J"]


def _messy_columns() -> tuple[dict[str, list[str]], int]:
    with MESSY.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    mapping = suggest_mapping(rows[0])
    return {field: [r[i] for r in rows[1:]] for field, i in mapping.items()}, len(rows) - 1


def _same_partition(clusters: np.ndarray, entities: list[str]) -> bool:
    pairs = zip(clusters.tolist(), entities, strict=True)
    by_cluster: dict[int, set[str]] = {}
    by_entity: dict[str, set[int]] = {}
    for c, e in pairs:
        by_cluster.setdefault(c, set()).add(e)
        by_entity.setdefault(e, set()).add(c)
    return all(len(v) == 1 for v in by_cluster.values()) and all(
        len(v) == 1 for v in by_entity.values()
    )


def test_messy_french_file_is_deduplicated_exactly() -> None:
    raw, n = _messy_columns()
    result = deduplicate_customers(raw, n)
    assert _same_partition(result.cluster, MESSY_ENTITIES), result.cluster.tolist()
    assert result.cluster.tolist()[:4] == [1, 1, 1, 2]  # numbered in order of appearance


def test_colleagues_at_one_company_stay_two_entities() -> None:
    raw, n = _messy_columns()
    result = deduplicate_customers(raw, n)
    jean, marie = 0, 3  # Jean and Marie Dupont share company, SIREN, address and switchboard
    assert result.cluster[jean] != result.cluster[marie]
    helene, luc = 9, 11
    assert result.cluster[helene] != result.cluster[luc]


def test_homonyms_at_two_companies_stay_two_entities() -> None:
    raw, n = _messy_columns()
    result = deduplicate_customers(raw, n)
    assert result.cluster[4] == result.cluster[5]  # Paul Martin of Garage Martin, twice
    assert result.cluster[4] != result.cluster[6]  # another Paul Martin, in Lyon


def test_every_merged_pair_has_a_score_and_reasons() -> None:
    raw, n = _messy_columns()
    result = deduplicate_customers(raw, n)
    merged = np.flatnonzero(result.decision == result.MERGED)
    assert len(merged) >= 7
    probability = result.probability()
    for k in merged:
        assert probability[k] > 0.99
        reasons = [str(r) for r in result.reasons(int(k))]
        assert reasons
    swapped = next(k for k in merged if {int(result.pair_a[k]), int(result.pair_b[k])} == {13, 14})
    reasons = [str(r) for r in result.reasons(int(swapped))]
    assert "first name swapped" in reasons
    assert "same email" in reasons
    sophie = next(k for k in merged if {int(result.pair_a[k]), int(result.pair_b[k])} == {7, 8})
    assert any(r.startswith("last name 0.") for r in map(str, result.reasons(int(sophie))))


def test_generated_file_reaches_high_f1() -> None:
    rows, truth = generate(4000, seed=11)
    fields = [
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
    assert len(fields) == len(HEADER)
    raw = {field: [r[i] for r in rows] for i, field in enumerate(fields)}
    result = deduplicate_customers(raw, len(rows))
    accuracy = pairwise_accuracy(result.cluster, np.array(truth))
    assert accuracy.f1 > 0.97, accuracy
    assert accuracy.precision > 0.97, accuracy


def test_linking_two_clean_files_keeps_one_row_per_file_in_a_cluster() -> None:
    names = ["ANNE MARTIN", "ANNE MARTIN", "ANNE MARTIN", "PAUL DURAND", "PAUL DURAND"]
    schema = Schema(
        comparisons=(Comparison("name", "name", thresholds=(0.9,)),),
        blocking=(BlockingRule.on("name"),),
        sort_columns=("name",),
        auto_weight=0.0,
        review_weight=-5.0,
    )
    sources = np.array([0, 1, 1, 0, 1])
    result = deduplicate(schema, {"name": encode(names)}, 5, sources=sources)
    clusters = result.cluster
    assert clusters[3] == clusters[4]
    # Anne Martin appears twice in file 1: only one of them can be file 0's Anne Martin.
    assert len({clusters[0], clusters[1], clusters[2]}) == 2


def test_cluster_refuses_to_chain_through_a_forbidden_pair() -> None:
    # 0-1 and 1-2 look alike, but 0 and 2 are known to be two people: 1 joins the closer one.
    a = np.array([0, 1])
    b = np.array([1, 2])
    weight = np.array([20.0, 30.0])
    labels = cluster(3, a, b, weight, np.array([0]), np.array([2]))
    assert labels[1] == labels[2]
    assert labels[0] != labels[2]


@pytest.mark.parametrize("rows", [0, 1])
def test_tiny_inputs(rows: int) -> None:
    raw = {"last_name": ["Dupont"] * rows, "email": ["a@b.fr"] * rows}
    result = deduplicate_customers(raw, rows)
    assert result.cluster.tolist() == list(range(1, rows + 1))


# Phone numbers and SIRENs are normalised a column at a time (numpy), the rest of the engine a value
# at a time: the two must agree on every value, fast path or not.
_PHONE_LIKE = [
    "06 12 34 56 78",
    "06.12.34.56.78",
    " 0612345678 ",
    "612345678",
    "+33 6 12 34 56 78",
    "+33 (0)6 12 34 56 78",
    "0033 6 12 34 56 78",
    "0033612345678",
    "33612345678",
    "+33 0 12 34 56 78",
    "00 12 34 56 78",
    "+44 20 7946 0958",
    "+1 415 555 2671",
    "06 12 34 56",
    "06 12 34 56 78 90 12 34 56 78 90",
    "tél. 06 12 34 56 78",
    "06\x0012345678",
    "\t\x1c+33612345678",
    "+",
    "   ",
    "",
    "732 829 320",
    "732 829 320 00074",
    "7328293200007",
    "SIRET: 73282932000074",
    "０６１２３４５６７８",
]


def _decoded(column: Column) -> list[str]:
    return [str(column.values[c]) if c >= 0 else "" for c in column.codes.tolist()]


def test_phones_a_column_at_a_time_match_the_value_function() -> None:
    (column,) = _phones(_PHONE_LIKE)
    assert _decoded(column) == [normalise.phone(v) for v in _PHONE_LIKE]
    assert len(set(column.values.tolist())) == len(column.values)  # one code per number


def test_siren_and_siret_a_column_at_a_time_match_the_value_functions() -> None:
    siren, siret = _siren_and_siret(_PHONE_LIKE)
    assert _decoded(siren) == [normalise.siren(v) for v in _PHONE_LIKE]
    assert _decoded(siret) == [normalise.siret(v) for v in _PHONE_LIKE]


def test_work_shared_with_a_forked_process_comes_back_in_order() -> None:
    jobs = [(float(cost), partial(pow, 2, cost)) for cost in (3, 1, 4, 1, 5)]
    assert in_two_processes(jobs, parallel=True) == [8, 2, 16, 2, 32]


def test_an_error_in_the_forked_process_is_raised_here() -> None:
    jobs = [(1.0, partial(int, "7")), (2.0, partial(int, "not a number"))]
    with pytest.raises(ValueError, match="not a number"):
        in_two_processes(jobs, parallel=True)


def test_a_large_file_gets_the_same_clusters_on_two_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows, _ = generate(3000, seed=5)
    fields = ["organisation", "siren", "first_name", "last_name", "email", "phone", "mobile"]
    fields += ["street", "postcode", "town"]
    raw = {field: [r[i] for r in rows] for i, field in enumerate(fields)}
    alone = deduplicate_customers(raw, len(rows)).cluster
    forked: list[bool] = []
    monkeypatch.setattr(dedupe, "PARALLEL_ROWS", 0)
    monkeypatch.setattr(dedupe, "_can_fork", lambda n: forked.append(True) or True)
    shared = deduplicate_customers(raw, len(rows)).cluster
    assert forked  # the two-process path ran
    assert shared.tolist() == alone.tolist()
