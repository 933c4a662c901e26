from __future__ import annotations

import os
import re
import threading
import time
import types
import uuid
import warnings

import pytest

from inferwatch import _ids
from inferwatch._ids import new_prediction_id, new_prediction_ids, prediction_id_time_ns

CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_ids_are_canonical_uuid7_with_rfc_variant() -> None:
    for prediction_id in [new_prediction_id(), *new_prediction_ids(50)]:
        parsed = uuid.UUID(prediction_id)
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == prediction_id  # lowercase, hyphenated: the canonical form
        assert CANONICAL.fullmatch(prediction_id)


def test_ids_in_a_tight_loop_are_unique_and_strictly_increasing() -> None:
    ids = [new_prediction_id() for _ in range(20_000)]  # many per millisecond
    assert all(a < b for a, b in zip(ids, ids[1:], strict=False))
    assert len(set(ids)) == len(ids)
    # string order is the order of the 128-bit numbers
    assert [uuid.UUID(i).int for i in ids] == sorted(uuid.UUID(i).int for i in ids)


def test_batch_ids_are_strictly_increasing_and_continue_after_single_ids() -> None:
    before = new_prediction_id()
    batch = new_prediction_ids(1_000)
    after = new_prediction_id()
    assert len(batch) == 1_000
    assert before < batch[0]
    assert all(a < b for a, b in zip(batch, batch[1:], strict=False))
    assert batch[-1] < after


def test_no_ids_for_an_empty_batch() -> None:
    assert new_prediction_ids(0) == []


def test_ids_made_by_many_threads_never_collide() -> None:
    per_thread: dict[int, list[str]] = {}
    start = threading.Barrier(8)

    def make(index: int) -> None:
        start.wait()
        ids = [new_prediction_id() for _ in range(3_000)]
        ids += new_prediction_ids(500)
        per_thread[index] = ids

    threads = [threading.Thread(target=make, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for ids in per_thread.values() for i in ids]
    assert len(every) == 8 * 3_500
    assert len(set(every)) == len(every)
    for ids in per_thread.values():  # each thread also sees its own ids increase
        assert ids == sorted(ids)


def test_the_time_inside_an_id_is_when_it_was_made() -> None:
    before = time.time_ns() // 1_000_000 * 1_000_000
    prediction_id = new_prediction_id()
    after = time.time_ns()
    encoded = prediction_id_time_ns(prediction_id)
    assert encoded is not None
    assert before <= encoded <= after
    assert encoded % 1_000_000 == 0  # millisecond precision


def test_time_of_the_rfc_9562_example_uuid7() -> None:
    # RFC 9562 appendix A.6: 2022-02-22 19:22:22.000 UTC
    assert prediction_id_time_ns("017f22e2-79b0-7cc3-98c4-dc0c0c07398f") == 1645557742000 * 10**6
    assert prediction_id_time_ns("017F22E2-79B0-7CC3-98C4-DC0C0C07398F") == 1645557742000 * 10**6


@pytest.mark.parametrize(
    "other",
    [
        str(uuid.uuid4()),
        "017f22e2-79b0-6cc3-98c4-dc0c0c07398f",  # version 6
        "017f22e2-79b0-7cc3-c8c4-dc0c0c07398f",  # variant not 0b10
        "017f22e279b07cc398c4dc0c0c07398f",  # no hyphens
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398",  # short
        " 017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
        "0_7f22e2-79b0-7cc3-98c4-dc0c0c07398f",  # int() would accept the underscore
        "order-42",
        "",
        42,
        None,
        uuid.UUID("017f22e2-79b0-7cc3-98c4-dc0c0c07398f"),  # not a string
    ],
)
def test_anything_but_a_uuid7_string_has_no_time(other: object) -> None:
    assert prediction_id_time_ns(other) is None  # type: ignore[arg-type]


def _frozen_clock(monkeypatch: pytest.MonkeyPatch, now_ns: int) -> None:
    """A clock that stands still or steps back: a fault the real clock cannot be made to show.

    The generator's state is put back after the test, so later ids carry the real time.
    """
    monkeypatch.setattr(_ids, "_last_key", _ids._last_key)
    monkeypatch.setattr(_ids, "time", types.SimpleNamespace(time_ns=lambda: now_ns))


def test_ids_keep_increasing_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    first = new_prediction_id()
    _frozen_clock(monkeypatch, time.time_ns() - 3_600 * 10**9)  # an hour back
    later = [new_prediction_id() for _ in range(100)]
    assert first < later[0]
    assert later == sorted(set(later))


def test_counter_overflow_carries_into_the_next_millisecond(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now_ns = time.time_ns() + 10**9  # ahead of every id made so far
    _frozen_clock(monkeypatch, now_ns)
    first = new_prediction_id()
    _ids._reserve(1 << 42)  # use up the whole counter of this millisecond
    carried = new_prediction_id()
    assert first < carried
    assert prediction_id_time_ns(first) == now_ns // 1_000_000 * 1_000_000
    assert prediction_id_time_ns(carried) == prediction_id_time_ns(first) + 1_000_000  # type: ignore[operator]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    new_prediction_id()  # parent state (counter, random generator) that the child inherits
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, Python >= 3.12
        pid = os.fork()
    if pid == 0:
        os.write(write_end, "\n".join(new_prediction_ids(200)).encode())
        os._exit(0)
    os.close(write_end)
    parent_ids = new_prediction_ids(200)
    with os.fdopen(read_end) as pipe:
        child_ids = pipe.read().split("\n")
    os.waitpid(pid, 0)
    assert len(child_ids) == 200
    assert not set(child_ids) & set(parent_ids)


def test_ids_after_a_faked_clock_carry_the_real_time_again() -> None:
    # runs after the fake-clock tests above (file order): their future ids are forgotten
    encoded = prediction_id_time_ns(new_prediction_id())
    assert encoded is not None and encoded <= time.time_ns()


def test_an_id_made_for_a_given_time_carries_that_millisecond(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_ids, "_last_key", _ids._last_key)  # later ids carry the real time
    now_ns = time.time_ns() + 60 * 10**9  # ahead of every id made so far: a fresh millisecond
    single = new_prediction_id(now_ns)
    batch = new_prediction_ids(3, now_ns)
    millisecond = now_ns // 1_000_000 * 1_000_000
    assert [prediction_id_time_ns(i) for i in [single, *batch]] == [millisecond] * 4
    assert single < batch[0] < batch[1] < batch[2]


def test_an_id_made_for_an_earlier_time_still_sorts_after_the_last_one() -> None:
    # A call that started before the last id was made: ids stay strictly increasing.
    latest = new_prediction_id()
    earlier = new_prediction_id(time.time_ns() - 10**9)
    assert latest < earlier
    assert CANONICAL.fullmatch(earlier)


def test_ids_across_many_counter_prefixes_are_canonical_and_increasing() -> None:
    # The first 24 characters are formatted once per 65,536 ids: cross that boundary.
    ids = new_prediction_ids(70_000) + [new_prediction_id() for _ in range(70_000)]
    assert all(a < b for a, b in zip(ids, ids[1:], strict=False))
    for prediction_id in ids[::997] + ids[-3:]:
        assert str(uuid.UUID(prediction_id)) == prediction_id
        assert CANONICAL.fullmatch(prediction_id)
