"""genrl_lib.book.claim, chapter_seed and the glue/claim dump used by scripts/numeric_spread.py."""

import json

import numpy as np
import pytest

from genrl_lib.book import ClaimError, chapter_seed, claim, glue


def test_claim_passes_and_returns_the_value():
    assert claim("above", 3.0, ">=", 2) == 3.0
    v = np.array([1.0, 2.0])
    assert claim("every seed in band", v, "in", (0, 3)) is v
    assert claim("all true", np.array([True, True])) is not None
    claim("equal", 5, "==", 5)
    claim("below each", np.array([1, 2]), "<", np.array([2, 3]))


@pytest.mark.parametrize("value, op, bound", [(1.0, ">", 1.0), (2.0, "<=", 1.0), (np.array([1.0, 5.0]), "in", (0, 3)),
                                              (np.array([3.0, 1.0]), ">=", 2), (4, "!=", 4), (4, "==", 5)])
def test_failed_claim_explains_itself(value, op, bound):
    with pytest.raises(ClaimError) as e:
        claim("GAIL scores far above BC", value, op, bound, note="5/5 seeds in the committed benchmark")
    msg = str(e.value)
    assert "Claim not confirmed: GAIL scores far above BC" in msg
    assert "obtained:" in msg and "expected:" in msg and "5/5 seeds" in msg
    assert "another processor" in msg and "GENRL_BOOK_SEED" in msg
    assert isinstance(e.value, AssertionError)          # nbval and the book build fail on it


def test_failed_truth_claim():
    with pytest.raises(ClaimError, match="obtained: False"):
        claim("delivered", False)
    with pytest.raises(ClaimError, match=r"\[ True, False\]"):
        claim("every seed delivered", np.array([True, False]))


@pytest.mark.parametrize("kwargs, exc, pattern", [
    (dict(what="", value=1.0, op=">", bound=0), ValueError, "'what' must be a non-empty string"),
    (dict(what=None, value=1.0, op=">", bound=0), ValueError, "'what' must be a non-empty string"),
    (dict(what="x", value=float("nan"), op=">", bound=0), ValueError, "value must be finite"),
    (dict(what="x", value=np.array([1.0, np.inf]), op=">", bound=0), ValueError, "value must be finite"),
    (dict(what="x", value=1.0, op=">", bound=float("nan")), ValueError, "bound must be finite"),
    (dict(what="x", value=1.0, op=">", bound="a"), TypeError, "bound must be a number"),
    (dict(what="x", value="a", op=">", bound=1), TypeError, "value must be a number"),
    (dict(what="x", value=1.0, op=">", bound=None), TypeError, "needs a numeric bound"),
    (dict(what="x", value=1.0, op=">", bound=True), TypeError, "needs a numeric bound"),
    (dict(what="x", value=1.0, op="in", bound=3), TypeError, r"\(low, high\) pair"),
    (dict(what="x", value=1.0, op="in", bound=(3, 1)), ValueError, "low > high"),
    (dict(what="x", value=1.0, op="~", bound=1), ValueError, "unknown op '~'"),
    (dict(what="x", value=1.0), TypeError, "without an op, value must be a bool"),
    (dict(what="x", value=True, bound=1), TypeError, "a bound needs an op"),
    (dict(what="x", value=[], op=">", bound=0), ValueError, "value is empty"),
])
def test_bad_arguments_are_refused_by_name(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        claim(**kwargs)


def test_chapter_seed(monkeypatch):
    monkeypatch.delenv("GENRL_BOOK_SEED", raising=False)
    assert chapter_seed() == 0 and chapter_seed(3) == 3
    monkeypatch.setenv("GENRL_BOOK_SEED", "7")
    assert chapter_seed() == 7
    monkeypatch.setenv("GENRL_BOOK_SEED", "-1")
    with pytest.raises(ValueError, match="GENRL_BOOK_SEED must be a non-negative integer"):
        chapter_seed()


def test_dump_records_glue_and_claims(tmp_path, monkeypatch):
    path = tmp_path / "dump.jsonl"
    monkeypatch.setenv("GENRL_GLUE_DUMP", str(path))
    glue("x", np.float64(1.5))
    glue("fig", object())                                # not a number: not recorded
    claim("x is positive", 1.5, ">", 0)
    with pytest.raises(ClaimError):
        claim("x is large", np.array([1.0, 2.0]), ">", 5)
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    assert recs[0] == {"kind": "glue", "name": "x", "value": 1.5}
    assert recs[1]["kind"] == "claim" and recs[1]["ok"] is True and recs[1]["bound"] == 0
    assert recs[2]["ok"] is False and recs[2]["value"] == [1.0, 2.0]
    assert len(recs) == 3


def test_spread_of_every_range_a_chapter_quotes_is_recorded():
    """Each spread_of(chapter, key) a chapter calls is in the committed genrl_lib/data/numeric_spread.json, with
    low <= high over at least 4 runs (several seeds and emulated CPUs)."""
    import re
    from pathlib import Path

    from genrl_lib.book import spread_of

    calls = set()
    for md in (Path(__file__).resolve().parents[1] / "book").glob("*.md"):
        calls |= {(md.stem, *m) for m in re.findall(r'spread_of\("(\w+)", "(\w+)"\)', md.read_text())}
    assert calls, "no chapter quotes a measured spread"
    for md_stem, chapter, key in calls:
        assert chapter == md_stem, f"{md_stem}.md quotes another chapter's spread ({chapter})"
        low, high, runs = spread_of(chapter, key)
        assert low <= high and runs >= 4, (chapter, key, low, high, runs)


def test_spread_of_unknown_names_say_how_to_measure():
    from genrl_lib.book import spread_of

    with pytest.raises(KeyError, match="no recorded spread.*numeric_spread.py nope"):
        spread_of("nope", "x")
    with pytest.raises(KeyError, match="'no_such_key' has no recorded spread"):
        spread_of("gail", "no_such_key")
