"""Opt in to the Aegis conformance suite: rewrite its asserts before it is imported.

Copy this file to the root of your plugin's project; without it a failing conformance
check shows a bare ``AssertionError`` instead of the compared values.
"""

import pytest

pytest.register_assert_rewrite("aegis.testing")
