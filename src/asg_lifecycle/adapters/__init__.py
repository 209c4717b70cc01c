"""Thin boto3 adapters: each call AWS makes, with its errors translated into the domain's terms."""
