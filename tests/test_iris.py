"""Minting instance and graph IRIs: stable record keys, time-ordered run keys."""

from __future__ import annotations

import pytest

from creative_graph.iris import KEY_LENGTH, Iris, record_key, run_key

CROCKFORD = set("0123456789abcdefghjkmnpqrstvwxyz")


def test_record_key_is_stable_across_calls():
    assert record_key("brussels-culture-poi", "946289") == record_key(
        "brussels-culture-poi", "946289"
    )


def test_record_key_differs_by_record_id():
    assert record_key("brussels-culture-poi", "946289") != record_key(
        "brussels-culture-poi", "946290"
    )


def test_record_key_differs_by_source():
    assert record_key("brussels-culture-poi", "946289") != record_key("other-source", "946289")


def test_record_key_does_not_just_concatenate_source_and_id():
    assert record_key("ab", "c") != record_key("a", "bc")


@pytest.mark.parametrize(
    ("source", "record_id"),
    [("brussels-culture-poi", "946289"), ("s", ""), ("", ""), ("bron", "Théâtre/1 ?#")],
)
def test_record_key_has_fixed_length_and_crockford_characters(source, record_id):
    key = record_key(source, record_id)
    assert len(key) == KEY_LENGTH
    assert set(key) <= CROCKFORD


def test_crockford_alphabet_leaves_out_ambiguous_letters():
    keys = "".join(record_key("source", str(number)) for number in range(2000))
    assert not set(keys) & set("ilou")
    assert set(keys) == CROCKFORD  # and all 32 characters are used


def test_record_keys_of_many_records_do_not_collide():
    keys = {record_key("brussels-culture-poi", str(number)) for number in range(20_000)}
    assert len(keys) == 20_000


def test_run_key_is_26_crockford_characters():
    key = run_key()
    assert len(key) == 26
    assert set(key) <= CROCKFORD


def test_run_keys_sort_in_time_order():
    times = [0, 1, 2, 999, 1_000, 1_700_000_000_000, 1_700_000_000_001, 2**48 - 1]
    keys = [run_key(now_ms=ms) for ms in times]
    assert sorted(keys) == keys


def test_run_keys_of_the_same_millisecond_share_the_time_prefix_but_differ():
    first, second = run_key(now_ms=1_700_000_000_000), run_key(now_ms=1_700_000_000_000)
    assert first[:10] == second[:10]  # ULID layout: 10 characters of time, 16 of randomness
    assert first != second


def test_run_key_without_time_is_later_than_a_past_time():
    assert run_key() > run_key(now_ms=1_700_000_000_000)


def test_thing_iri_adds_the_missing_slash_to_the_base():
    assert Iris("http://x.org").thing("actor", "k") == "http://x.org/id/actor/k"


def test_thing_iri_keeps_a_base_that_ends_with_a_slash():
    assert Iris("http://x.org/").thing("actor", "k") == "http://x.org/id/actor/k"


def test_base_with_a_path_is_kept():
    assert Iris("https://example.org/cg").thing("site", "k") == "https://example.org/cg/id/site/k"


def test_graph_iri():
    assert Iris("http://x.org").graph("src") == "http://x.org/graph/src"


def test_ontology_and_runs_graphs():
    iris = Iris("http://x.org/")
    assert iris.ontology_graph == "http://x.org/graph/ontology"
    assert iris.runs_graph == "http://x.org/graph/runs"
