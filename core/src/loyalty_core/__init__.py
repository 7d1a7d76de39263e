"""Customer accounts as a service: the core of the loyalty orchestrator.

Modules import only :mod:`loyalty_core.sdk`; everything else here is the core's own.
"""

__version__ = "0.1.0"
SDK_VERSION = 1
"""Bumped when the SDK changes incompatibly; modules declare the version they were built for."""

__all__ = ["SDK_VERSION", "__version__"]
