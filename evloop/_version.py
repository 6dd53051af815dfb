"""The one source of evloop's version: pyproject.toml reads it (setuptools'
``attr:``, evaluated statically, without importing the package) and
``evloop.__version__`` re-exports it."""

__version__ = "0.1.0.dev0"
