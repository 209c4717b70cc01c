"""Decisions and AWS adapters for EC2 Auto Scaling lifecycle actions.

Pure modules (``model``, ``events``, ``config``, ``policy``) decide; ``adapters`` talk to AWS;
``checks`` is the catalogue of readiness/drain checks, one module per check.
"""
