"""Shared fixtures: the repository's files, and visible skips (failures under CI)."""

import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def need(what: str, how: str):
    """Skips, saying why and how to get it; under CI (which provides it) fails instead."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing; CI must provide it ({how})")
    sys.stderr.write(f"SKIPPED: {what} is missing ({how})\n")
    pytest.skip(f"{what} is missing ({how})")


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def model():
    import logsift

    return logsift.Model.load()


@pytest.fixture(scope="session")
def labeled_csv():
    return ROOT / "corpus" / "train.csv"
