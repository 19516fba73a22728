"""Declarative reconciler for the 4SELLERS Elements mail integration of a GREYHOUND server."""

__version__ = "0.1.0"
