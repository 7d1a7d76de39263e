"""Cross-package tests: contract, isolation, concurrency, end to end."""
