import functools
import importlib.metadata


@functools.cache
def version_string() -> str:
    """The installed version of service-host (read once: metadata lookups are slow)."""
    try:
        return importlib.metadata.version("service-host")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"
