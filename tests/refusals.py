"""The two helpers of the table-driven reliability tests: ``check`` runs one row (the call must
raise that error type, and its message must hold each word), ``ids`` names the rows."""

import pytest


def check(call, exc, words):
    """``call()`` raises ``exc`` whose message contains ``words`` (a string or several)."""
    with pytest.raises(exc) as info:
        call()
    msg = str(info.value)
    for word in [words] if isinstance(words, str) else words:
        assert word in msg, f"{word!r} not in the message: {msg}"
    return msg


def ids(table):
    """``'007-word'``: the row's number and the first word its message must hold."""
    return [f"{i:03d}-{row[-1] if isinstance(row[-1], str) else row[-1][0]}"
            for i, row in enumerate(table)]
