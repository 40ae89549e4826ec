"""Client side of the example manager's RPC API, for callers in other plugins.

An API plugin, another manager or a script builds an :class:`ExampleAPI`
instead of spelling topic, method names and versions itself.
"""

from typing import Any

from oslo_config import cfg

from service_host import rpc

TOPIC = "example"


class ExampleAPI:
    """Calls the ``example`` topic.

    Each method asks for the lowest RPC API version that has what it sends,
    so servers that are not upgraded yet keep answering what they can.
    """

    def __init__(self, conf: cfg.ConfigOpts, *, topic: str = TOPIC,
                 timeout: float | None = None) -> None:
        self._timeout = conf.rpc_response_timeout if timeout is None else timeout
        self._client = rpc.Client(conf, topic, version="1.0", timeout=timeout)

    def echo(self, context: dict | None, message: str, upper: bool = False) -> str:
        if upper:
            # ``upper`` came with 1.1: a 1.0 server refuses the call
            # (UnsupportedVersion) instead of failing on an unknown argument.
            cctxt = self._client.prepare(version="1.1")
            return cctxt.call(context, "echo", message=message, upper=True)
        return self._client.call(context, "echo", message=message)

    def whoami(self, context: dict | None, server: str | None = None) -> dict[str, Any]:
        """Which worker answers; ``server`` asks the workers of that host."""
        cctxt = self._client.prepare(server=server) if server else self._client
        return cctxt.call(context, "whoami")

    def slow(self, context: dict | None, seconds: float) -> dict[str, Any]:
        """Have one worker sleep ``seconds``; the call waits that much longer."""
        cctxt = self._client.prepare(timeout=self._timeout + seconds)
        return cctxt.call(context, "slow", seconds=seconds)

    def record(self, context: dict | None, marker: str) -> None:
        """Cast ``marker`` to every worker of the topic, without waiting."""
        self._client.prepare(fanout=True).cast(context, "record", marker=marker)
