"""Find the rows of a file that describe the same entity.

The pipeline, all on numpy arrays of integer codes (one per distinct normalised value), never on
one Python object per row:

1. **Blocking**: several keys (SIREN, email, mobile, switchboard, name + postcode…); rows that
   share a key become candidate pairs. A block larger than ``max_block`` is walked as a sorted
   neighbourhood (each row against its ``window`` neighbours in name order) instead of all pairs.
2. **Comparison**: each candidate pair gets a *level* per field (missing, different, fuzzy
   bands, exact), with rapidfuzz computing each distinct pair of values once, on both cores.
3. **Weights**: a Fellegi–Sunter model whose m and u probabilities are fitted by EM on the
   candidate pairs of this very file (no labels needed); a pair's match weight is the sum of
   log2(m/u) over its fields. Above ``auto_weight`` the pair is merged, from ``review_weight``
   it goes to the review queue.
4. **Guard**: fields marked ``veto`` (first and last name) that clearly disagree make a pair
   *distinct whatever its weight* and forbid its two rows from sharing a cluster: two colleagues
   share a company, its SIREN, address and switchboard, but are two entities.
5. **Clustering**: connected components of merged pairs; a component holding a forbidden pair
   (or, when linking files that are each clean, two rows of one file) is rebuilt greedily from
   its strongest pairs down, refusing any union that would join a forbidden pair.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist

from comptoir.customerfile import normalise
from comptoir.customerfile.calculations import (
    FellegiSunterModel,
    fit_fellegi_sunter,
    level_shares,
    match_probability,
)

Ints = npt.NDArray[np.int64]
Codes = npt.NDArray[np.int32]
Levels = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float64]
Stage = Callable[[str], None]

WORKERS = min(os.cpu_count() or 1, 4)
# From this many rows, normalisation, blocking and comparison share their work with a forked
# process on the second core (below, forking costs more than it saves).
PARALLEL_ROWS = 100_000
T = TypeVar("T")


def _can_fork(n: int) -> bool:
    return (
        n >= PARALLEL_ROWS
        and WORKERS >= 2
        and "fork" in multiprocessing.get_all_start_methods()
        # Forking a process that runs other threads (a web server's) can copy a held lock.
        and threading.active_count() == 1
    )


def _take_jobs(
    jobs: Sequence[Callable[[], T]], order: list[int], taken: Synchronized[int]
) -> Iterator[tuple[int, T]]:
    """Run the next job nobody has taken yet, in ``order``, until none is left."""
    while True:
        with taken.get_lock():
            k = taken.value
            taken.value = k + 1
        if k >= len(order):
            return
        yield order[k], jobs[order[k]]()


def _run_and_send(
    jobs: Sequence[Callable[[], T]], order: list[int], taken: Synchronized[int], channel: Connection
) -> None:
    try:
        channel.send(dict(_take_jobs(jobs, order, taken)))
    except Exception as exc:  # noqa: BLE001 - sent to the parent, which raises it
        channel.send(exc)
    finally:
        channel.close()


def in_two_processes(jobs: Sequence[tuple[float, Callable[[], T]]], parallel: bool) -> list[T]:
    """Run ``(cost, job)`` pairs and return their results in order, on two processes.

    The child is forked: it sees the jobs' data without pickling, and only the results travel
    back. Both take the costliest job left whenever they are free, so neither waits long for
    the other whatever the estimates. If the child dies (out of memory), its jobs run here.
    """
    if not parallel or len(jobs) < 2:
        return [job() for _, job in jobs]
    work = [job for _, job in jobs]
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0])
    context = multiprocessing.get_context("fork")
    taken = context.Value("i", 0)
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_run_and_send, args=(work, order, taken, sending), daemon=True)
    child.start()
    sending.close()
    try:
        results = dict(_take_jobs(work, order, taken))
        try:
            received = receiving.recv()
        except EOFError:
            received = {}
    except BaseException:
        child.terminate()  # a job failed here: the child's work is moot
        raise
    finally:
        receiving.close()
        child.join()
    if isinstance(received, Exception):
        raise received
    results.update(received)
    return [results[i] if i in results else work[i]() for i in range(len(jobs))]


_SCORERS = {
    "jaro_winkler": JaroWinkler.normalized_similarity,
    "token_sort": fuzz.token_sort_ratio,
}


@dataclass(frozen=True)
class Comparison:
    """How to compare one normalised column, and what its levels mean.

    Levels: 0 missing on one side; 1 different; then, in increasing agreement, ``initial``
    ("J" and "JEAN"), ``swapped`` (first and last name exchanged), one band per similarity
    threshold (ascending), and exact.
    """

    column: str
    label: str
    kind: str = "text"  # text | identifier | email | postcode | exact | address
    thresholds: tuple[float, ...] = ()
    scorer: str = "jaro_winkler"
    swap_with: str = ""
    initials: bool = False
    veto: bool = False

    def level_names(self) -> list[str]:
        names = ["missing", "different"]
        if self.kind == "text" or self.kind == "address":
            if self.initials:
                names.append("initial")
            if self.swap_with:
                names.append("swapped")
            names += [f"similar>={t}" for t in sorted(self.thresholds)]
        elif self.kind == "identifier":
            names.append("one edit")
        elif self.kind == "email":
            names += ["same domain", "one edit"]
        elif self.kind == "postcode":
            names += ["same area", "one edit"]
        names.append("exact")
        return names


@dataclass(frozen=True)
class BlockingRule:
    """Rows sharing the value of every part (a column, or its first ``n`` characters) are compared."""

    parts: tuple[tuple[str, int], ...]  # (column, prefix length; 0 = whole value)

    @classmethod
    def on(cls, *parts: str | tuple[str, int]) -> BlockingRule:
        return cls(tuple((p, 0) if isinstance(p, str) else p for p in parts))


@dataclass(frozen=True)
class Schema:
    """Comparisons, blocking rules, sort key and thresholds of one kind of file."""

    comparisons: tuple[Comparison, ...]
    blocking: tuple[BlockingRule, ...]
    sort_columns: tuple[str, ...]
    auto_weight: float = 10.0
    review_weight: float = 4.0
    max_block: int = 60
    window: int = 6
    # Exact agreement on one of these lifts a veto: same personal email, same mobile.
    veto_rescue: tuple[str, ...] = ()


@dataclass
class Column:
    """A normalised column as integer codes into its distinct values (-1 = missing)."""

    codes: Codes
    values: npt.NDArray[np.object_]
    # Codes of each value by a part of it (an email's domain), computed once per column.
    derived: dict[str, Codes] = field(default_factory=dict, repr=False)


def _factorise(values: Sequence[str]) -> tuple[Codes, list[str]]:
    """Return a code per value (0, 1… in order of first appearance) and the distinct values.

    One pass of dict look-ups run by the interpreter's C loop (``map``), not one Python step per
    row: on a million rows that is most of the cost of encoding.
    """
    n = len(values)
    first_row: dict[str, int] = {}
    rows = np.fromiter(map(first_row.setdefault, values, range(n)), dtype=np.int64, count=n)
    distinct_rows = np.fromiter(first_row.values(), dtype=np.int64, count=len(first_row))
    code_of_row = np.empty(n, dtype=np.int32)
    code_of_row[distinct_rows] = np.arange(len(distinct_rows), dtype=np.int32)
    return code_of_row[rows], list(first_row)


def _column(codes: Codes, distinct: list[str]) -> Column:
    """Build a column from codes into ``distinct``, whose empty string (if any) means missing."""
    values = np.empty(len(distinct), dtype=object)
    values[:] = distinct
    if "" not in distinct:
        return Column(codes, values)
    empty = distinct.index("")
    shift = np.arange(len(distinct), dtype=np.int32)
    shift[empty + 1 :] -= 1
    shift[empty] = -1
    return Column(shift[codes], np.delete(values, empty))


def encode(values: Sequence[str]) -> Column:
    """Turn strings into codes of distinct values; the empty string is missing (-1)."""
    return _column(*_factorise(values))


def recode(col: Column, convert: Callable[[str], str]) -> Column:
    """Apply ``convert`` to each distinct value of a column (not to each row) and re-encode."""
    converted = encode([convert(str(v)) for v in col.values])
    return Column(np.append(converted.codes, -1)[col.codes], converted.values)


def encode_normalised(values: Sequence[str], normalise_value: Callable[[str], str]) -> Column:
    """Normalise and encode a raw column, normalising each distinct raw value once."""
    codes, distinct = _factorise(values)
    normalised = encode([normalise_value(v) for v in distinct])
    return Column(normalised.codes[codes], normalised.values)


def merge_vocabularies(*columns: Column) -> tuple[list[Column], npt.NDArray[np.object_]]:
    """Re-encode columns over one shared set of values; return them and that set."""
    offsets = np.cumsum([0, *(len(c.values) for c in columns)])
    joined = encode([str(v) for c in columns for v in c.values])
    out = [
        Column(np.append(joined.codes[offsets[i] : offsets[i + 1]], -1)[c.codes], joined.values)
        for i, c in enumerate(columns)
    ]
    return out, joined.values


def encode_together(*columns: Sequence[str]) -> list[Column]:
    """Encode several columns over one shared set of values (to compare first with last name)."""
    return merge_vocabularies(*(encode(col) for col in columns))[0]


@dataclass
class Reason:
    """Why a pair matches or not: "same SIREN", "name 0.93", "different first name"."""

    kind: str  # same | similar | different | swapped | initial
    label: str
    similarity: float = 1.0

    def __str__(self) -> str:
        if self.kind == "similar":
            return f"{self.label} {self.similarity:.2f}"
        if self.kind == "swapped":
            return f"{self.label} swapped"
        if self.kind == "initial":
            return f"{self.label} initial"
        return f"{self.kind} {self.label}"


@dataclass
class DedupeResult:
    """Cluster of every row (numbered 1… in order of first appearance) and the scored pairs."""

    cluster: Ints
    pair_a: Ints
    pair_b: Ints
    weight: Floats
    decision: Levels  # 2 merged, 1 review, 0 distinct (vetoed)
    levels: Levels
    schema: Schema
    columns: dict[str, Column]
    model: FellegiSunterModel
    candidate_pairs: int
    timings: dict[str, float] = field(default_factory=dict)

    MERGED = 2
    REVIEW = 1
    DISTINCT = 0

    def probability(self) -> Floats:
        return match_probability(self.weight)

    def reasons(self, k: int) -> list[Reason]:
        """Explain pair ``k``: agreeing fields first, then the disagreements that count."""
        out: list[Reason] = []
        a, b = int(self.pair_a[k]), int(self.pair_b[k])
        for f, comp in enumerate(self.schema.comparisons):
            level = int(self.levels[k, f])
            name = comp.level_names()[level]
            if name == "missing":
                continue
            if name == "exact":
                out.append(Reason("same", comp.label))
            elif name == "different":
                if comp.veto or comp.kind in ("identifier", "exact"):
                    out.append(Reason("different", comp.label, 0.0))
            elif name in ("swapped", "initial"):
                out.append(Reason(name, comp.label))
            else:
                col = self.columns[comp.column]
                left = str(col.values[col.codes[a]])
                right = str(col.values[col.codes[b]])
                if comp.kind in ("text", "address"):
                    sim = float(_SCORERS[comp.scorer](left, right))
                    sim = sim / 100 if comp.scorer == "token_sort" else sim
                    out.append(Reason("similar", comp.label, sim))
                else:
                    out.append(Reason("similar", comp.label, 0.0))
        return out


# Candidate pairs --------------------------------------------------------------------------------


def _distinct(x: Ints) -> Ints:
    """Return the sorted distinct values of an integer array.

    By sorting: numpy 2's hash-based ``np.unique`` takes seconds on ten million wide integers.
    """
    if len(x) == 0:
        return x.copy()
    ordered = np.sort(x)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def _sort_order(key: Ints) -> tuple[Ints, Ints]:
    """Return the (stable) order that sorts non-negative integer keys, and the sorted keys.

    Each key is packed with its position into one integer and the integers are sorted: numpy's
    vectorised sort of plain integers runs several times faster than ``argsort``.
    """
    bits = max((len(key) - 1).bit_length(), 1)
    if int(key.max(initial=0)).bit_length() + bits > 62:
        order = np.argsort(key, kind="stable")
        return order, key[order]
    packed = np.sort((key.astype(np.int64) << bits) | np.arange(len(key), dtype=np.int64))
    return packed & ((1 << bits) - 1), packed >> bits


def _group(key: Ints) -> tuple[Ints, Ints]:
    """Return the sorted distinct non-negative keys and the index of each key among them."""
    order, ordered = _sort_order(key)
    new = np.ones(len(key), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    inverse = np.empty(len(key), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _dense_codes(x: Ints) -> Ints:
    """Number the distinct values of non-negative integers 0, 1… in increasing order."""
    if len(x) == 0:
        return x.astype(np.int64)
    top = int(x.max())
    if top < 4 * len(x) + 1024:
        seen = np.zeros(top + 1, dtype=bool)
        seen[x] = True
        return (np.cumsum(seen) - 1)[x]
    return _group(x)[1]


def _value_codes(col: Column, name: str, derive: Callable[[str], str]) -> Codes:
    """Code each distinct value by a part of it (an email's domain), computed once per column."""
    codes = col.derived.get(name)
    if codes is None:
        codes = col.derived[name] = encode([derive(str(v)) for v in col.values]).codes
    return codes


def _rule_key(rule: BlockingRule, columns: dict[str, Column]) -> Ints:
    key: Ints | None = None
    for column, prefix in rule.parts:
        col = columns[column]
        if prefix:
            cut = _value_codes(col, f"prefix{prefix}", lambda v, k=prefix: v[:k])
            part = np.append(cut, -1)[col.codes].astype(np.int64)
            size = int(cut.max(initial=-1)) + 1
        else:
            part = col.codes.astype(np.int64)
            size = len(col.values)
        if key is None:
            key = part
        else:
            key = np.where((key >= 0) & (part >= 0), key * (size + 1) + part, -1)
            # Re-number to keep the composite key small whatever the number of parts.
            valid = key >= 0
            key[valid] = _dense_codes(key[valid])
    assert key is not None
    return key


def _block_pairs(key: Ints, rank: Ints, max_block: int, window: int) -> tuple[Ints, Ints]:
    """Return the pairs of rows sharing a key: all pairs in small blocks, neighbours in big ones."""
    rows = np.flatnonzero(key >= 0)
    rows = rows[_sort_order(key[rows] * len(rank) + rank[rows])[0]]
    k = key[rows]
    if len(k) < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sizes = np.diff(np.r_[starts, len(k)])
    lefts: list[Ints] = []
    rights: list[Ints] = []
    for size in _distinct(sizes[(sizes >= 2) & (sizes <= max_block)]):
        first = starts[sizes == size]
        iu, ju = np.triu_indices(int(size), 1)
        lefts.append(rows[(first[:, None] + iu).ravel()])
        rights.append(rows[(first[:, None] + ju).ravel()])
    big = sizes > max_block
    if big.any():
        # Sorted neighbourhood inside each big block: rows are already in (key, rank) order.
        block_of = np.repeat(np.arange(len(starts)), sizes)
        in_big = big[block_of]
        for d in range(1, window + 1):
            pos = np.flatnonzero(in_big[:-d] & (block_of[:-d] == block_of[d:]))
            lefts.append(rows[pos])
            rights.append(rows[pos + d])
    if not lefts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(lefts), np.concatenate(rights)


def candidate_pairs(
    schema: Schema, columns: dict[str, Column], n: int, sources: Ints | None = None
) -> tuple[Ints, Ints]:
    """Return the distinct candidate pairs (a < b) of all blocking rules."""
    rank = _sort_rank(schema, columns, n)

    def rule_pairs(rule: BlockingRule) -> Ints:
        a, b = _block_pairs(_rule_key(rule, columns), rank, schema.max_block, schema.window)
        if sources is not None:
            cross = sources[a] != sources[b]
            a, b = a[cross], b[cross]
        return np.minimum(a, b) * n + np.maximum(a, b)

    jobs = [(float(len(rule.parts)), partial(rule_pairs, rule)) for rule in schema.blocking]
    encoded = in_two_processes(jobs, _can_fork(n))
    pairs = _distinct(np.concatenate(encoded)) if encoded else np.empty(0, dtype=np.int64)
    return pairs // n, pairs % n


def _sort_rank(schema: Schema, columns: dict[str, Column], n: int) -> Ints:
    """Rank rows by their sort columns, for the sorted neighbourhood of big blocks."""
    keys = []
    for column in schema.sort_columns:
        col = columns[column]
        value_rank = np.zeros(len(col.values) + 1, dtype=np.int64)
        value_rank[np.argsort(col.values.astype(str)) + 1] = np.arange(1, len(col.values) + 1)
        keys.append(value_rank[col.codes + 1])
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort(keys[::-1]) if keys else np.arange(n)] = np.arange(n)
    return rank


