"""Pure maths of deduplication: Fellegi–Sunter weights fitted by EM, and pairwise accuracy.

Comparison vectors arrive already compressed: one row per distinct *pattern* (a level per field,
level 0 meaning "a value is missing on one side") with the number of candidate pairs showing it,
so that fitting a million pairs costs as much as fitting a few thousand patterns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
LevelArray = npt.NDArray[np.uint8]

# Keeps log-ratios finite when a level never shows in one class.
_FLOOR = 1e-6


@dataclass(frozen=True)
class FellegiSunterModel:
    """m and u probabilities per field and level, and the share of candidate pairs that match.

    ``m[f][l]`` is P(level l on field f | match), ``u[f][l]`` the same for non-matches; index 0
    (missing) is never used, so a missing value is neutral evidence.
    """

    m: tuple[FloatArray, ...]
    u: tuple[FloatArray, ...]
    prior: float
    iterations: int

    def level_weights(self) -> tuple[FloatArray, ...]:
        """Return log2(m/u) per field and level (0 for the missing level)."""
        weights = []
        for m, u in zip(self.m, self.u, strict=True):
            w = np.log2(np.maximum(m, _FLOOR) / np.maximum(u, _FLOOR))
            w[0] = 0.0
            weights.append(w)
        return tuple(weights)

    def pattern_weights(self, patterns: LevelArray) -> FloatArray:
        """Return the match weight (log2 odds, prior included) of each comparison pattern."""
        total = np.full(patterns.shape[0], np.log2(self.prior / (1.0 - self.prior)))
        for f, w in enumerate(self.level_weights()):
            total += w[patterns[:, f]]
        return total


def _normalised(counts: FloatArray) -> FloatArray:
    counts = counts.copy()
    counts[0] = 0.0
    total = counts.sum()
    if total <= 0:
        out = np.full(counts.shape, 1.0 / max(len(counts) - 1, 1))
        out[0] = 0.0
        return out
    shares: FloatArray = np.maximum(counts / total, _FLOOR)
    shares[0] = 0.0
    return shares


def fit_fellegi_sunter(
    patterns: LevelArray,
    counts: FloatArray,
    n_levels: tuple[int, ...],
    *,
    prior: float = 0.1,
    u: tuple[FloatArray, ...] | None = None,
    max_iterations: int = 100,
    tolerance: float = 1e-7,
    pseudo_pairs: float = 20.0,
) -> FellegiSunterModel:
    """Fit m, u and the match share by expectation–maximisation on counted patterns.

    Levels are ordered from disagreement (1) to exact agreement (highest); the start assumes
    matches mostly agree and non-matches mostly disagree, which steers EM to the match/non-match
    split rather than to some other two-group split of the pairs.

    With ``u`` given (measured on random pairs, as splink does), only m and the match share are
    fitted: candidate pairs were chosen for agreeing on something, so the non-matches among them
    agree far more often than two random rows, and a u learnt from them would discount exactly
    the agreements that identify an entity.

    ``pseudo_pairs`` matches following the starting profile are added to every M-step (a
    Dirichlet prior): on a file of twenty rows EM has almost nothing to learn from and keeps
    sensible weights; on a large file the real pairs outweigh them.
    """
    n_fields = patterns.shape[1]
    fixed_u = u
    m: list[FloatArray] = []
    u_now: list[FloatArray] = []
    for f in range(n_fields):
        ramp = np.arange(n_levels[f], dtype=np.float64)
        m.append(_normalised(np.exp(2.0 * ramp)))
        u_now.append(fixed_u[f] if fixed_u is not None else _normalised(np.exp(-1.5 * ramp)))
    m_profile = [start * pseudo_pairs for start in m]
    total = float(counts.sum())
    iterations = 0
    if total <= 0:  # nothing to learn from: keep the starting profile
        return FellegiSunterModel(m=tuple(m), u=tuple(u_now), prior=prior, iterations=0)
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - reported in the model
        log_m = np.zeros(patterns.shape[0])
        log_u = np.zeros(patterns.shape[0])
        for f in range(n_fields):
            lm = np.log(np.maximum(m[f], _FLOOR))
            lu = np.log(np.maximum(u_now[f], _FLOOR))
            lm[0] = lu[0] = 0.0
            log_m += lm[patterns[:, f]]
            log_u += lu[patterns[:, f]]
        log_odds = np.log(prior / (1 - prior)) + log_m - log_u
        match = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))
        match_counts = counts * match
        other_counts = counts - match_counts
        new_prior = float(np.clip(match_counts.sum() / total, 1e-9, 1 - 1e-9))
        new_m: list[FloatArray] = []
        new_u: list[FloatArray] = []
        for f in range(n_fields):
            levels = n_levels[f]
            new_m.append(
                _normalised(
                    np.bincount(patterns[:, f], weights=match_counts, minlength=levels)
                    + m_profile[f]
                )
            )
            new_u.append(
                fixed_u[f]
                if fixed_u is not None
                else _normalised(
                    np.bincount(patterns[:, f], weights=other_counts, minlength=levels).astype(
                        np.float64
                    )
                )
            )
        change = abs(new_prior - prior) + max(
            float(np.abs(a - b).max()) for a, b in zip(new_m + new_u, m + u_now, strict=True)
        )
        m, u_now, prior = new_m, new_u, new_prior
        if change < tolerance:
            break
    return FellegiSunterModel(m=tuple(m), u=tuple(u_now), prior=prior, iterations=iterations)


def level_shares(
    levels: npt.NDArray[np.uint8], n_levels: int, pseudo_pairs: float = 0.0
) -> FloatArray:
    """Return the share of each level among non-missing values (the u of random pairs).

    ``pseudo_pairs`` non-matching pairs that mostly disagree are added, so that a file of
    three rows, where every pair is "random", does not conclude that agreeing is common.
    """
    counts: FloatArray = np.bincount(levels, minlength=n_levels).astype(np.float64)
    profile = _normalised(np.exp(-1.5 * np.arange(n_levels, dtype=np.float64)))
    return _normalised(counts + pseudo_pairs * profile)


def match_probability(weight: FloatArray) -> FloatArray:
    """Turn match weights (log2 odds) into probabilities."""
    probability: FloatArray = 1.0 / (1.0 + np.exp2(-np.clip(weight, -60.0, 60.0)))
    return probability


def _pairs_within(labels: IntArray) -> int:
    _, sizes = np.unique(labels, return_counts=True)
    sizes = sizes.astype(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


@dataclass(frozen=True)
class PairwiseAccuracy:
    """Precision, recall and F1 over the pairs of rows put in one cluster."""

    true_positives: int
    predicted_pairs: int
    true_pairs: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def pairwise_accuracy(predicted: IntArray, truth: IntArray) -> PairwiseAccuracy:
    """Compare two clusterings of the same rows pair by pair (every pair inside a cluster)."""
    predicted = np.asarray(predicted, dtype=np.int64)
    truth = np.asarray(truth, dtype=np.int64)
    _, p = np.unique(predicted, return_inverse=True)
    _, t = np.unique(truth, return_inverse=True)
    both = p.astype(np.int64) * (int(t.max(initial=0)) + 1) + t
    return PairwiseAccuracy(
        true_positives=_pairs_within(both),
        predicted_pairs=_pairs_within(predicted),
        true_pairs=_pairs_within(truth),
    )
