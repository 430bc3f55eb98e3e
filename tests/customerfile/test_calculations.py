"""Fellegi–Sunter fitting and pairwise accuracy."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from comptoir.customerfile.calculations import (
    fit_fellegi_sunter,
    level_shares,
    match_probability,
    pairwise_accuracy,
)


def _simulate(rng: np.random.Generator, pairs: int, share: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs on 3 fields of levels 1 (different) / 2 (exact); matches agree 90 %, others 10 %."""
    is_match = rng.random(pairs) < share
    agree = np.where(is_match[:, None], 0.9, 0.1)
    levels = np.where(rng.random((pairs, 3)) < agree, 2, 1).astype(np.uint8)
    return levels, is_match


def test_em_recovers_m_u_and_the_match_share() -> None:
    rng = np.random.default_rng(1)
    levels, _ = _simulate(rng, 50_000, 0.3)
    patterns, counts = np.unique(levels, axis=0, return_counts=True)
    model = fit_fellegi_sunter(patterns, counts.astype(float), (3, 3, 3))
    assert abs(model.prior - 0.3) < 0.02
    for m, u in zip(model.m, model.u, strict=True):
        assert abs(m[2] - 0.9) < 0.02
        assert abs(u[2] - 0.1) < 0.02
    weights = model.pattern_weights(patterns)
    # All three fields agreeing is the strongest evidence, all disagreeing the weakest.
    assert weights.argmax() == np.flatnonzero((patterns == 2).all(axis=1))[0]
    assert weights.argmin() == np.flatnonzero((patterns == 1).all(axis=1))[0]


def test_em_with_fixed_u_keeps_u() -> None:
    rng = np.random.default_rng(2)
    levels, _ = _simulate(rng, 20_000, 0.2)
    patterns, counts = np.unique(levels, axis=0, return_counts=True)
    u = tuple(np.array([0.0, 0.95, 0.05]) for _ in range(3))
    model = fit_fellegi_sunter(patterns, counts.astype(float), (3, 3, 3), u=u)
    assert all(np.allclose(a, b) for a, b in zip(model.u, u, strict=True))
    assert all(m[2] > 0.8 for m in model.m)


def test_missing_level_is_neutral() -> None:
    rng = np.random.default_rng(3)
    levels, _ = _simulate(rng, 5_000, 0.3)
    levels[:100, 0] = 0
    patterns, counts = np.unique(levels, axis=0, return_counts=True)
    model = fit_fellegi_sunter(patterns, counts.astype(float), (3, 3, 3))
    assert all(w[0] == 0 for w in model.level_weights())


def test_level_shares_ignore_missing() -> None:
    shares = level_shares(np.array([0, 0, 1, 1, 1, 2], dtype=np.uint8), 3)
    assert shares[0] == 0
    assert np.isclose(shares[1], 0.75)
    assert np.isclose(shares[2], 0.25)


def test_match_probability() -> None:
    assert np.allclose(
        match_probability(np.array([0.0, 10.0, -10.0])), [0.5, 1024 / 1025, 1 / 1025]
    )


def _brute_force(predicted: list[int], truth: list[int]) -> tuple[int, int, int]:
    tp = pp = tt = 0
    for i, j in itertools.combinations(range(len(predicted)), 2):
        same_p = predicted[i] == predicted[j]
        same_t = truth[i] == truth[j]
        pp += same_p
        tt += same_t
        tp += same_p and same_t
    return tp, pp, tt


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=40))
def test_pairwise_accuracy_counts_pairs(labels: list[tuple[int, int]]) -> None:
    predicted = [p for p, _ in labels]
    truth = [t for _, t in labels]
    accuracy = pairwise_accuracy(np.array(predicted), np.array(truth))
    assert (accuracy.true_positives, accuracy.predicted_pairs, accuracy.true_pairs) == _brute_force(
        predicted, truth
    )
    assert 0.0 <= accuracy.f1 <= 1.0


def test_identical_clusterings_score_one() -> None:
    labels = np.array([1, 1, 2, 3, 3, 3])
    accuracy = pairwise_accuracy(labels, labels * 7)
    assert accuracy.precision == accuracy.recall == accuracy.f1 == 1.0
