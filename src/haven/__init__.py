"""Haven: self-hostable end-to-end encrypted messaging for people under surveillance."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("haven")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
