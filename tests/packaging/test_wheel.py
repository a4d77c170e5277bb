"""The wheel on its own: built from this checkout and installed with its dependencies into a fresh virtual
environment, far from the checkout, the installed app must set up its database and serve its pages.

This catches what a test run from the checkout cannot: files the app needs at run time (templates, static files,
migrations) that are missing from the package, a console script that does not start, a dependency left undeclared.
It needs the package index (or pip's cache) and takes tens of seconds; without a network it is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
STANDARDS = ROOT / "standards"
# Left out of the copy the wheel is built from: .git and what .gitignore keeps out of the repository.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.py[cod]", "instance", "artifacts",
    ".pytest_cache", ".hypothesis", "test-results", "*.sqlite", "*.sqlite3", "*.db",
)  # fmt: skip
# What pip prints when it cannot reach the package index, as opposed to a requirement that really cannot be met.
NETWORK_TROUBLE = (
    "NewConnectionError", "Failed to establish a new connection", "Max retries exceeded", "Temporary failure in name",
    "Name or service not known", "Network is unreachable", "ConnectTimeoutError", "ReadTimeoutError", "ProxyError",
)  # fmt: skip

# Run by the fresh environment's interpreter: make the app, fetch pages through Flask's test client, print JSON.
SERVE = """
import json, sys
import assessor

app = assessor.create_app(json.loads(sys.argv[1]))
client = app.test_client()
pages = {}
for path in ("/sign-in", "/standards/", "/static/assessor.css"):
    try:
        response = client.get(path)
        pages[path] = {"status": response.status_code, "body": response.get_data(as_text=True)}
    except Exception as exc:  # TESTING propagates a view's exception: report it rather than a bare traceback
        pages[path] = {"status": None, "error": f"{type(exc).__name__}: {exc}"}
print(json.dumps({"assessor_file": assessor.__file__, "pages": pages}))
"""


def test_wheel_installs_and_serves_pages_in_a_fresh_environment(tmp_path):
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the wheel does not depend on the database: it is checked once, in the SQLite run")
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)  # build from a copy: no build/ or egg-info left in the checkout
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", *build_isolation(), "-w", wheels, source]
    run(build, "build the wheel")
    (wheel,) = wheels.glob("assessor-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        assert "License-Expression: Apache-2.0" in archive.read(metadata).decode().splitlines()
        assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], "create a virtual environment")
    python, bin_dir = venv / "bin" / "python", venv / "bin"
    run([python, "-m", "pip", "install", wheel], "install the wheel and its dependencies")

    outside = tmp_path / "elsewhere"  # not the checkout, so `import assessor` cannot find the source by accident
    outside.mkdir()
    database_url = f"sqlite:///{tmp_path / 'assessor.sqlite'}"
    init = run(
        [bin_dir / "assessor", "init"],
        "run `assessor init`",
        cwd=outside,
        env=clean_env(DATABASE_URL=database_url, ASSESSOR_STANDARDS_DIR=str(STANDARDS), ASSESSOR_SECRET_KEY="wheel"),
    )
    assert "database at" in init.stdout
    assert "loaded" in init.stdout

    config = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "wheel",
        "TESTING": True,
        "STANDARDS_DIR": str(STANDARDS),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    served = run([python, "-I", "-c", SERVE, json.dumps(config)], "serve pages", cwd=outside, env=clean_env())
    result = json.loads(served.stdout)
    assert Path(result["assessor_file"]).resolve().is_relative_to(venv.resolve()), result["assessor_file"]
    pages = result["pages"]
    failed = {path: page.get("error", page["status"]) for path, page in pages.items() if page["status"] != 200}
    assert not failed, failed
    assert "<form" in pages["/sign-in"]["body"] and "Sign in" in pages["/sign-in"]["body"]
    unit_links = [f"/standards/{unit['id']}/v{unit['version']}" for unit in map(load_yaml, STANDARDS.glob("*.yaml"))]
    assert any(link in pages["/standards/"]["body"] for link in unit_links), unit_links
    assert pages["/static/assessor.css"]["body"].strip()


def build_isolation() -> list[str]:
    """--no-build-isolation when this interpreter already has what [build-system] requires, else nothing."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for requirement in map(Requirement, requires):
        try:
            if not requirement.specifier.contains(version(requirement.name), prereleases=True):
                return []
        except PackageNotFoundError:
            return []
    return ["--no-build-isolation"]


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without what would point Python, Flask or the app elsewhere, plus `settings`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTHON", "VIRTUAL_ENV", "FLASK_", "ASSESSOR_")) and name != "DATABASE_URL"
    }
    return {**env, **settings}


def run(command: list, what: str, **options) -> subprocess.CompletedProcess[str]:
    """Run `command`; skip the test if pip could not reach the package index, fail it on any other error."""
    options.setdefault("env", clean_env())
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=900, **options)
    if result.returncode != 0:
        output = f"{result.stdout}\n{result.stderr}"
        if any(sign in output for sign in NETWORK_TROUBLE) or ("(from versions: none)" in output and not index_works()):
            pytest.skip(f"cannot {what}: the package index is unreachable\n{output[-2000:]}")
        pytest.fail(f"could not {what} (exit {result.returncode}):\n{output[-6000:]}")
    return result


def index_works() -> bool:
    """Whether pip finds any version of pip itself: if not, a requirement found in no version means no index, not a bad
    name (pip says only that when it is told not to retry, or when the index answers but is empty)."""
    probe = [sys.executable, "-m", "pip", "index", "versions", "pip"]
    return subprocess.run(probe, capture_output=True, timeout=300, env=clean_env()).returncode == 0


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())
