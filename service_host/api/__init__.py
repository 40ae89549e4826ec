"""The API side of the host: the middleware every API gets, and the built-in ``host`` API.

An API plugin declares ``service_host.apis = <name> = pkg.module:make_app``;
``make_app(conf)`` returns any WSGI application, which the host wraps in the
stack of :mod:`service_host.api.middleware` and serves in ``<name>_workers``
processes (see :mod:`service_host.wsgi`).
"""
