"""The catalogue itself: every check of the package, by name, and what each transition allows.

A check is registered by its module alone: :func:`discover` imports every module of
``asg_lifecycle.checks`` and takes each concrete :class:`~asg_lifecycle.checks.base.Check` subclass
it defines (helpers such as ``load_balancers`` define none). That imports what listing each check
here by hand imported (every check module, once, when the catalogue is first imported), plus one
directory listing.

Imported only where checks are validated (ReadHookFunction) and run (CheckFunction): the other
functions' cold starts do not load every check module (``python -m bench.imports``).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import partial
from types import ModuleType

from asg_lifecycle import checks
from asg_lifecycle.checks.base import Check
from asg_lifecycle.config import ParamsValidator, StackLimits
from asg_lifecycle.model import Transition

_NOT_CHECKS = frozenset({"base", __name__.rpartition(".")[2]})  # the interface, this module


def checks_of(module: ModuleType) -> list[type[Check]]:
    """The checks ``module`` defines (not those it imports): concrete subclasses of Check."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Check)
        and value.__module__ == module.__name__
        and not getattr(value, "__abstractmethods__", None)
    ]


def discover() -> dict[str, type[Check]]:
    """Every check defined by a module of the checks package (``checks.__path__``), by name.

    Two checks with one name, or a check without ``name``, ``transitions``, ``summary`` or
    ``example``, are a programming error: raised here, at the first import, rather than found by
    a user.
    """
    found: dict[str, type[Check]] = {}
    for info in pkgutil.iter_modules(checks.__path__):
        if info.name in _NOT_CHECKS:
            continue
        module = importlib.import_module(f"{checks.__name__}.{info.name}")
        for check in checks_of(module):
            lacking = [
                attribute
                for attribute in ("name", "transitions", "summary", "example")
                if not hasattr(check, attribute)
            ]
            if lacking:
                raise TypeError(f"{check.__qualname__} ({info.name}) lacks {', '.join(lacking)}")
            if check.name in found:
                first = found[check.name].__module__
                raise TypeError(
                    f"check name {check.name!r} is used by {first} and {check.__module__}"
                )
            found[check.name] = check
    return dict(sorted(found.items()))


CATALOGUE: dict[str, type[Check]] = discover()


def allowed_for(transition: Transition, limits: StackLimits) -> dict[str, ParamsValidator]:
    """What :func:`asg_lifecycle.config.read_config` needs: each allowed check's validation,
    within what the stack allows (``limits``, :meth:`StackLimits.from_env`)."""
    return {
        name: partial(check.validate_params, limits=limits)
        for name, check in CATALOGUE.items()
        if transition in check.transitions
    }


def not_for_warm_pool() -> frozenset[str]:
    """The checks a ``warmPool`` block may not name (:attr:`Check.for_warm_pool`)."""
    return frozenset(name for name, check in CATALOGUE.items() if not check.for_warm_pool)
