"""Managers used by the unit tests as class paths."""

from service_host.manager import Manager


class RecordingManager(Manager):
    def ping(self, context):
        return "pong"


class NotAManager:
    pass
