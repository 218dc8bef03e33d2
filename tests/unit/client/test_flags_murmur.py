"""client.flags' pure-Python MurmurHash3 (x86, 32-bit) against published vectors, and
Unleash's normalisation against the values every Unleash SDK agrees on."""

from __future__ import annotations

import pytest

from client.flags import normalized_value
from client.flags.murmur import murmur3_32

SEED = 0x9747B28C


@pytest.mark.parametrize(("data", "seed", "expected"), [
    (b"", 0, 0),
    (b"", 1, 0x514E28B7),
    (b"", 0xFFFFFFFF, 0x81F16F39),
    (b"\x00", 0, 0x514E28B7),
    (b"\x00\x00", 0, 0x30F4C306),
    (b"\x00\x00\x00", 0, 0x85F0B427),
    (b"\x00\x00\x00\x00", 0, 0x2362F9DE),
    (b"\xff\xff\xff\xff", 0, 0x76293B50),
    (b"\x21", 0, 0x72661CF4),
    (b"\x21\x43", 0, 0xA0F7B07A),
    (b"\x21\x43\x65", 0, 0x7E4A8634),
    (b"\x21\x43\x65\x87", 0, 0xF55B516B),
    (b"\x21\x43\x65\x87", 0x5082EDEE, 0x2362F9DE),
    (b"a", SEED, 0x7FA09EA6),
    (b"ab", SEED, 0x74875592),
    (b"abc", SEED, 0xC84A62DD),
    (b"abcd", SEED, 0xF0478627),
    (b"aaaa", SEED, 0x5A97808A),
    (b"Hello, world!", SEED, 0x24884CBA),
    (b"The quick brown fox jumps over the lazy dog", SEED, 0x2FA826CD),
    ("ππππππππ".encode(), SEED, 0xD58063C1),
])
def test_murmur3_x86_32(data: bytes, seed: int, expected: int):
    assert murmur3_32(data, seed) == expected


def test_unleash_normalised_values_shared_by_every_sdk():
    assert normalized_value("123", "gr1") == 73
    assert normalized_value("999", "groupX") == 25


def test_normalisation_hashes_group_then_value_in_utf8_onto_1_to_normalizer():
    assert normalized_value("v", "g", 1000, 86028157) == murmur3_32(b"g:v", 86028157) % 1000 + 1
    assert normalized_value("ø", "grüppe") == murmur3_32("grüppe:ø".encode()) % 100 + 1
    assert {normalized_value(str(n), "g", 7) for n in range(500)} == set(range(1, 8))
