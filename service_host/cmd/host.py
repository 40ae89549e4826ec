"""``service-host`` and the per-topic launchers ``service-host-<topic>``."""

import os
import sys

from service_host import launcher
from service_host.cmd import clean_errors
from service_host.cmd import parse_config
from service_host.conf import CONF


def main(argv: list[str] | None = None) -> None:
    """Run the enabled services and APIs, or only ``<topic>`` as ``service-host-<topic>``."""
    binary = os.path.basename(sys.argv[0])
    prog = binary if binary.startswith("service-host") else "service-host"
    with clean_errors(prog):
        parse_config(CONF, sys.argv[1:] if argv is None else argv, prog)
        topics = None
        if binary.startswith("service-host-"):
            topics = [binary.rpartition("service-host-")[2]]
        launcher.run(CONF, binary, topics)


if __name__ == "__main__":
    main()
