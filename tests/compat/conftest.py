"""Fixtures of the compat tests: the example runner's ``proc`` and
``clients`` (see ``example_runner.py``), shared by every test file here
that runs ``examples/`` as subprocesses."""
from example_runner import clients, proc  # noqa: F401
