"""Root conftest: opt in to the conformance suite (rewrite its asserts before import)."""

import pytest

pytest.register_assert_rewrite("aegis.testing")
