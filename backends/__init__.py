"""Backends: the one `Backend` interface and the registry of names the CLIs resolve."""

from backends.base import Backend, Prediction
from backends.registry import available, create, register

__all__ = ["Backend", "Prediction", "available", "create", "register"]
