"""Placeholder: the API issue replaces this module."""

import cotyledon
from oslo_config import cfg


class API:
    name: str
    workers: int
    address: str

    @classmethod
    def create(cls, conf: cfg.ConfigOpts, name: str) -> "API":
        raise NotImplementedError("APIs are not implemented yet")


class APIWorker(cotyledon.Service):
    pass
