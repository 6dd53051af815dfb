"""Stream transports against a model, driven by hypothesis ("keep it found").

A state machine owns one loop and a connected pair of stream transports
(one end through ``create_connection(sock=...)``, the other through
``connect_accepted_socket``), and applies random sequences of what a
program does to them: writes and writelines of random sizes (up to 256 KiB,
so the kernel buffer fills and flow control engages), write-buffer limits,
pause/resume reading on the receiving side, loop passes, write_eof, close
and abort.  After every step:

* what the receiver got is a prefix of what the sender wrote (nothing
  reordered, duplicated or invented);
* pause_writing and resume_writing alternate, and no data arrives while
  the receiver is paused;
* the loop's exception handler was never called.

At the end the sender closes (unless it aborted), the receiver resumes,
and the receiver must get every byte written and then EOF, and both
protocols ``connection_lost``; every fd is closed (the suite's fd check).
Both loops run the same machine: asyncio is the reference the model was
checked against.

The normal suite runs a small deterministic profile; EVLOOP_FUZZ_EXAMPLES=N
runs N random sequences instead (``make fuzz`` selects the ``fuzz`` marker).
"""
import asyncio
import os
import socket

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import evloop

FUZZ_EXAMPLES = int(os.environ.get("EVLOOP_FUZZ_EXAMPLES", "0"))
if FUZZ_EXAMPLES:
    PROFILE = settings(max_examples=FUZZ_EXAMPLES, stateful_step_count=40, deadline=None,
                       database=None, print_blob=True, suppress_health_check=list(HealthCheck))
else:
    PROFILE = settings(max_examples=12, stateful_step_count=20, deadline=None,
                       database=None, derandomize=True, suppress_health_check=list(HealthCheck))

pytestmark = pytest.mark.fuzz

FACTORIES = {"asyncio": asyncio.SelectorEventLoop, "evloop": evloop.new_event_loop}


class Recorder(asyncio.Protocol):
    def __init__(self):
        self.data = bytearray()
        self.eof = False
        self.lost = None
        self.lost_called = False
        self.paused = False
        self.flow = []          # "pause" / "resume", in order
        self.data_while_paused = 0
        self.reading = True

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if not self.reading:
            self.data_while_paused += 1
        self.data += data

    def eof_received(self):
        self.eof = True

    def pause_writing(self):
        self.flow.append("pause")

    def resume_writing(self):
        self.flow.append("resume")

    def connection_lost(self, exc):
        self.lost_called = True
        self.lost = exc


class TransportMachine(RuleBasedStateMachine):
    loop_name = "evloop"

    def __init__(self):
        super().__init__()
        self.loop = FACTORIES[self.loop_name]()
        self.errors = []
        self.loop.set_exception_handler(lambda loop, ctx: self.errors.append(ctx))
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        self.sender = Recorder()
        self.receiver = Recorder()
        self.tx, _ = self.loop.run_until_complete(
            self.loop.create_connection(lambda: self.sender, sock=a))
        self.rx, _ = self.loop.run_until_complete(
            self.loop.connect_accepted_socket(lambda: self.receiver, sock=b))
        self.written = bytearray()
        self.sender_done = None      # None, "eof", "close" or "abort"

    def _pass(self, n=1):
        for _ in range(n):
            self.loop.run_until_complete(asyncio.sleep(0))

    # -- the sender ----------------------------------------------------

    @precondition(lambda self: self.sender_done is None)
    @rule(size=st.sampled_from([0, 1, 100, 4096, 65536, 262144]), byte=st.integers(0, 255))
    def write(self, size, byte):
        data = bytes([byte]) * size
        self.tx.write(data)
        self.written += data

    @precondition(lambda self: self.sender_done is None)
    @rule(sizes=st.lists(st.sampled_from([0, 7, 1000, 70000]), max_size=4))
    def writelines(self, sizes):
        chunks = [bytes([i % 256]) * n for i, n in enumerate(sizes)]
        self.tx.writelines(chunks)
        for c in chunks:
            self.written += c

    @precondition(lambda self: self.sender_done is None)
    @rule(high=st.sampled_from([None, 0, 1, 8192, 65536, 1 << 20]))
    def limits(self, high):
        self.tx.set_write_buffer_limits(high=high)

    @precondition(lambda self: self.sender_done is None)
    @rule()
    def write_eof(self):
        assert self.tx.can_write_eof()
        self.tx.write_eof()
        self.sender_done = "eof"

    @precondition(lambda self: self.sender_done in (None, "eof"))
    @rule()
    def close(self):
        self.tx.close()
        self.sender_done = "close"

    @precondition(lambda self: self.sender_done in (None, "eof"))
    @rule()
    def abort(self):
        self.tx.abort()
        self.sender_done = "abort"

    # -- the receiver and the loop -------------------------------------

    @precondition(lambda self: self.receiver.reading and not self.rx.is_closing())
    @rule()
    def pause_reading(self):
        self.rx.pause_reading()
        self.receiver.reading = False

    @precondition(lambda self: not self.receiver.reading and not self.rx.is_closing())
    @rule()
    def resume_reading(self):
        self.rx.resume_reading()
        self.receiver.reading = True

    @rule(n=st.integers(1, 8))
    def run_passes(self, n):
        self._pass(n)

    # -- what must hold after every step -------------------------------

    @invariant()
    def received_is_a_prefix(self):
        got = self.receiver.data
        assert len(got) <= len(self.written)
        assert got == self.written[:len(got)]

    @invariant()
    def flow_control_alternates(self):
        flow = self.sender.flow
        assert all(f == ("pause" if i % 2 == 0 else "resume") for i, f in enumerate(flow)), flow

    @invariant()
    def nothing_arrives_while_paused(self):
        assert self.receiver.data_while_paused == 0

    @invariant()
    def no_unexpected_errors(self):
        assert not self.errors, self.errors

    def teardown(self):
        try:
            if self.sender_done in (None, "eof"):
                self.tx.close()
                self.sender_done = "close"
            if not self.receiver.reading and not self.rx.is_closing():
                self.rx.resume_reading()
                self.receiver.reading = True

            async def drain():
                while not (self.receiver.eof or self.receiver.lost_called):
                    await asyncio.sleep(0.001)

            self.loop.run_until_complete(asyncio.wait_for(drain(), 10))
            if self.sender_done == "close":
                assert self.receiver.data == self.written, (len(self.receiver.data), len(self.written))
                assert self.receiver.eof
            self.rx.close()

            async def both_lost():
                while not (self.sender.lost_called and self.receiver.lost_called):
                    await asyncio.sleep(0.001)

            self.loop.run_until_complete(asyncio.wait_for(both_lost(), 10))
            assert not self.errors, self.errors
        finally:
            if not self.tx.is_closing():
                self.tx.abort()
            if not self.rx.is_closing():
                self.rx.abort()
            self._pass(3)
            self.loop.close()


class TransportMachineAsyncio(TransportMachine):
    loop_name = "asyncio"


class TransportMachineEvloop(TransportMachine):
    loop_name = "evloop"


TestStreamTransportsAsyncio = TransportMachineAsyncio.TestCase
TestStreamTransportsAsyncio.settings = PROFILE
TestStreamTransportsEvloop = TransportMachineEvloop.TestCase
TestStreamTransportsEvloop.settings = PROFILE