# Comparison levels ------------------------------------------------------------------------------


def _scorer_input(col: Column, scorer: str) -> npt.NDArray[np.object_]:
    """Return the strings the scorer compares: token-sorted once per value for token_sort."""
    if scorer != "token_sort":
        return col.values
    cached = col.derived.get("token_sorted")
    if cached is None:
        cached = np.empty(len(col.values), dtype=object)
        cached[:] = [" ".join(sorted(str(v).split())) for v in col.values]
        col.derived["token_sorted"] = cached
    return cached


def _pair_similarity(col: Column, ca: Codes, cb: Codes, scorer: str) -> npt.NDArray[np.float32]:
    """Score each pair of codes, computing every distinct pair of values once."""
    if len(ca) == 0:
        return np.empty(0, dtype=np.float32)
    size = len(col.values)
    key = np.minimum(ca, cb).astype(np.int64) * size + np.maximum(ca, cb)
    # Sorting the keys costs less than scoring the repeats (a few first names meet very often).
    distinct, inverse = _group(key)
    strings = _scorer_input(col, scorer)
    # token_sort_ratio is the Indel ratio of the token-sorted strings, sorted above once per value.
    function = fuzz.ratio if scorer == "token_sort" else _SCORERS[scorer]
    sims = cpdist(
        strings[distinct // size].tolist(),
        strings[distinct % size].tolist(),
        scorer=function,
        workers=WORKERS,
        dtype=np.float32,
    )
    if scorer == "token_sort":
        sims = sims / np.float32(100)
    return sims[inverse]


def _within_one_edit(col: Column, ca: Codes, cb: Codes) -> npt.NDArray[np.bool_]:
    """Tell which pairs of distinct values are one insertion, deletion, substitution or swap apart."""
    out = np.zeros(len(ca), dtype=bool)
    if len(ca) == 0:
        return out
    lengths = col.derived.get("length")
    if lengths is None:
        lengths = col.derived["length"] = np.fromiter(
            map(len, col.values), dtype=np.int32, count=len(col.values)
        )
    # Values whose lengths differ by two or more are never one edit apart: skip them unscored.
    near = np.flatnonzero(np.abs(lengths[ca] - lengths[cb]) <= 1)
    d = cpdist(
        col.values[ca[near]].tolist(),
        col.values[cb[near]].tolist(),
        scorer=OSA.distance,
        score_cutoff=1,
        workers=WORKERS,
        dtype=np.int32,
    )
    out[near] = d <= 1
    return out


def compare(comp: Comparison, columns: dict[str, Column], a: Ints, b: Ints) -> tuple[Levels, int]:
    """Return the level of every pair on one comparison, and the number of levels."""
    names = comp.level_names()
    col = columns[comp.column]
    ca, cb = col.codes[a], col.codes[b]
    level = np.zeros(len(a), dtype=np.uint8)
    both = (ca >= 0) & (cb >= 0)
    level[both] = 1
    same = both & (ca == cb)
    level[same] = len(names) - 1
    rest = np.flatnonzero(both & ~same)
    if comp.kind == "exact" or len(rest) == 0:
        return level, len(names)
    ra, rb = ca[rest], cb[rest]
    if comp.kind == "identifier":
        level[rest[_within_one_edit(col, ra, rb)]] = names.index("one edit")
        return level, len(names)
    if comp.kind == "email":
        # Two mailboxes of one domain are usually two colleagues: a level of its own, so that
        # EM can learn how much it speaks against a match.
        domain = _value_codes(col, "domain", lambda v: v.partition("@")[2])
        level[rest[domain[ra] == domain[rb]]] = names.index("same domain")
        level[rest[_within_one_edit(col, ra, rb)]] = names.index("one edit")
        return level, len(names)
    if comp.kind == "postcode":
        area = _value_codes(col, "prefix2", lambda v: v[:2])
        level[rest[area[ra] == area[rb]]] = names.index("same area")
        level[rest[_within_one_edit(col, ra, rb)]] = names.index("one edit")
        return level, len(names)
    sims = _pair_similarity(col, ra, rb, comp.scorer)
    for t in sorted(comp.thresholds):
        level[rest[sims >= t]] = names.index(f"similar>={t}")
    if comp.kind == "address":
        number = columns[comp.column + "#number"]
        na, nb = number.codes[a[rest]], number.codes[b[rest]]
        level[rest[(na >= 0) & (nb >= 0) & (na != nb)]] = 1
    low = rest[level[rest] == 1]
    if comp.initials and len(low):
        initial = _value_codes(col, "prefix1", lambda v: v[:1])
        single = np.fromiter((len(str(v)) == 1 for v in col.values), dtype=bool)
        la, lb = col.codes[a[low]], col.codes[b[low]]
        level[low[(single[la] | single[lb]) & (initial[la] == initial[lb])]] = names.index(
            "initial"
        )
        low = low[level[low] == 1]
    if comp.swap_with and len(low):
        # First and last name exchanged, possibly with one of the two missing on one side.
        other = columns[comp.swap_with]
        crossed = (
            (col.codes[a[low]], other.codes[b[low]]),
            (other.codes[a[low]], col.codes[b[low]]),
        )
        refuted = np.zeros(len(low), dtype=bool)
        agreed = np.zeros(len(low), dtype=bool)
        for mine, theirs in crossed:
            # A pair the first crossing refuted stays refuted: the second need not score it.
            present = np.flatnonzero((mine >= 0) & (theirs >= 0) & ~refuted)
            close = _pair_similarity(col, mine[present], theirs[present], comp.scorer) >= 0.9
            agreed[present[close]] = True
            refuted[present[~close]] = True
        level[low[agreed & ~refuted]] = names.index("swapped")
    return level, len(names)


def _pair_count(n: int, sources: Ints | None) -> float:
    if sources is None:
        return n * (n - 1) / 2
    sizes = np.bincount(sources).astype(np.float64)
    return float((sizes.sum() ** 2 - (sizes**2).sum()) / 2)


def _random_pairs(n: int, sources: Ints | None, sample: int = 50_000) -> tuple[Ints, Ints]:
    """Draw pairs of rows at random, to measure u (seeded: runs are reproducible)."""
    if n * (n - 1) // 2 <= sample:  # a small file: every pair
        a, b = (x.astype(np.int64) for x in np.triu_indices(n, 1))
    else:
        rng = np.random.default_rng(20261126)
        a = rng.integers(0, n, size=sample)
        b = rng.integers(0, n, size=sample)
    keep = a != b
    if sources is not None:
        keep &= sources[a] != sources[b]
    return a[keep], b[keep]


def _compare_and_measure_u(
    comp: Comparison, columns: dict[str, Column], pairs: tuple[Ints, Ints, Ints, Ints]
) -> tuple[Levels, int, Floats]:
    """Return the levels of the candidate pairs, their number, and u from the random pairs.

    One job for both, so that the random pairs reuse the caches (email domains, token-sorted
    names) that the candidate pairs built, in whichever process the job runs.
    """
    a, b, random_a, random_b = pairs
    level, count = compare(comp, columns, a, b)
    random_level = compare(comp, columns, random_a, random_b)[0]
    return level, count, level_shares(random_level, count, pseudo_pairs=100.0)


# Clustering -------------------------------------------------------------------------------------


def _components(n: int, a: Ints, b: Ints) -> Ints:
    """Label connected components by minimum-label propagation with pointer jumping."""
    labels = np.arange(n, dtype=np.int64)
    while True:
        low = np.minimum(labels[a], labels[b])
        before = labels.copy()
        np.minimum.at(labels, a, low)
        np.minimum.at(labels, b, low)
        labels = labels[labels]
        labels = labels[labels]
        if np.array_equal(labels, before):
            return labels


def _greedy(
    members: Ints,
    a: Ints,
    b: Ints,
    forbidden: set[tuple[int, int]],
    sources: Ints | None,
) -> dict[int, int]:
    """Join rows along pairs given strongest first, refusing unions that join a forbidden pair."""
    parent = {int(m): int(m) for m in members}
    group = {int(m): [int(m)] for m in members}
    enemies: dict[int, set[int]] = {int(m): set() for m in members}
    for x, y in forbidden:
        enemies[x].add(y)
        enemies[y].add(x)
    origin = {int(m): {int(sources[m])} for m in members} if sources is not None else None

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        rx, ry = find(x), find(y)
        if rx == ry:
            continue
        if len(group[rx]) < len(group[ry]):
            rx, ry = ry, rx
        if enemies[rx] & set(group[ry]):
            continue
        if origin is not None and origin[rx] & origin[ry]:
            continue
        parent[ry] = rx
        group[rx] += group.pop(ry)
        enemies[rx] |= enemies.pop(ry)
        if origin is not None:
            origin[rx] |= origin.pop(ry)
    return {m: find(m) for m in parent}


def cluster(
    n: int,
    a: Ints,
    b: Ints,
    weight: Floats,
    cannot_a: Ints,
    cannot_b: Ints,
    sources: Ints | None = None,
) -> Ints:
    """Return a cluster label per row from merged pairs, honouring cannot-link pairs."""
    labels = _components(n, a, b)
    conflicted = np.zeros(n, dtype=bool)
    inside = labels[cannot_a] == labels[cannot_b]
    conflicted[labels[cannot_a[inside]]] = True
    if sources is not None:
        key = _distinct(labels * (int(sources.max(initial=0)) + 1) + sources)
        per_label = np.bincount(key // (int(sources.max(initial=0)) + 1), minlength=n)
        conflicted |= per_label > 1
    if not conflicted.any():
        return labels
    rows = np.flatnonzero(conflicted[labels])
    edge = conflicted[labels[a]]
    order = np.argsort(-weight[edge], kind="stable")
    ea, eb = a[edge][order], b[edge][order]
    keep = inside & conflicted[labels[cannot_a]]
    forbidden = set(zip(cannot_a[keep].tolist(), cannot_b[keep].tolist(), strict=True))
    roots = _greedy(rows, ea, eb, forbidden, sources)
    labels = labels.copy()
    labels[rows] = np.fromiter((roots[int(r)] for r in rows), dtype=np.int64, count=len(rows))
    return labels


def number_clusters(labels: Ints) -> Ints:
    """Renumber cluster labels 1, 2, … in the order rows appear."""
    dense = _dense_codes(labels)
    first = np.full(int(dense.max(initial=-1)) + 1, len(labels), dtype=np.int64)
    np.minimum.at(first, dense, np.arange(len(labels), dtype=np.int64))
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(1, len(first) + 1)
    return rank[dense]


# Rough cost of comparing one pair, to share the comparisons between two processes.
_COMPARISON_COST = {
    "text": 3.0,
    "address": 3.0,
    "email": 2.0,
    "identifier": 1.5,
    "postcode": 1.0,
    "exact": 0.2,
}


def _count_patterns(code: Ints, space: int) -> tuple[Ints, Ints, Ints]:
    """Return the distinct pattern codes, the index of each pair's pattern, and their counts."""
    if space <= 1 << 24:  # a table of every possible pattern: counting without sorting
        every = np.bincount(code, minlength=space)
        distinct = np.flatnonzero(every)
        index = np.zeros(space, dtype=np.int64)
        index[distinct] = np.arange(len(distinct))
        return distinct, index[code], every[distinct]
    inverse = _dense_codes(code)
    counts = np.bincount(inverse)
    distinct = np.empty(len(counts), dtype=np.int64)
    distinct[inverse] = code
    return distinct, inverse, counts


# The whole run -----------------------------------------------------------------------------------


def deduplicate(
    schema: Schema,
    columns: dict[str, Column],
    n: int,
    *,
    sources: Ints | None = None,
    on_stage: Stage | None = None,
) -> DedupeResult:
    """Cluster ``n`` rows whose normalised columns are ``columns``.

    With ``sources`` (one small integer per row), only rows of different sources are compared
    and a cluster holds at most one row of each source: linking files that are each clean.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now
        if on_stage:
            on_stage(name)

    a, b = candidate_pairs(schema, columns, n, sources)
    stage("blocking")
    pairs = (a, b, *_random_pairs(n, sources))
    jobs = [
        (_COMPARISON_COST[c.kind], partial(_compare_and_measure_u, c, columns, pairs))
        for c in schema.comparisons
    ]
    compared = in_two_processes(jobs, _can_fork(n))
    level_list = [level for level, _, _ in compared]
    n_levels = [count for _, count, _ in compared]
    u = tuple(shares for _, _, shares in compared)
    # One integer per comparison pattern (fitting counts patterns, not pairs), written with the
    # first comparison as the lowest digit.
    radix = int(np.prod(n_levels, dtype=np.int64))
    pattern_code = np.zeros(len(a), dtype=np.uint32 if radix < 2**32 else np.int64)
    for level, count in zip(level_list[::-1], n_levels[::-1], strict=True):
        pattern_code *= count
        pattern_code += level
    stage("comparison")
    distinct, inverse, counts = _count_patterns(pattern_code, radix)
    patterns = np.empty((len(distinct), len(n_levels)), dtype=np.uint8)
    for f, count in enumerate(n_levels):
        patterns[:, f] = distinct % count
        distinct //= count
    veto_fields = [f for f, c in enumerate(schema.comparisons) if c.veto]
    pattern_veto = (
        (patterns[:, veto_fields] == 1).any(axis=1)
        if veto_fields
        else np.zeros(len(patterns), dtype=bool)
    )
    for f, comp in enumerate(schema.comparisons):
        if comp.column in schema.veto_rescue:
            pattern_veto &= patterns[:, f] != n_levels[f] - 1
    # Fit on the pairs the guard leaves open: with the colleagues in, EM would happily learn
    # "same organisation" instead of "same entity".
    open_patterns = ~pattern_veto
    fitted = fit_fellegi_sunter(
        patterns[open_patterns], counts[open_patterns].astype(np.float64), tuple(n_levels), u=u
    )
    # The prior of the weights is the match share among all pairs, not among candidates.
    all_pairs = _pair_count(n, sources)
    matches = fitted.prior * float(counts[open_patterns].sum())
    model = FellegiSunterModel(
        m=fitted.m,
        u=fitted.u,
        prior=float(np.clip(matches / max(all_pairs, 1.0), 1e-12, 0.5)),
        iterations=fitted.iterations,
    )
    pattern_weight = model.pattern_weights(patterns)
    weight = pattern_weight[inverse]
    vetoed = pattern_veto[inverse]
    stage("weights")
    merged = (weight >= schema.auto_weight) & ~vetoed
    # Vetoed pairs that otherwise look alike are the colleagues: never in one cluster.
    cannot = vetoed & (weight >= schema.review_weight)
    labels = cluster(n, a[merged], b[merged], weight[merged], a[cannot], b[cannot], sources)
    keep = (weight >= schema.review_weight) | cannot
    decision = np.where(merged, 2, np.where(vetoed, 0, 1)).astype(np.uint8)[keep]
    stage("clustering")
    return DedupeResult(
        cluster=number_clusters(labels),
        pair_a=a[keep],
        pair_b=b[keep],
        weight=weight[keep],
        decision=decision,
        levels=np.stack([level[keep] for level in level_list], axis=1)
        if level_list
        else np.zeros((int(keep.sum()), 0), dtype=np.uint8),
        schema=schema,
        columns=columns,
        model=model,
        candidate_pairs=len(a),
        timings=timings,
    )


# The customer file ----------------------------------------------------------------------------

CUSTOMER_SCHEMA = Schema(
    comparisons=(
        Comparison("organisation", "name", thresholds=(0.8, 0.9, 0.95), scorer="token_sort"),
        Comparison("siren", "SIREN", kind="identifier"),
        Comparison("siret", "SIRET", kind="exact"),
        Comparison(
            "first_name",
            "first name",
            thresholds=(0.9, 0.95),
            swap_with="last_name",
            initials=True,
            veto=True,
        ),
        Comparison(
            "last_name", "last name", thresholds=(0.88, 0.95), swap_with="first_name", veto=True
        ),
        Comparison("email", "email", kind="email"),
        Comparison("mobile", "mobile", kind="exact"),
        Comparison("landline", "phone", kind="exact"),
        Comparison(
            "street", "address", kind="address", thresholds=(0.85, 0.95), scorer="token_sort"
        ),
        Comparison("postcode", "postcode", kind="postcode"),
        Comparison("town", "town", thresholds=(0.88, 0.95)),
    ),
    blocking=(
        BlockingRule.on("siren"),
        BlockingRule.on("email"),
        BlockingRule.on("mobile"),
        BlockingRule.on("landline"),
        BlockingRule.on("organisation", ("postcode", 2)),
        BlockingRule.on("last_name", "first_name", ("postcode", 2)),
        BlockingRule.on("last_name", "postcode"),
        BlockingRule.on("street", "postcode"),
        BlockingRule.on(("last_name", 3), ("first_name", 2), ("postcode", 2)),
        BlockingRule.on(("organisation", 4), "postcode"),
    ),
    sort_columns=("last_name", "first_name", "organisation"),
    max_block=6,
    window=2,
    auto_weight=12.0,
    review_weight=5.0,
    veto_rescue=("email", "mobile"),
)

# The fields of a customer file, as the column mapping names them.
CUSTOMER_FIELDS = (
    "organisation",
    "siren",
    "siret",
    "vat_number",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "street",
    "postcode",
    "town",
)
_HOUSE_NUMBER = re.compile(r"^\d+")


def _vat_siren(value: str) -> str:
    text = normalise.plain_upper(value).replace(" ", "")
    return text[4:] if text.startswith("FR") and len(text) == 13 and text[4:].isdigit() else ""


def _personal_email(value: str) -> str:
    # A shared mailbox (contact@, compta@) is the same for every colleague: it says nothing of
    # the person, and the organisation is already compared through its other fields.
    address = normalise.email(value)
    return "" if address and normalise.is_generic_mailbox(address) else address


def _house_number(street: str) -> str:
    found = _HOUSE_NUMBER.match(street)
    return found.group(0) if found else ""


def _siren_of_siret(siret: str) -> str:
    return siret[:9]


# Column-at-a-time versions of normalise.phone, .siren and .siret --------------------------------
# A million phone numbers are mostly French layouts of ten digits: numpy reads them as a matrix of
# code points instead of calling a Python function per value. Values outside the fast path (not
# ASCII, long, or a layout that needs phonenumbers) go through the per-value function, so the
# result is the same value for value (tests/customerfile/test_dedupe.py compares them).

Normaliser = Callable[[list[str]], list[Column]]


class _Digits:
    """The digits of each of a list of values, read from one byte buffer of them all.

    ``count[i]`` is how many digits value i has, ``at(j)`` the j-th digit of every value (255
    where it has fewer); only for ASCII values (``ascii``): the others need the value functions.
    """

    def __init__(self, values: list[str]) -> None:
        encoded = list(map(str.encode, values, repeat("utf-8"), repeat("surrogatepass")))
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(values))
        self.ascii = lengths == np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        self.buffer = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        self.starts = np.cumsum(lengths) - lengths
        self.lengths = lengths
        # Where the digits are (a non-digit wraps round to > 9), and each value's first of them.
        self._where = np.flatnonzero(self.buffer - np.uint8(48) < 10)
        self._first = np.searchsorted(self._where, self.starts)
        self.count = np.searchsorted(self._where, self.starts + lengths) - self._first

    def at(self, j: Ints | int) -> npt.NDArray[np.uint8]:
        """Return the j-th digit of every value (j may differ per value), 255 past its digits."""
        j = np.broadcast_to(np.asarray(j, dtype=np.int64), self.count.shape)
        present = (j >= 0) & (j < self.count)
        out = np.full(len(self.count), 255, dtype=np.uint8)
        out[present] = self.buffer[self._where[self._first[present] + j[present]]] - 48
        return out

    def number(self, offset: Ints | int, width: int) -> Ints:
        """Return the ``width`` digits from ``offset`` as a number (for values that have them)."""
        total = np.zeros(len(self.count), dtype=np.int64)
        for j in range(width):
            total = total * 10 + np.minimum(self.at(np.asarray(offset) + j), 9)
        return total

    def first_shown(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
        """Return the first character that str.strip() keeps of each value, and if there is one."""
        b = self.buffer
        # str.strip()'s ASCII whitespace: tab to carriage return, the separators 28-31, space.
        where = np.flatnonzero(~((b == 32) | ((b >= 9) & (b <= 13)) | ((b >= 28) & (b <= 31))))
        first = np.searchsorted(where, self.starts)
        has = np.searchsorted(where, self.starts + self.lengths) > first
        out = np.zeros(len(self.count), dtype=np.uint8)
        out[has] = b[where[first[has]]]
        return out, has


def _number_texts(numbers: Ints, prefix: str, width: int) -> list[str]:
    """Write numbers as ``prefix`` + ``width`` digits (leading zeros kept), without a Python loop."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    points = np.empty((len(numbers), len(prefix) + width), dtype=np.uint32)
    points[:, : len(prefix)] = [ord(c) for c in prefix]
    points[:, len(prefix) :] = numbers[:, None] // powers % 10 + 48
    texts: list[str] = points.view(f"U{len(prefix) + width}").ravel().tolist()
    return texts


def _numbered_column(
    number: Ints, values: list[str], fallback: Callable[[str], str], prefix: str, width: int
) -> Column:
    """Encode normalised values held as numbers (the value is ``prefix`` + ``width`` digits).

    ``number`` is -1 for an empty value and -2 where ``fallback`` must normalise the raw value;
    a fallback result of the numbered form joins the numbers, so each value has one code.
    """
    number = number.copy()
    other_rows = np.flatnonzero(number == -2)
    others = [fallback(values[i]) for i in other_rows.tolist()]
    plain: list[str] = []
    plain_rows: list[int] = []
    size = len(prefix) + width
    for i, text in zip(other_rows.tolist(), others, strict=True):
        tail = text[len(prefix) :]
        if len(text) == size and text.startswith(prefix) and tail.isascii() and tail.isdigit():
            number[i] = int(tail)
        else:
            number[i] = -1
            plain.append(text)
            plain_rows.append(i)
    codes = np.full(len(number), -1, dtype=np.int32)
    present = np.flatnonzero(number >= 0)
    distinct = _distinct(number[present])
    codes[present] = np.searchsorted(distinct, number[present])
    texts = _number_texts(distinct, prefix, width)
    rest = encode(plain)
    codes[plain_rows] = np.where(rest.codes >= 0, rest.codes + len(texts), -1)
    vocabulary = np.empty(len(texts) + len(rest.values), dtype=object)
    vocabulary[: len(texts)] = texts
    vocabulary[len(texts) :] = rest.values
    return Column(codes, vocabulary)


def _phones(values: list[str]) -> list[Column]:
    """Normalise distinct raw phone numbers as normalise.phone does, a column at a time."""
    text = _Digits(values)
    number = np.full(len(values), -2, dtype=np.int64)
    first, shown = text.first_shown()
    count = text.count
    zero_zero = (text.at(0) == 0) & (text.at(1) == 0)
    international = (first == ord("+")) | zero_zero
    shift = np.where(zero_zero, 2, 0)
    length = count - shift
    d0, d1, d2 = (text.at(shift + j) for j in range(3))
    start = np.full(len(values), -1)
    start[(length == 10) & (d0 == 0) & ~international] = 1
    start[(length == 9) & ~international] = 0
    start[(length == 11) & (d0 == 3) & (d1 == 3)] = 2
    start[(length == 12) & (d0 == 3) & (d1 == 3) & (d2 == 0)] = 3
    french = text.ascii & (start >= 0)
    national = text.number(shift + start, 9)
    # A national number starting with 0 is no number (normalise.phone returns "").
    number[french] = np.where(text.at(shift + start)[french] > 0, national[french], -1)
    number[text.ascii & ~shown] = -1  # blank
    return [_numbered_column(number, values, normalise.phone, "+33", 9)]


def _siren_and_siret(values: list[str]) -> list[Column]:
    """Normalise distinct raw SIREN (or SIRET) values into SIREN and SIRET, a column at a time."""
    text = _Digits(values)
    siren = np.where((text.count == 9) | (text.count == 14), text.number(0, 9), -1)
    siret = np.where(text.count == 14, text.number(0, 14), -1)
    siren[~text.ascii] = siret[~text.ascii] = -2
    return [
        _numbered_column(siren, values, normalise.siren, "", 9),
        _numbered_column(siret, values, normalise.siret, "", 14),
    ]


def _each(*functions: Callable[[str], str]) -> Normaliser:
    return partial(_normalise_each, functions)


def _normalise_each(functions: tuple[Callable[[str], str], ...], values: list[str]) -> list[Column]:
    return [encode([normalise_value(v) for v in values]) for normalise_value in functions]


# What the raw fields become, with the share of the normalisation time each takes (to split
# them between two processes): organisation names and streets cost most per value. Fields
# normalised together share one set of values: a number can be in "phone" on one row and in
# "mobile" on the next, a name in "first_name" here and in "last_name" there (swapped).
_CUSTOMER_NORMALISATIONS: tuple[tuple[tuple[str, ...], Normaliser, float], ...] = (
    (("organisation",), _each(normalise.organisation_key), 5.0),
    (("street",), _each(normalise.street), 4.0),
    (("phone", "mobile"), _phones, 3.0),
    (("email",), _each(_personal_email), 2.0),
    (("siren",), _siren_and_siret, 1.5),
    (("siret",), _each(normalise.siret), 2.0),
    (("vat_number",), _each(_vat_siren), 2.0),
    (("first_name", "last_name"), _each(normalise.person_name), 1.5),
    (("town",), _each(normalise.town), 1.0),
    (("postcode",), _each(normalise.postcode), 1.0),
)


def _normalise_fields(columns: list[Sequence[str]], normaliser: Normaliser) -> list[list[Column]]:
    """Normalise raw columns over one set of values, each distinct raw value once.

    Return, for each column the normaliser makes, one Column per raw column.
    """
    codes, distinct = _factorise([v for values in columns for v in values])
    bounds = np.cumsum([0, *(len(values) for values in columns)])
    return [
        [Column(made.codes[codes[lo:hi]], made.values) for lo, hi in itertools.pairwise(bounds)]
        for made in normaliser(distinct)
    ]


def _compact(codes: Codes, values: npt.NDArray[np.object_]) -> Column:
    """Drop the values no row uses from a column's vocabulary."""
    used = np.zeros(len(values), dtype=bool)
    used[codes[codes >= 0]] = True
    if used.all():
        return Column(codes, values)
    renumber = np.append(np.where(used, np.cumsum(used) - 1, -1), -1).astype(np.int32)
    return Column(renumber[codes], values[used])


def _first_present(first: Column, *then: Callable[[], Column]) -> Column:
    """Take, on each row, the value of the first column that has one (the others made lazily)."""
    for make in then:
        if (first.codes >= 0).all():
            break
        later = make()
        if not ((first.codes < 0) & (later.codes >= 0)).any():
            continue
        (first, later), values = merge_vocabularies(first, later)
        codes = np.where(first.codes >= 0, first.codes, later.codes)
        first = _compact(codes, values)
    return first


def _mobile_and_landline(phone: Column, mobile: Column) -> tuple[Column, Column]:
    """Sort the two phone columns (one set of values) into mobiles (one person) and landlines."""
    values = phone.values
    is_mobile = np.append(
        np.fromiter(map(normalise.is_mobile, values), dtype=bool, count=len(values)), False
    )
    p, m = phone.codes, mobile.codes
    p_mobile, m_mobile = (p >= 0) & is_mobile[p], (m >= 0) & is_mobile[m]
    p_landline, m_landline = (p >= 0) & ~is_mobile[p], (m >= 0) & ~is_mobile[m]
    mobile_codes = np.where(p_mobile, p, np.where(m_mobile, m, -1)).astype(np.int32)
    landline_codes = np.where(p_landline, p, np.where(m_landline, m, -1)).astype(np.int32)
    return _compact(mobile_codes, values), _compact(landline_codes, values)


def customer_columns(raw: dict[str, Sequence[str]], n: int) -> dict[str, Column]:
    """Normalise the raw customer fields (any may be absent) into encoded columns."""
    missing = Column(np.full(n, -1, dtype=np.int32), np.empty(0, dtype=object))
    groups: list[tuple[str, ...]] = []
    jobs = []
    for fields, normaliser, cost in _CUSTOMER_NORMALISATIONS:
        if any(raw.get(f) for f in fields):
            columns = [raw.get(f) or [""] * n for f in fields]
            groups.append(fields)
            jobs.append((cost, partial(_normalise_fields, columns, normaliser)))
    # done[field][i]: the i-th column made from that raw field.
    done: dict[str, list[Column]] = {}
    for fields, made in zip(groups, in_two_processes(jobs, _can_fork(n)), strict=True):
        for j, name in enumerate(fields):
            done[name] = [per_field[j] for per_field in made]

    def get(field: str, which: int = 0) -> Column:
        return done[field][which] if field in done else missing

    siret = _first_present(get("siret"), lambda: get("siren", 1))
    siren = _first_present(
        get("siren"), lambda: recode(siret, _siren_of_siret), lambda: get("vat_number")
    )
    mobile, landline = _mobile_and_landline(get("phone"), get("mobile"))
    first, last = get("first_name"), get("last_name")
    if first.values is not last.values:  # one of the two is missing
        (first, last), _ = merge_vocabularies(first, last)
    street = get("street")
    return {
        "organisation": get("organisation"),
        "siren": siren,
        "siret": siret,
        "first_name": first,
        "last_name": last,
        "email": get("email"),
        "mobile": mobile,
        "landline": landline,
        "street": street,
        "street#number": recode(street, _house_number),
        "postcode": get("postcode"),
        "town": get("town"),
    }


def deduplicate_customers(
    raw: dict[str, Sequence[str]], n: int, *, on_stage: Stage | None = None
) -> DedupeResult:
    """Normalise and deduplicate customer rows given as raw columns named by CUSTOMER_FIELDS."""
    started = time.perf_counter()
    columns = customer_columns(raw, n)
    normalised = time.perf_counter() - started
    if on_stage:
        on_stage("normalisation")
    result = deduplicate(CUSTOMER_SCHEMA, columns, n, on_stage=on_stage)
    result.timings = {"normalisation": normalised, **result.timings}
    return result
