"""Installs are the lock's: make, CI and every Dockerfile install exactly uv.lock, one uv
version is named everywhere, and each service's production install holds what it imports and
no development package. The install test builds each service's environment as its image does
(uv from the lock, no dev group, not editable) and imports every module in it."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from docs_support import ROOT

SERVICES = {
    "qr-issuer": "qr_issuer",
    "scan-gateway": "scan_gateway",
    "account": "account",
    "notifier": "notifier",
    "wechat-sandbox": "wechat_sandbox",
}
# Packages that exist for development and tests only; no image may carry them.
DEV_ONLY = {"fakeredis", "secantusdb", "pytest", "mypy", "ruff", "playwright", "uv"}
UV = Path(sys.executable).with_name("uv")
DOCKERFILE = ROOT / "services" / "Dockerfile"


def lock() -> dict[str, object]:
    return tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))


def locked_version(name: str) -> str:
    packages = lock()["package"]
    assert isinstance(packages, list)
    return next(str(p["version"]) for p in packages if p["name"] == name)


def makefile_uv_version() -> str:
    match = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert match, "the Makefile names the uv it bootstraps"
    return match.group(1)


def test_one_uv_version_everywhere() -> None:
    version = makefile_uv_version()
    assert locked_version("uv") == version
    assert f"uv=={version}" in DOCKERFILE.read_text()


def test_make_and_ci_install_only_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    installs = re.findall(r"^\t.*\b(?:pip|uv) (?:install|sync)\b.*$", makefile, re.M)
    assert installs
    for line in installs:
        # Only three installs may resolve by themselves: the bootstrap of the pinned uv, the
        # sync of the lock (--frozen: never re-resolve), and the lowest-versions job.
        assert (
            f"uv=={'$(UV_VERSION)'}" in line or "sync --frozen" in line or "lowest-direct" in line
        ), line
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test\n" in ci
    assert "make test-lowest\n" in ci
    assert "||" not in ci, "CI must not hide a failure"


def test_the_image_recipe_pins_its_base_and_installs_one_share_of_the_lock() -> None:
    dockerfile = DOCKERFILE.read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.M)
    assert base, "the base image is named once"
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base.group(1)), "pinned to a patch release"
    assert 'uv sync --frozen --no-dev --no-editable --package "$SERVICE"\n' in dockerfile
    assert "pip install" not in dockerfile.replace("pip install --no-cache-dir uv==", "")
    assert not list((ROOT / "services").glob("*/Dockerfile")), "one recipe, not a copy each"


def test_the_lock_is_current() -> None:
    """A pyproject.toml changed without `make lock` fails here, not on a fresh machine."""
    result = subprocess.run(  # noqa: S603  # our own uv, fixed arguments
        [str(UV), "lock", "--check", "--offline"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_a_service_install_holds_what_it_imports_and_no_dev_package(
    name: str, tmp_path: Path
) -> None:
    # Build from the files git tracks, as the image's build context holds them: a leftover
    # build/ folder in the working tree would otherwise be packed instead of the sources.
    context = tmp_path / "context"
    tracked = subprocess.run(  # fixed arguments
        ["git", "ls-files", "-z", "pyproject.toml", "uv.lock", "shared", "services", "devstack"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, tracked.split("\0")):
        (context / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, context / rel)
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv")}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(  # noqa: S603  # our own uv, fixed arguments
        [
            str(UV),
            "sync",
            "-q",
            "--offline",
            "--frozen",
            "--no-dev",
            "--no-editable",
            "--package",
            name,
            "--python",
            sys.executable,
        ],
        cwd=context,
        env=env,
        check=True,
    )
    python = tmp_path / "venv" / "bin" / "python"
    module = SERVICES[name]
    # Every module of the service imports with only its declared dependencies installed.
    script = (
        "import importlib, importlib.metadata as md, pkgutil, sys\n"
        f"import {module} as root\n"
        "for info in pkgutil.walk_packages(root.__path__, root.__name__ + '.'):\n"
        "    if not info.name.endswith('.__main__'):\n"
        "        importlib.import_module(info.name)\n"
        "print('\\n'.join(sorted(d.metadata['Name'].lower() for d in md.distributions())))\n"
    )
    result = subprocess.run(  # noqa: S603  # the venv just built
        [str(python), "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    installed = set(result.stdout.split())
    assert name in installed
    assert "shared" in installed
    assert not installed & DEV_ONLY, f"{name} ships {installed & DEV_ONLY}"
    assert ("pyjwt" in installed) == (name == "account"), "only account signs tokens"


PACKAGES = {"shared": ROOT / "shared", "devstack": ROOT / "devstack"} | {
    name: ROOT / "services" / name for name in SERVICES
}


def imported_distributions(src: Path) -> set[str]:
    """Third-party distributions the modules under `src` import (top-level names)."""
    tops: set[str] = set()
    for path in src.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                tops.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                tops.add(node.module.split(".")[0])
    owners = importlib.metadata.packages_distributions()
    return {canonical(d) for top in tops for d in owners.get(top, [])}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(project: Path) -> set[str]:
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(meta["dependencies"])
    for extra in meta.get("optional-dependencies", {}).values():
        requirements += extra
    return {canonical(re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0]) for r in requirements}


@pytest.mark.parametrize("name", PACKAGES)
def test_each_package_declares_what_it_imports(name: str) -> None:
    project = PACKAGES[name]
    ours = {canonical(n) for n in PACKAGES}
    missing = imported_distributions(project / "src") - declared(project) - ours
    assert not missing, f"{name} imports {missing} without declaring them"
