"""Bad query params are ignored with a visible warning: never an exception page."""
from __future__ import annotations

import pytest

from app_support import DIGITS, assert_clean, open_app

BAD_LINKS = [
    ("explore", {"model": "no_such_model"}),
    ("explore", {"model": "../../etc"}),
    ("explore", {"model": "pretrained/../../etc/passwd"}),
    ("explore", {"model": DIGITS, "z": "nan,0,0,0,0,0,0,0"}),
    ("explore", {"model": DIGITS, "z": "inf,0,0,0,0,0,0,0"}),
    ("explore", {"model": DIGITS, "z": "1,2"}),
    ("explore", {"model": DIGITS, "z": "one,two,three,four,five,six,seven,eight"}),
    ("explore", {"model": DIGITS, "i": "-4"}),
    ("explore", {"model": DIGITS, "spread": "everywhere"}),
    ("interpolate", {"model": DIGITS, "a": "99999"}),
    ("interpolate", {"model": DIGITS, "steps": "1e9"}),
    ("interpolate", {"model": DIGITS, "method": "cubic"}),
    ("map", {"model": DIGITS, "n": "0"}),
    ("map", {"model": DIGITS, "method": "lda"}),
    ("compare", {"model": DIGITS, "models": "pretrained/digits_vae,../../etc"}),
    ("sample", {"model": DIGITS, "t": "nan"}),
    ("sample", {"model": DIGITS, "seed": "-1"}),
]


@pytest.mark.parametrize(("page", "query"), BAD_LINKS, ids=[f"{p}-{'&'.join(f'{k}={v}' for k, v in q.items())}" for p, q in BAD_LINKS])
def test_bad_link_warns_and_the_page_still_works(page, query):
    at = open_app(page, **query)
    assert_clean(at)
    name = next(k for k, v in query.items() if v != DIGITS)
    assert any(query[name] in w.value for w in at.warning), [w.value for w in at.warning]  # names the bad value
    assert at.title
    assert at.query_params.get(name) != query[name]  # and the link no longer holds it
