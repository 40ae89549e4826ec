"""Plugin objects of the wrong kind."""

from oslo_config import cfg


class NotAManager:
    """Has RPC-looking methods, but does not subclass service_host.manager.Manager."""

    def ping(self, context):
        return "pong"


NOT_A_FACTORY = {"make_app": "is not callable"}


def list_opts() -> list:
    # ``host`` is already an option of the host, with another definition.
    return [(None, [cfg.StrOpt("host", default="broken", help="Clashes.")])]
