"""The version of spurlab: a leaf module, so that no submodule imports the package itself."""

__version__ = "0.3.0"
