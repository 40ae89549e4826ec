import threading

from service_host import rpc
from service_host._executor import QuickStopExecutor
from service_host.testing import make_conf
from tests.unit.fixtures import RecordingManager


def test_shutdown_finishes_the_work_then_ends_every_thread():
    executor = QuickStopExecutor(max_workers=4)
    release = threading.Event()
    done = []

    def work(n):
        release.wait(10)
        done.append(n)

    for n in range(8):
        executor.submit(work, n)
    threads = list(executor._workers)
    assert threads
    release.set()
    executor.shutdown(wait=True)
    assert sorted(done) == list(range(8))
    assert not any(thread.is_alive() for thread in threads)


def test_the_rpc_server_runs_on_it():
    conf = make_conf()
    try:
        server = rpc.get_server(conf, "t", "h", [RecordingManager("h", "t", conf)])
        assert server._executor_cls is QuickStopExecutor
    finally:
        rpc.cleanup(conf)
