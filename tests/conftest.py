"""The fixtures come from the test kit (``loyalty-testing``), a workspace member whose pytest
plugin loads through its ``pytest11`` entry point, as it does for a third party's module."""
