"""Members: the customers of a tenant, their identifiers, status and profile."""
