"""Build evloop's release artefacts the way a user installs them, and prove
each one installs and runs.

    python tools/dist.py [--outdir dist] [--python PY ...] [--no-repair]

1. ``python -m build --sdist``: the source distribution (MANIFEST.in says
   what it carries), checked to hold every Cython source git tracks and no
   generated C or binaries.
2. For each interpreter (default: every CPython 3.10+ found, pyenv's
   builds or ``python3.X`` on PATH): ``pip wheel`` **from the sdist**, in
   pip's isolated build environment, so the wheel is what a user building
   from PyPI's sdist gets.
3. ``auditwheel repair`` to the ``manylinux`` tag the wheel's symbols allow
   (where auditwheel and patchelf are installed; ``--no-repair`` skips it).
4. A fresh venv per interpreter, the wheel and aiohttp installed into it,
   and ``tests/packaging/smoke.py`` run from a directory outside the
   source tree.

Build dependencies (setuptools, Cython) and aiohttp are pinned to the
versions of ``requirements-dev.lock`` through a constraints file, so an
isolated build is as reproducible as the test environment.  pip's cache is
used as usual.  ``tests/packaging/test_packaging.py`` runs this for the
test interpreter; ``make dist`` for every interpreter.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMOKE = os.path.join(ROOT, "tests", "packaging", "smoke.py")
LOCK = os.path.join(ROOT, "requirements-dev.lock")
# What the build and the smoke program take from the lock.
PINNED = ("setuptools", "cython", "aiohttp")


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def lock_constraints(path):
    """``name==version ; marker`` lines of the lock (uv's format, hashes
    dropped) for the packages in PINNED and everything else too: pip reads
    a constraints file only for the packages it actually installs."""
    lines = []
    with open(path) as f:
        for raw in f:
            m = re.match(r"^([A-Za-z0-9_.\-]+==[^\s\\;]+)\s*(;[^\\]*)?", raw)
            if m:
                lines.append(m.group(1) + (" " + m.group(2).strip() if m.group(2) else ""))
    names = {re.split(r"==", ln)[0].lower() for ln in lines}
    missing = [p for p in PINNED if p not in names]
    if missing:
        raise SystemExit(f"{path} pins none of {missing}")
    return lines


def find_pythons():
    found = {}
    pyenv = os.path.join(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")), "versions")
    for minor in range(10, 30):
        v = f"3.{minor}"
        cands = sorted(glob.glob(os.path.join(pyenv, f"{v}.*", "bin", "python3")))
        cands = [c for c in cands if re.search(rf"/{re.escape(v)}\.\d+/bin/python3$", c)]
        exe = cands[-1] if cands else shutil.which(f"python{v}")
        if exe:
            found[v] = exe
    return list(found.values())


def git_sources():
    out = subprocess.run(["git", "ls-files", "evloop"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:  # not a git checkout (an unpacked sdist): trust MANIFEST.in
        return []
    return [p for p in out.stdout.split() if p.endswith((".pyx", ".pxd", ".pxi", ".pyi", ".py", ".h"))]


def build_sdist(outdir, env):
    run([sys.executable, "-m", "build", "--sdist", "--outdir", outdir, ROOT], env=env)
    (sdist,) = glob.glob(os.path.join(outdir, "*.tar.gz"))
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    top = names[0].split("/")[0]
    inside = {n[len(top) + 1:] for n in names}
    missing = [p for p in git_sources() if p not in inside]
    if missing:
        raise SystemExit(f"the sdist lacks {missing}")
    generated = [n for n in inside if n.endswith((".c", ".so", ".o"))  and not n.startswith("bench/")]
    if generated:
        raise SystemExit(f"the sdist carries generated files: {generated}")
    return sdist


def build_wheel(python, sdist, outdir, env):
    wheeldir = tempfile.mkdtemp(prefix="wheel-", dir=outdir)
    run([python, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", wheeldir, sdist], env=env)
    (wheel,) = glob.glob(os.path.join(wheeldir, "*.whl"))
    return wheel


def repair(wheel, outdir):
    auditwheel = shutil.which("auditwheel", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    if auditwheel is None:
        print("note: auditwheel is not installed; keeping the linux_* wheel", flush=True)
        dest = os.path.join(outdir, os.path.basename(wheel))
        shutil.move(wheel, dest)
        return dest
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env["PATH"]  # patchelf
    before = set(glob.glob(os.path.join(outdir, "*.whl")))
    run([auditwheel, "repair", "--wheel-dir", outdir, wheel], env=env)
    (fixed,) = set(glob.glob(os.path.join(outdir, "*.whl"))) - before
    return fixed


def smoke(python, wheel, outdir, constraints, env):
    venv = tempfile.mkdtemp(prefix="venv-", dir=outdir)
    run([python, "-m", "venv", venv])
    vpy = os.path.join(venv, "bin", "python")
    run([vpy, "-m", "pip", "install", "-q", "-c", constraints, wheel, "aiohttp"], env=env)
    away = tempfile.mkdtemp(prefix="away-")  # no source tree on sys.path
    try:
        out = subprocess.run([vpy, "-I", SMOKE], cwd=away, capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(away, ignore_errors=True)
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr)
    if out.returncode != 0 or "smoke ok" not in out.stdout:
        raise SystemExit(f"smoke test failed on {python} (exit {out.returncode})")
    if venv not in out.stdout:
        raise SystemExit("the smoke program did not import evloop from the fresh venv")
    shutil.rmtree(venv, ignore_errors=True)
    return out.stdout


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--outdir", default=os.path.join(ROOT, "dist"))
    ap.add_argument("--python", action="append", dest="pythons", help="interpreter (repeatable)")
    ap.add_argument("--no-repair", action="store_true", help="skip auditwheel repair")
    args = ap.parse_args(argv)
    pythons = args.pythons or find_pythons()
    if not pythons:
        raise SystemExit("no CPython 3.10+ found")
    outdir = os.path.abspath(args.outdir)
    os.makedirs(outdir, exist_ok=True)
    for old in glob.glob(os.path.join(outdir, "*.whl")) + glob.glob(os.path.join(outdir, "*.tar.gz")):
        os.remove(old)

    constraints = os.path.join(outdir, "constraints.txt")
    with open(constraints, "w") as f:
        f.write("\n".join(lock_constraints(LOCK)) + "\n")
    env = dict(os.environ, PIP_CONSTRAINT=constraints, PIP_DISABLE_PIP_VERSION_CHECK="1")

    sdist = build_sdist(outdir, env)
    print("sdist:", os.path.basename(sdist))
    for python in pythons:
        wheel = build_wheel(python, sdist, outdir, env)
        if args.no_repair:
            final = os.path.join(outdir, os.path.basename(wheel))
            shutil.move(wheel, final)
        else:
            final = repair(wheel, outdir)
        shutil.rmtree(os.path.dirname(wheel), ignore_errors=True)
        smoke(python, final, outdir, constraints, env)
        print("wheel:", os.path.basename(final), flush=True)
    os.remove(constraints)


if __name__ == "__main__":
    main()
