"""The core's GraphQL surface, contributed through the same hooks as any module."""
