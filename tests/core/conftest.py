"""tests/core: the libevent face.

Registers the ``fuzz`` marker of the stateful fuzzers (test_event_fuzz.py,
test_evbuffer_hypothesis.py), which ``make fuzz`` selects with ``-m fuzz``
and runs long by setting EVLOOP_FUZZ_EXAMPLES; ``make test`` runs their
short deterministic profiles with everything else.
"""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "fuzz: a hypothesis state machine; EVLOOP_FUZZ_EXAMPLES=N runs N examples")
