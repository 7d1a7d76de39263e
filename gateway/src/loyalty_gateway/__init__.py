"""The GraphQL gateway of the loyalty orchestrator."""

__version__ = "0.1.0"

__all__ = ["__version__"]
