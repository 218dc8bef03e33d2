"""Cluster-wide upload locks on a real PostgreSQL: two instances, two connections."""

import logging
import secrets
from collections.abc import AsyncIterator

import anyio
import asyncpg
import pytest

from server.db.pg_locks import PgAdvisoryLocks, advisory_key

pytestmark = pytest.mark.anyio

WAIT = 5  # seconds; notifications normally arrive within milliseconds


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # asyncpg is asyncio-only


def new_id() -> str:
    return secrets.token_hex(16)


@pytest.fixture
async def instances(database_url: str) -> AsyncIterator[tuple[PgAdvisoryLocks, PgAdvisoryLocks]]:
    a, b = PgAdvisoryLocks(database_url), PgAdvisoryLocks(database_url)
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def advisory_holders(dsn: str) -> list[int]:
    """Backend pids holding advisory locks in this database, seen from a third connection."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return [row["pid"] for row in rows]
    finally:
        await connection.close()


async def test_same_name_excludes_other_instance_different_names_do_not(
    instances: tuple[PgAdvisoryLocks, PgAdvisoryLocks],
) -> None:
    a, b = instances
    upload, other = new_id(), new_id()
    assert await a.try_lock(upload)
    assert not await b.try_lock(upload)
    assert await b.try_lock(other)
    assert not await a.try_lock(other)


async def test_unlock_lets_the_other_instance_in(
    instances: tuple[PgAdvisoryLocks, PgAdvisoryLocks],
) -> None:
    a, b = instances
    upload = new_id()
    assert await a.try_lock(upload)
    assert not await b.try_lock(upload)
    await a.unlock(upload)
    assert await b.try_lock(upload)
    assert not await a.try_lock(upload)


async def test_not_reentrant_so_one_unlock_frees(
    instances: tuple[PgAdvisoryLocks, PgAdvisoryLocks],
) -> None:
    a, b = instances
    upload = new_id()
    assert await a.try_lock(upload)
    assert not await a.try_lock(upload)  # PostgreSQL alone would stack a second hold
    await a.unlock(upload)
    assert await b.try_lock(upload)


async def test_closing_the_holder_frees_its_locks(
    instances: tuple[PgAdvisoryLocks, PgAdvisoryLocks],
) -> None:
    a, b = instances
    first, second = new_id(), new_id()
    assert await a.try_lock(first)
    assert await a.try_lock(second)
    assert not await b.try_lock(first)
    await a.close()
    assert await b.try_lock(first)
    assert await b.try_lock(second)


async def test_terminated_holder_backend_frees_its_locks_and_the_holder_reconnects(
    database_url: str,
    instances: tuple[PgAdvisoryLocks, PgAdvisoryLocks],
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b = instances
    upload = new_id()
    lost: list[set[str]] = []
    a.on_lost = lost.append
    caplog.set_level(logging.WARNING, logger="medpress.db")
    assert await a.try_lock(upload)
    [holder] = await advisory_holders(database_url)
    admin = await asyncpg.connect(database_url)
    try:  # as if A's machine died: its session ends without an unlock
        assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", holder)
    finally:
        await admin.close()
    assert await b.try_lock(upload)
    with anyio.fail_after(WAIT):  # the heartbeat tells A's holders, so their PATCHes stop
        while not lost:
            await anyio.sleep(0.05)
    assert lost == [{upload}]
    assert not await a.try_lock(upload)  # A reconnected; B holds it now
    assert f"locks lost: {upload}" in caplog.text
    await b.unlock(upload)
    assert await a.try_lock(upload)
    assert holder not in await advisory_holders(database_url)


async def test_ask_release_reaches_the_other_instance_only(
    instances: tuple[PgAdvisoryLocks, PgAdvisoryLocks],
) -> None:
    a, b = instances
    upload = new_id()
    seen_by_a: list[str] = []
    seen_by_b: list[str] = []
    arrived = anyio.Event()

    def on_a(name: str) -> None:
        seen_by_a.append(name)
        arrived.set()

    a.on_release_request = on_a
    b.on_release_request = seen_by_b.append
    await b.ask_release(upload)
    with anyio.fail_after(WAIT):
        await arrived.wait()
    await b.try_lock(new_id())  # a round trip: B's own copy has arrived by now
    await anyio.sleep(0.05)
    assert seen_by_a == [upload]
    assert seen_by_b == []


async def test_announce_yield_reaches_the_other_instance(
    instances: tuple[PgAdvisoryLocks, PgAdvisoryLocks],
) -> None:
    a, b = instances
    upload = new_id()
    yielded: list[str] = []
    released: list[str] = []
    arrived = anyio.Event()

    def on_b(name: str) -> None:
        yielded.append(name)
        arrived.set()

    b.on_yield = on_b
    b.on_release_request = released.append
    await a.announce_yield(upload)
    with anyio.fail_after(WAIT):
        await arrived.wait()
    assert yielded == [upload]
    assert released == []


async def test_payloads_are_upload_ids_only(
    instances: tuple[PgAdvisoryLocks, PgAdvisoryLocks],
) -> None:
    a, _ = instances
    with pytest.raises(ValueError):
        await a.ask_release("not-an-id:with\nextra")
    with pytest.raises(ValueError):
        await a.announce_yield(new_id().upper())


async def test_exclusive_is_true_for_exactly_one_concurrent_holder(
    instances: tuple[PgAdvisoryLocks, PgAdvisoryLocks],
) -> None:
    a, b = instances
    results: list[bool] = []
    both_inside = anyio.Event()

    async def sweep(locks: PgAdvisoryLocks) -> None:
        async with locks.exclusive("expiry-sweep") as mine:
            results.append(mine)
            if len(results) == 2:
                both_inside.set()
            await both_inside.wait()

    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(sweep, a)
            tasks.start_soon(sweep, b)
    assert sorted(results) == [False, True]
    async with b.exclusive("expiry-sweep") as mine:  # the transaction ended: free again
        assert mine
        async with a.exclusive("another-sweep") as other:
            assert other


def test_key_derivation_is_stable_and_distinct() -> None:
    upload = "0123456789abcdef0123456789abcdef"
    # A fixed value: every instance, in every process and release, must derive the same key.
    assert advisory_key(upload) == advisory_key(upload) == 5684448642401777150
    keys = {advisory_key(new_id()) for _ in range(1000)} | {advisory_key(upload)}
    assert len(keys) == 1001
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert any(key < 0 for key in keys)  # the whole signed bigint range is used
