"""MurmurHash3 (x86, 32-bit) in pure Python, and Unleash's normalisation of it.

Unleash puts a context value (user id, session id, a custom property…) on a scale of
1..normalizer by hashing ``f"{group_id}:{value}"`` (UTF-8) and taking the remainder, so the
same value lands on the same spot in every SDK: the browser and the server agree.
"""

from __future__ import annotations

_MASK = 0xFFFFFFFF
_C1 = 0xCC9E2D51
_C2 = 0x1B873593


def _rotl(x: int, r: int) -> int:
    """Rotate a 32-bit integer left by ``r`` bits."""
    return ((x << r) | (x >> (32 - r))) & _MASK


def _scramble(k: int) -> int:
    """MurmurHash3's mixing of one 32-bit block before it enters the hash."""
    k = (k * _C1) & _MASK
    k = _rotl(k, 15)
    return (k * _C2) & _MASK


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3_x86_32 of ``data`` with ``seed``, as an unsigned 32-bit integer."""
    h = seed & _MASK
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        h ^= _scramble(int.from_bytes(data[i:i + 4], "little"))
        h = _rotl(h, 13)
        h = (h * 5 + 0xE6546B64) & _MASK
    if whole < len(data):
        h ^= _scramble(int.from_bytes(data[whole:], "little"))
    h ^= len(data) & _MASK
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    return h ^ (h >> 16)


def normalized_value(value: str, group_id: str, normalizer: int = 100, seed: int = 0) -> int:
    """Unleash's spot for ``value`` in ``group_id``: murmur3 of "group_id:value", 1..normalizer."""
    return murmur3_32(f"{group_id}:{value}".encode(), seed) % normalizer + 1
