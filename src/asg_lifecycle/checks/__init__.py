"""The checks: one module per check, all implementing :class:`base.Check`; ``catalogue`` finds them.

Import what you need from its module (``checks.base``, ``checks.catalogue``): this package itself
imports nothing, so that the functions that only read a round's results (the heartbeat's, the
completion's) do not load every check module on their cold start (``python -m bench.imports``).
"""
