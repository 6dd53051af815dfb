"""Build script: declares the one compiled extension, ``evloop._evloop``.

Everything else about the package (metadata, version, package data) lives
in pyproject.toml.  The extension is one Cython translation unit
(``evloop/_evloop.pyx``) that ``include``s the core/ and aio/ sources, as
uvloop does, so calls between files are plain C calls.

Cython runs inside ``build_ext`` (as uvloop's setup.py does), not when this
file is imported: ``python -m build --sdist`` and ``setup.py --version``
then need no compilation, and the ``cimport evloop.includes...`` lines
resolve against this file's own directory, whatever the current directory
or ``sys.path`` of the build frontend (``python -P``, an isolated PEP 517
build from an unpacked sdist).

Set ``EVLOOP_DEBUG=1`` for a debug build (assertions kept, no optimisation,
Cython bounds checks on).
"""
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
DEBUG = os.environ.get("EVLOOP_DEBUG") == "1"

DIRECTIVES = {
    "language_level": "3",
    "embedsignature": True,
    "boundscheck": DEBUG,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": DEBUG,
}


class build_ext(_build_ext):
    """Cythonize ``evloop/_evloop.pyx`` just before compiling it."""

    def finalize_options(self):
        from Cython.Build import cythonize

        # Before setuptools' own finalize_options, which decorates the
        # Extension objects cythonize() returns (``_needs_stub`` etc.).
        self.distribution.ext_modules[:] = cythonize(
            self.distribution.ext_modules,
            compiler_directives=DIRECTIVES,
            compile_time_env={"EVLOOP_DEBUG": DEBUG},
            # The project root, so that ``cimport evloop.includes.system``
            # finds evloop/includes/system.pxd from any working directory.
            include_path=[HERE],
            force=bool(self.force),
        )
        super().finalize_options()


ext = Extension(
    "evloop._evloop",
    ["evloop/_evloop.pyx"],
    extra_compile_args=["-O0", "-g3"] if DEBUG else ["-O2"],
    define_macros=[("EVLOOP_DEBUG", "1")] if DEBUG else [("NDEBUG", "1")],
)

setup(ext_modules=[ext], cmdclass={"build_ext": build_ext})
