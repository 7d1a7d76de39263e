"""Fixtures come from plugin modules, so each area's fixtures live in one file."""

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.gateway"]
