import importlib.metadata


def version_string() -> str:
    try:
        return importlib.metadata.version("service-host")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"
