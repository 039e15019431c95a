"""Splink's notice about a default max_pairs is dropped only around our configured u sampling."""

import logging

from linkage.training import _ConfiguredMaxPairs


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("splink", logging.WARNING, __file__, 1, message, None, None)


def test_only_the_default_max_pairs_notice_is_dropped():
    quiet = _ConfiguredMaxPairs()
    assert not quiet.filter(_record("You are using the default value for `max_pairs`, which"))
    assert quiet.filter(_record("Comparison: 'surname': u values not fully trained"))
