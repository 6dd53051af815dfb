"""Tasks, futures, task factories, async generators and executors, on both
loops: create_task(name=, context=), set/get_task_factory, the eager task
factory (3.12+), shutdown_asyncgens, shutdown_default_executor and
run_in_executor.
"""
import asyncio
import concurrent.futures
import contextvars
import sys
import threading

import pytest

from aio_harness import known_difference, run

var = contextvars.ContextVar("var", default="default")


def test_create_future(loop):
    fut = loop.create_future()
    assert isinstance(fut, asyncio.Future)
    assert fut.get_loop() is loop
    loop.call_soon(fut.set_result, "value")
    assert run(loop, fut) == "value"


def test_create_task_with_name(loop):
    async def work():
        await asyncio.sleep(0)
        return asyncio.current_task().get_name()

    async def main():
        t = loop.create_task(work(), name="worker-7")
        assert t.get_name() == "worker-7"
        assert t.get_loop() is loop
        assert t in asyncio.all_tasks()
        return await t

    assert run(loop, main()) == "worker-7"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="create_task(context=) is new in 3.11")
def test_create_task_with_context(loop):
    ctx = contextvars.copy_context()
    ctx.run(var.set, "task-ctx")

    async def work():
        seen = var.get()
        var.set("changed-in-task")
        return seen

    async def main():
        t = loop.create_task(work(), context=ctx)
        return await t

    assert run(loop, main()) == "task-ctx"
    assert ctx[var] == "changed-in-task"
    assert var.get() == "default"


def test_task_copies_context_by_default(loop):
    async def work():
        return var.get()

    async def main():
        var.set("in-main")
        return await loop.create_task(work())

    assert run(loop, main()) == "in-main"
    assert var.get() == "default"


def test_task_cancel(loop):
    async def main():
        started = loop.create_future()

        async def sleeper():
            started.set_result(None)
            await asyncio.sleep(3600)

        t = loop.create_task(sleeper())
        await started
        assert t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        assert t.cancelled()

    run(loop, main())


def test_set_task_factory(loop):
    created = []

    def factory(lp, coro, **kwargs):
        task = asyncio.Task(coro, loop=lp, **kwargs)
        created.append(task)
        return task

    assert loop.get_task_factory() is None
    loop.set_task_factory(factory)
    assert loop.get_task_factory() is factory

    async def child():
        return "child"

    async def main():
        return await loop.create_task(child(), name="via-factory")

    assert run(loop, main()) == "child"
    names = [t.get_name() for t in created]
    assert "via-factory" in names
    loop.set_task_factory(None)
    assert loop.get_task_factory() is None
    with pytest.raises(TypeError):
        loop.set_task_factory(42)


def test_task_factory_may_return_a_task_subclass(loop):
    class MyTask(asyncio.Task):
        pass

    loop.set_task_factory(lambda lp, coro, **kw: MyTask(coro, loop=lp, **kw))

    async def main():
        return type(asyncio.current_task())

    try:
        assert run(loop, main()) is MyTask
    finally:
        loop.set_task_factory(None)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="eager task factories are new in 3.12")
def test_eager_task_factory(loop):
    loop.set_task_factory(asyncio.eager_task_factory)
    order = []

    async def child():
        order.append("child-start")
        await asyncio.sleep(0)
        order.append("child-end")
        return "c"

    async def main():
        t = loop.create_task(child())
        # Eager: the coroutine ran up to its first suspension inside
        # create_task.
        order.append("after-create")
        return await t

    try:
        assert run(loop, main()) == "c"
    finally:
        loop.set_task_factory(None)
    assert order == ["child-start", "after-create", "child-end"]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="eager task factories are new in 3.12")
def test_eager_task_completing_synchronously(loop):
    loop.set_task_factory(asyncio.eager_task_factory)

    async def immediate():
        return 5

    async def main():
        t = loop.create_task(immediate())
        assert t.done()
        return t.result()

    try:
        assert run(loop, main()) == 5
    finally:
        loop.set_task_factory(None)


def test_shutdown_asyncgens(loop):
    finalized = []

    async def agen():
        try:
            for i in range(10):
                yield i
        finally:
            await asyncio.sleep(0)
            finalized.append("finally")

    async def main():
        g = agen()
        assert await g.__anext__() == 0
        # Keep a reference so only shutdown_asyncgens can finalize it.
        return g

    g = run(loop, main())
    assert finalized == []
    loop.run_until_complete(loop.shutdown_asyncgens())
    assert finalized == ["finally"]
    del g


