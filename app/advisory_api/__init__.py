"""advisory-api: answers whether a Python package version is affected by a known advisory."""

__version__ = "1.0.0"
