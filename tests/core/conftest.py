"""tests/core: the libevent face.

The stateful fuzzers (test_event_fuzz.py, test_evbuffer_hypothesis.py) carry
the ``fuzz`` marker (registered in pyproject.toml): ``make fuzz`` selects
them with ``-m fuzz`` and runs them long by setting EVLOOP_FUZZ_EXAMPLES;
``make test`` runs their short deterministic profiles with everything else.
"""
