"""Benchmarks that print ratios against what the same machine does without us (issue 4).

Not tests: each ``bench.pN_*`` module is a command (``python -m bench.p4_overhead``) that
starts its own database and servers, measures a baseline and the gateway alternately and
prints medians and their ratio. :mod:`bench.harness` holds everything they share; see
``bench/README.md`` for what each one measures and how to read its table.
"""
