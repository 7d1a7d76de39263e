"""Customer accounts as a service: the core of the loyalty orchestrator.

Modules import only :mod:`loyalty_core.sdk`; everything else here is the core's own.
"""

__version__ = "0.1.0"
SDK_VERSION = "1.1"
"""The SDK this core offers, ``major.minor``: a minor release only adds, a major one breaks.
Modules declare the range they support (``ModuleInfo.sdk_version``, e.g. ``">=1.1,<2"``)."""

__all__ = ["SDK_VERSION", "__version__"]
