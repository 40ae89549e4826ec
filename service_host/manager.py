"""The base class of every manager plugin.

A manager is the object a worker serves over RPC: each of its public methods
``def name(self, context, **kwargs)`` can be called on the manager's topic.
This module is part of the plugin-facing API and imports none of the machinery.
"""

import oslo_messaging
from oslo_config import cfg


class Manager:
    """Base class of the managers that plugins provide.

    A worker builds one instance per process, after the fork, with the host,
    topic and configuration it serves. The lifecycle of an instance is:
    ``init_host()``, then RPC calls and periodic tasks run concurrently
    (in threads: keep shared state thread-safe), ``reset()`` on each SIGHUP,
    and ``cleanup_host()`` once the RPC server has stopped and the calls in
    flight have finished.
    """

    target = oslo_messaging.Target(version="1.0")
    """RPC API version of the manager. Raise the minor version when adding a
    method or an optional argument; clients pin the version they need."""

    def __init__(self, host: str, topic: str, conf: cfg.ConfigOpts) -> None:
        self.host = host
        self.topic = topic
        self.conf = conf

    def init_host(self) -> None:
        """Prepare the host before the RPC server starts taking messages."""

    def cleanup_host(self) -> None:
        """Release what ``init_host`` took, after the RPC server stopped."""

    def reset(self) -> None:
        """React to SIGHUP: the mutable options have just been re-read."""


# Methods of the base class are lifecycle hooks, never RPC methods.
LIFECYCLE_METHODS = frozenset(
    name for name in vars(Manager) if not name.startswith("_")
) - {"target"}
