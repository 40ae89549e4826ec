"""Test-only managers that misbehave on purpose, enabled by class path.

A host loads them with ``<topic>_manager = tests.functional.managers:Class``;
the host subprocess needs the repository root on its PYTHONPATH
(:data:`ENV`), since it runs in the test's temporary directory.
"""

import os
from pathlib import Path

from service_host.manager import Manager

REPO = Path(__file__).resolve().parents[2]
ENV = {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
CRASHY_REASON = "cannot reach the database at db://nowhere:1/crashy"


class CrashyManager(Manager):
    """Its ``init_host()`` always raises: the worker never gets to serve."""

    def init_host(self) -> None:
        raise ConnectionError(CRASHY_REASON)

    def ping(self, context):
        return "pong"


class ExitingManager(Manager):
    """Its ``init_host()`` ends the worker process at once, like a crash in C code."""

    def init_host(self) -> None:
        os._exit(3)
