"""Shared fixtures: an application on a temporary instance folder, its test client and CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from assessor import create_app

ROOT = Path(__file__).resolve().parent.parent
STANDARDS = ROOT / "standards"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def app(tmp_path):
    return create_app({"TESTING": True, "SECRET_KEY": "test", "STANDARDS_DIR": str(STANDARDS)})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
