"""A futurist thread pool that stops as soon as its work is done.

An idle futurist worker thread notices that its pool is shutting down only
when its one-second wait for work times out, so every ``shutdown(wait=True)``
of a pool that ever ran something takes a second more than its work: the
RPC server's pool and the periodic tasks' pool added two seconds to every
worker's SIGTERM. This pool wakes each idle thread with an empty work item
once the work in flight is done.
"""

from typing import Any

import futurist


class _Wake:
    def run(self) -> None:
        pass


class QuickStopExecutor(futurist.ThreadPoolExecutor):
    """``futurist.ThreadPoolExecutor`` whose ``shutdown(wait=True)`` does not idle."""

    def shutdown(self, wait: bool = True, **kwargs: Any) -> None:
        if wait:
            self._work_queue.join()
            for worker in self._workers:
                worker.stop()
            for _ in self._workers:
                self._work_queue.put(_Wake())
        super().shutdown(wait, **kwargs)
