"""service-host: run manager plugins as RPC services and pecan APIs under cotyledon.

Plugin authors need these names; everything else is machinery.
"""

import warnings

from oslo_service import backend as _oslo_service_backend

# futurist imports eventlet when it is installed, which warns that it is
# deprecated; this host never uses it.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

# oslo.messaging imports oslo.service, whose default backend imports eventlet
# (and warns about it). This host runs threads: pick that backend first,
# unless the program that imports us has already chosen one.
if _oslo_service_backend.get_backend_type() is None:
    _oslo_service_backend.init_backend(_oslo_service_backend.BackendType.THREADING)

from service_host.manager import Manager  # noqa: E402
from service_host.periodic import periodic_task  # noqa: E402
from service_host.rpc import Client  # noqa: E402

__all__ = ["Client", "Manager", "periodic_task"]