def test_asyncgen_finalized_by_gc_runs_on_loop(loop):
    finalized = []

    async def agen():
        try:
            yield 1
            yield 2
        finally:
            finalized.append(asyncio.get_running_loop())

    async def main():
        g = agen()
        await g.__anext__()
        del g
        import gc
        gc.collect()
        for _ in range(5):
            await asyncio.sleep(0)

    run(loop, main())
    assert finalized == [loop]


def test_run_in_executor_default(loop):
    main_thread = threading.get_ident()

    async def main():
        return await loop.run_in_executor(None, lambda a, b: (threading.get_ident(), a + b), 2, 3)

    tid, value = run(loop, main())
    assert value == 5
    assert tid != main_thread


def test_run_in_executor_custom_executor(loop):
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        async def main():
            futs = [loop.run_in_executor(ex, pow, 2, i) for i in range(10)]
            return await asyncio.gather(*futs)

        assert run(loop, main()) == [2 ** i for i in range(10)]


def test_run_in_executor_exception_propagates(loop):
    def fails():
        raise LookupError("in thread")

    async def main():
        with pytest.raises(LookupError, match="in thread"):
            await loop.run_in_executor(None, fails)

    run(loop, main())


def test_set_default_executor(loop):
    ex = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="evtest")
    loop.set_default_executor(ex)

    async def main():
        return await loop.run_in_executor(None, lambda: threading.current_thread().name)

    assert run(loop, main()).startswith("evtest")
    loop.run_until_complete(loop.shutdown_default_executor())


def test_shutdown_default_executor(loop):
    async def main():
        await loop.run_in_executor(None, lambda: None)
        await loop.shutdown_default_executor()
        with pytest.raises(RuntimeError, match="Executor shutdown has been called"):
            loop.run_in_executor(None, lambda: None)

    run(loop, main())


def test_shutdown_default_executor_timeout(loop, loop_name, request):
    # A worker that outlives the timeout: RuntimeWarning, the executor is
    # shut down without waiting, and shutdown returns.
    if sys.version_info < (3, 12):
        known_difference(request, loop_name,
                         "shutdown_default_executor(timeout) is new in Python 3.12's asyncio; "
                         "evloop has it on 3.10 and 3.11 too", on="asyncio")
    release = threading.Event()

    async def main():
        started = threading.Event()

        def stuck():
            started.set()
            release.wait(10)
            return "released"

        fut = loop.run_in_executor(None, stuck)
        started.wait(5)
        with pytest.warns(RuntimeWarning, match="did not finishing joining"):
            await loop.shutdown_default_executor(timeout=0.05)
        release.set()
        return await fut

    try:
        assert run(loop, main()) == "released"
    finally:
        release.set()


def test_shutdown_default_executor_without_executor(loop):
    loop.run_until_complete(loop.shutdown_default_executor())


def test_wrap_future_from_thread_pool(loop):
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
        cf = ex.submit(lambda: "from pool")

        async def main():
            return await asyncio.wrap_future(cf)

        assert run(loop, main()) == "from pool"


def test_run_coroutine_threadsafe(loop):
    result = []

    async def add(a, b):
        await asyncio.sleep(0)
        return a + b

    def worker():
        f = asyncio.run_coroutine_threadsafe(add(1, 2), loop)
        result.append(f.result(5))

    async def main():
        t = threading.Thread(target=worker)
        t.start()
        while t.is_alive():
            await asyncio.sleep(0.001)
        t.join()

    run(loop, main())
    assert result == [3]


def test_gather_many_tasks(loop):
    async def one(i):
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return i

    async def main():
        return await asyncio.gather(*(one(i) for i in range(2000)))

    assert run(loop, main()) == list(range(2000))


def test_asyncio_timeout_and_taskgroup(loop):
    if sys.version_info < (3, 11):
        pytest.skip("asyncio.timeout/TaskGroup are new in 3.11")

    async def main():
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01):
                await asyncio.sleep(10)
        results = []
        async with asyncio.TaskGroup() as tg:
            for i in range(3):
                tg.create_task(asyncio.sleep(0, i)).add_done_callback(
                    lambda t: results.append(t.result()))
        return sorted(results)

    assert run(loop, main()) == [0, 1, 2]
