"""Tenants: the retailers (or coalitions) whose programmes this installation runs."""
