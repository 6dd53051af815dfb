"""Packaging stays working: the sdist builds, a wheel builds from it in an
isolated environment, installs into a fresh venv and runs the smoke
program (libevent face, asyncio face, aiohttp) from outside the source
tree.  The work is tools/dist.py's, the same code ``make dist`` runs; this
test runs it for the interpreter of the test suite and checks what it made.

Marked ``packaging`` (deselected from a plain ``pytest`` run by
pyproject.toml's addopts, since it compiles the extension once more);
``make test`` runs it through ``make test-packaging``.
"""
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.packaging, pytest.mark.slow]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "dist.py"), "--outdir", str(out), "--python", sys.executable],
        capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out, proc.stdout


def test_sdist_carries_every_build_source(dist):
    out, _ = dist
    (sdist,) = out.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ["setup.py", "pyproject.toml", "LICENSE", "evloop/_evloop.pyx",
                   "evloop/core/cimports.pxi", "evloop/aio/loop.pyx", "evloop/aio/loop.pxd",
                   "evloop/includes/system.pxd", "evloop/_evloop.pyi", "evloop/py.typed"]:
        assert needed in names, needed
    tracked = subprocess.run(["git", "ls-files", "evloop"], cwd=ROOT, capture_output=True, text=True)
    if tracked.returncode == 0:
        for src in tracked.stdout.split():
            if src.endswith((".pyx", ".pxd", ".pxi")):
                assert src in names, src
    assert "evloop/_evloop.c" not in names


def test_wheel_ships_runtime_files_only(dist):
    out, _ = dist
    (wheel,) = out.glob("*.whl")
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert f"-{tag}-{tag}-" in wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "evloop/py.typed" in names and "evloop/_evloop.pyi" in names
    assert any(n.startswith("evloop/_evloop.") and n.endswith(".so") for n in names)
    assert not [n for n in names if n.endswith((".c", ".pyx", ".pxd", ".pxi"))]
    assert any(n.endswith("licenses/LICENSE") for n in names)


def test_wheel_is_manylinux_when_auditwheel_is_installed(dist):
    out, log = dist
    (wheel,) = out.glob("*.whl")
    if "auditwheel is not installed" in log:
        pytest.skip("auditwheel not installed: the wheel keeps its linux_* tag")
    assert "manylinux" in wheel.name, wheel.name


def test_installed_wheel_runs_outside_the_source_tree(dist):
    _, log = dist
    smoke = [ln for ln in log.splitlines() if ln.startswith("smoke ok ")]
    assert len(smoke) == 1, log[-2000:]
    _, _, version, pkg_dir, pyver = smoke[0].split()
    assert not Path(pkg_dir).is_relative_to(ROOT), pkg_dir
    assert pyver.startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    import evloop
    assert version == evloop.__version__
