"""Build script: declares the one compiled extension, ``evloop._evloop``.

Everything else about the package lives in pyproject.toml.  The extension is
one Cython translation unit (``evloop/_evloop.pyx``) that ``include``s the
core/ sources, as uvloop does, so calls between files are plain C calls.

Set ``EVLOOP_DEBUG=1`` for a debug build (assertions kept, no optimisation,
Cython bounds checks on).
"""
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("EVLOOP_DEBUG") == "1"

extra_compile_args = ["-O0", "-g3"] if DEBUG else ["-O2"]
directives = {
    "language_level": "3",
    "embedsignature": True,
    "boundscheck": DEBUG,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": DEBUG,
}

ext = Extension(
    "evloop._evloop",
    ["evloop/_evloop.pyx"],
    extra_compile_args=extra_compile_args,
    define_macros=[("EVLOOP_DEBUG", "1")] if DEBUG else [("NDEBUG", "1")],
)

setup(
    ext_modules=cythonize(
        [ext],
        compiler_directives=directives,
        compile_time_env={"EVLOOP_DEBUG": DEBUG},
        include_path=["evloop"],
    ),
)
