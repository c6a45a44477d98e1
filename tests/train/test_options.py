"""The value rules of ferrum.train.options: one rule checks a flag and the same function argument."""

from __future__ import annotations

import argparse
import math
import re

import pytest

from ferrum.train.options import FRACTION, NON_NEGATIVE, POSITIVE, POSITIVE_INT


@pytest.mark.parametrize("rule, good, bad", [
    (POSITIVE_INT, [("1", 1), ("42", 42)], ["0", "-3", "x", "1.5"]),
    (POSITIVE, [("1e-3", 1e-3), ("2", 2.0)], ["0", "-1", "nan", "inf", "x"]),
    (NON_NEGATIVE, [("0", 0.0), ("0.5", 0.5)], ["-0.1", "nan", "inf", "x"]),
    (FRACTION, [("0", 0.0), ("0.9", 0.9)], ["1", "1.5", "-0.1", "nan", "x"]),
])
def test_rule_as_argparse_type_and_as_check(rule, good, bad):
    for text, value in good:
        assert rule(text) == value
        rule.check("job", "arg", value)
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError, match=re.escape(f"expected {rule.what}")):
            rule(text)
        try:
            value = rule.convert(text)
        except ValueError:
            value = text
        with pytest.raises(ValueError, match=re.escape(f"job: arg must be {rule.what}")):
            rule.check("job", "arg", value)


def test_check_refuses_other_types():
    for value in (True, "3", None, [1]):
        with pytest.raises(ValueError, match="mnist-mlp: epochs must be an integer >= 1"):
            POSITIVE_INT.check("mnist-mlp", "epochs", value)
    with pytest.raises(ValueError):
        POSITIVE_INT.check("job", "epochs", 2.0)  # a float is not an integer count
    POSITIVE.check("job", "lr", 1)  # an int is a number
    with pytest.raises(ValueError):
        POSITIVE.check("job", "lr", math.nan)
