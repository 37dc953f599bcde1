"""Counter-based random numbers: every draw is a pure function of its coordinates.

A draw is identified by ``(seed, replication, segment, customer, draw index)``. The
coordinates are folded into 64-bit keys with the SplitMix64 finaliser (Steele, Lea &
Flood 2014, "Fast splittable pseudorandom number generators", OOPSLA), a bijection on
64-bit integers with full avalanche:

* stream key  ``k_rs = mix(mix(mix(seed) ^ replication) ^ segment_key)`` — once per
  (replication, segment);
* customer key ``k_c = mix(k_rs ^ customer_key)`` — once per customer;
* draw ``j``   ``z = mix(k_c + j * golden)`` — the SplitMix64 output sequence seeded by
  ``k_c``, so the draws of one customer are the SplitMix64 stream from that seed.

A 64-bit output ``z`` becomes the uniform ``((z >> 12) + 0.5) / 2**52``, which lies in
the open interval (0, 1): never exactly 0 or 1, so ``log(u)`` is always finite. (With
53 bits, ``k + 0.5`` is not representable for ``k >= 2**52`` and rounds to even, so the
largest outputs would round up to exactly 1.)

Because nothing depends on the order in which draws are made, results do not depend on
the number of threads, on how customers are chunked, or on the executor, and two
scenarios run with the same seed see the same uniforms for the same customer (common
random numbers).

Draws used by the engine: a customer's draw 0 gives its lifetime uniform (top 52 bits)
and, when MRR can change, the index of its simulated MRR path (the low bits: the two
parts of a 64-bit output are independent). Path ``j`` of a replication's pool has the
customer key ``PATH_KEYS | j`` (see :mod:`simcore.engine.kernels`); for its step ``t
>= 1`` draw ``3t + 1`` decides whether an expansion or contraction event happens and
``3t + 2``, ``3t + 3`` feed Box-Muller for its size.

The numba functions here are used by the kernels; ``*_np`` twins compute the same bits
with NumPy for tests and for callers without numba.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MULTIPLIER_1 = np.uint64(0xBF58476D1CE4E5B9)
_MULTIPLIER_2 = np.uint64(0x94D049BB133111EB)
_SHIFT_30 = np.uint64(30)
_SHIFT_27 = np.uint64(27)
_SHIFT_31 = np.uint64(31)
_SHIFT_12 = np.uint64(12)
_TWO_POW_MINUS_52 = 1.0 / 4503599627370496.0

#: Customer keys of new customers have this bit set; keys of existing customers
#: (hashes of their ids) have it cleared, so the two never collide.
NEW_CUSTOMER_FLAG = np.uint64(1 << 63)


@njit(cache=True, inline="always")
def mix64(x):
    """SplitMix64 step: add the golden gamma, then the variant-13 finaliser."""
    z = x + GOLDEN
    z = (z ^ (z >> _SHIFT_30)) * _MULTIPLIER_1
    z = (z ^ (z >> _SHIFT_27)) * _MULTIPLIER_2
    return z ^ (z >> _SHIFT_31)


@njit(cache=True, inline="always")
def to_unit(z):
    """Top 52 bits of ``z`` as a float in the open interval (0, 1), exactly."""
    return (np.float64(z >> _SHIFT_12) + 0.5) * _TWO_POW_MINUS_52


@njit(cache=True, inline="always")
def stream_key(seed, replication, segment_key):
    """Key of one (seed, replication, segment) stream; all arguments uint64."""
    return mix64(mix64(mix64(seed) ^ replication) ^ segment_key)


@njit(cache=True, inline="always")
def customer_key(stream, customer):
    """Key of one customer within a stream; both uint64."""
    return mix64(stream ^ customer)


@njit(cache=True, inline="always")
def uniform(key, draw):
    """Uniform in (0, 1) for draw index ``draw`` (uint64) of a customer key."""
    return to_unit(mix64(key + draw * GOLDEN))


@njit(cache=True, inline="always")
def standard_normal(key, draw):
    """Standard normal from draws ``draw`` and ``draw + 1`` by Box-Muller (cosine branch)."""
    u1 = uniform(key, draw)
    u2 = uniform(key, draw + np.uint64(1))
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def fill_uniforms(seed, replication, segment_key, customers, draw, out):
    """Write the uniform of ``draw`` for each customer key into ``out`` (same length)."""
    stream = stream_key(seed, replication, segment_key)
    for i in range(customers.shape[0]):
        out[i] = uniform(customer_key(stream, customers[i]), draw)
    return 0


# --------------------------------------------------------------------------- NumPy twins


def _mix64_np(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = np.asarray(x, dtype=np.uint64) + GOLDEN
        z = (z ^ (z >> _SHIFT_30)) * _MULTIPLIER_1
        z = (z ^ (z >> _SHIFT_27)) * _MULTIPLIER_2
        return z ^ (z >> _SHIFT_31)


def stream_key_np(seed: int, replication: int, segment_key: int) -> np.uint64:
    """NumPy twin of :func:`stream_key`."""
    key = _mix64_np(np.array([seed], dtype=np.uint64))
    key = _mix64_np(key ^ np.uint64(replication))
    key = _mix64_np(key ^ np.uint64(segment_key))
    return key[0]


def draws_np(seed: int, replication: int, segment_key: int, customers, draw) -> np.ndarray:
    """NumPy twin of the engine's raw 64-bit draws (before :func:`to_unit`): one per
    customer key (and draw index); ``customers`` and ``draw`` broadcast."""
    stream = stream_key_np(seed, replication, segment_key)
    keys = _mix64_np(np.asarray(customers, dtype=np.uint64) ^ stream)
    with np.errstate(over="ignore"):
        return _mix64_np(keys + np.asarray(draw, dtype=np.uint64) * GOLDEN)


def uniforms_np(seed: int, replication: int, segment_key: int, customers, draw) -> np.ndarray:
    """NumPy twin of the engine's uniforms: one per customer key (and draw index).

    ``customers`` and ``draw`` broadcast against each other.
    """
    z = draws_np(seed, replication, segment_key, customers, draw)
    return ((z >> _SHIFT_12).astype(np.float64) + 0.5) * _TWO_POW_MINUS_52


def seed_to_uint64(seed: int) -> np.uint64:
    """The one seed entry point: any non-negative Python int, reduced to 64 bits."""
    seed = int(seed)
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    return np.uint64(seed & 0xFFFFFFFFFFFFFFFF)
