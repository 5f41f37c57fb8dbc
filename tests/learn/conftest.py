"""Fixtures for tests/learn."""
from __future__ import annotations

import pytest
from learn_synthetic import body_wave_activity, rhythm_target


@pytest.fixture
def activity():
    return body_wave_activity()


@pytest.fixture
def target():
    return rhythm_target()
