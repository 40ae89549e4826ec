"""A plugin module that cannot be imported."""

import os

_marker = os.environ.get("SERVICE_HOST_BROKEN_MARKER")
if _marker:
    with open(_marker, "a") as out:
        out.write(f"imported by pid {os.getpid()}\n")

raise ImportError("No module named 'service_host_broken_dependency'")
