"""Baseline RPC server: bare oslo.messaging, no service-host machinery.

The example manager's class is the endpoint, exactly as the host serves it, on
``Target(topic=T, server=H)`` with the threading executor, in one process: no
cotyledon, no periodic tasks, no service group, no access policy of the host.

    python benchmarks/bare_rpc_server.py --config-file F --host H [--topic example]

The config file is a service-host one; ``transport_url`` and ``[example]``
(``record_dir``) are read from it. Runs until SIGTERM.
"""

import argparse
import signal
import threading

import oslo_messaging
from oslo_config import cfg
from service_host_example.manager import ExampleManager


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--topic", default="example")
    args = parser.parse_args()

    conf = cfg.CONF
    conf([], default_config_files=[args.config_file], project="bare-rpc-server")
    transport = oslo_messaging.get_rpc_transport(conf)
    endpoint = ExampleManager(args.host, args.topic, conf)
    endpoint.init_host()
    server = oslo_messaging.get_rpc_server(
        transport,
        oslo_messaging.Target(topic=args.topic, server=args.host),
        [endpoint],
        executor="threading",
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    print(f"bare RPC server {args.topic}.{args.host} serving", flush=True)
    while not stop.wait(3600):
        pass
    server.stop()
    server.wait()
    transport.cleanup()


if __name__ == "__main__":
    main()
