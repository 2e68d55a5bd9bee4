"""Content negotiation for the SPARQL endpoint (RFC 9110 §12.5.1 Accept)."""

from __future__ import annotations

import math

import pytest

from endpoint.negotiation import MediaRange, choose, parse_accept
from endpoint.sparql import PAGE_TYPE, SD_FORMATS

JSON = "application/sparql-results+json"
XML = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
RESULTS = [JSON, XML, CSV, TSV]


@pytest.mark.parametrize("accept", [None, ""])
def test_no_accept_header_gives_the_first_offer(accept):
    assert choose(accept, RESULTS) == JSON
    assert choose(accept, [CSV, JSON]) == CSV


def test_no_offers_gives_none():
    assert choose(None, []) is None
    assert choose("*/*", []) is None


def test_exact_type_is_chosen():
    assert choose(CSV, RESULTS) == CSV
    assert choose(TSV, RESULTS) == TSV


def test_exact_range_beats_a_wildcard_with_lower_q():
    assert choose("*/*;q=0.1, text/csv", RESULTS) == CSV


def test_most_specific_range_sets_the_q_of_an_offer_even_when_lower_than_the_wildcard():
    # text/csv gets q=0.2 from its own range, not q=1 from */*; so the first other offer wins.
    assert choose("text/csv;q=0.2, */*", [CSV, JSON]) == JSON


def test_higher_q_wins():
    assert choose("text/csv;q=0.5, application/sparql-results+json", RESULTS) == JSON
    assert choose("application/sparql-results+json;q=0.4, text/csv;q=0.6", RESULTS) == CSV


def test_equal_q_goes_to_the_earlier_offer_not_the_earlier_range():
    assert choose("text/csv, application/sparql-results+json", RESULTS) == JSON


def test_q_zero_makes_an_offer_unacceptable():
    assert choose("text/csv;q=0", [CSV]) is None
    assert choose("*/*, application/sparql-results+json;q=0", RESULTS) == XML


def test_type_wildcard_matches_subtypes_of_that_type():
    assert choose("text/*", RESULTS) == CSV
    assert choose("text/*;q=0.5, text/tab-separated-values", RESULTS) == TSV


def test_type_wildcard_does_not_match_another_type():
    assert choose("image/*", RESULTS) is None


def test_full_wildcard_gives_the_first_offer():
    assert choose("*/*", RESULTS) == JSON


@pytest.mark.parametrize("accept", ["image/png", "text/html", "application/xml", "*/*;q=0"])
def test_nothing_acceptable_gives_none(accept):
    assert choose(accept, RESULTS) is None


def test_malformed_q_counts_as_one():
    assert parse_accept("text/csv;q=abc") == [MediaRange("text", "csv", 1.0)]
    assert choose("text/csv;q=abc, application/sparql-results+json;q=0.9", RESULTS) == CSV


@pytest.mark.parametrize(
    ("value", "q"), [("0.25", 0.25), ("0.125", 0.125), ("1.0", 1.0), ("5", 1.0)]
)
def test_q_is_read_as_a_number_of_at_most_one(value, q):
    assert parse_accept(f"text/csv;q={value}")[0].q == q


def test_media_types_are_case_insensitive():
    assert choose("Text/CSV", RESULTS) == CSV


def test_other_parameters_do_not_prevent_a_match():
    assert choose("application/sparql-results+json; charset=utf-8", RESULTS) == JSON
    assert parse_accept("text/csv ; charset=utf-8 ; Q = 0.3") == [MediaRange("text", "csv", 0.3)]


def test_parse_accept_skips_empty_and_malformed_ranges():
    assert parse_accept("garbage, , text/csv,/json, text/") == [MediaRange("text", "csv", 1.0)]


def test_header_of_only_malformed_ranges_counts_as_no_preference():
    assert choose("garbage", RESULTS) == JSON


def test_typical_browser_accept_header():
    # text/html and application/xhtml+xml match nothing we offer, and application/xml is a
    # different media type from application/sparql-results+xml (subtypes are compared whole,
    # RFC 9110 §12.5.1; +xml is only a structured-syntax suffix). So every offer gets its q
    # from */*;q=0.8, all tie, and the tie goes to our first offer: SPARQL JSON results.
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert choose(browser, RESULTS) == JSON
    assert choose(browser, [XML, JSON]) == XML


def test_browser_header_picks_html_when_html_is_offered():
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert choose(browser, ["application/json", "text/html"]) == "text/html"


def test_q_nan_is_malformed_and_counts_as_one():
    (media_range,) = parse_accept("text/csv;q=nan")
    assert not math.isnan(media_range.q)
    assert choose("text/csv;q=nan", RESULTS) == CSV


# What GET /sparql without a query offers: its Service Description, Turtle first, or its page
DESCRIPTION_OR_PAGE = [*SD_FORMATS, PAGE_TYPE]


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("text/turtle, */*;q=0.1", "text/turtle"),
        ("text/turtle;q=0.9, text/html;q=0.1", "text/turtle"),
        ("*/*", "text/turtle"),
        (None, "text/turtle"),
        (
            "application/n-quads,application/trig;q=0.95,application/ld+json;q=0.9,"
            "text/turtle;q=0.6,text/html;q=0.2,*/*;q=0.1",
            "application/n-quads",
        ),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
    ],
)
def test_html_is_chosen_only_when_preferred(accept, chosen):
    assert choose(accept, DESCRIPTION_OR_PAGE) == chosen
