"""Shared fixtures for the seeds tests."""

from __future__ import annotations

import pytest

from seeds.demo import DemoData, demo_data


@pytest.fixture(scope="session")
def data() -> DemoData:
    """Return the default demo data set."""
    return demo_data()
