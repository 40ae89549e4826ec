"""Baseline HTTP server: an API's pecan app in cheroot's WSGI server, outside the host.

    python benchmarks/bare_wsgi_server.py --config-file F --api host --port P [--middleware]

The app comes from the same ``make_app(conf)`` factory the host loads (the
``service_host.apis`` entry point ``--api``), served by ``cheroot.wsgi.Server``
with the host's thread count (``[api] threads``) and backlog, in one process.
With ``--middleware`` the app is wrapped in the host's middleware stack
(``service_host.api.middleware.wrap``) and logging is set up as the host does
(one access-log line per request); without it the bare app is served.
Runs until SIGTERM.
"""

import argparse
import signal
import threading

import cheroot.wsgi
from oslo_config import cfg

from service_host import plugins
from service_host.api import middleware
from service_host.cmd import parse_config
from service_host.wsgi import BACKLOG


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--api", default="host")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--middleware", action="store_true")
    args = parser.parse_args()

    conf = cfg.CONF
    parse_config(conf, ["--config-file", args.config_file], "bare-wsgi-server")
    app = plugins.load_api(args.api)(conf)
    if args.middleware:
        app = middleware.wrap(app, conf, args.api)
    server = cheroot.wsgi.Server(
        ("127.0.0.1", args.port), app, numthreads=conf.api.threads, request_queue_size=BACKLOG
    )
    stop = threading.Event()

    def on_term(*_):
        stop.set()
        threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    server.prepare()
    print(f"bare WSGI server {args.api} on 127.0.0.1:{args.port}", flush=True)
    server.serve()


if __name__ == "__main__":
    main()
