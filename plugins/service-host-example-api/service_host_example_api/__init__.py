"""An example API plugin for service-host: HTTP in front of the ``example`` manager."""
