"""The catalogue itself: every check module, by name, and what each transition allows.

Imported only where checks are validated (ReadHookFunction) and run (CheckFunction): the other
functions' cold starts do not load every check module (``python -m bench.imports``).
"""

from __future__ import annotations

from functools import partial

from asg_lifecycle.checks.base import Check
from asg_lifecycle.checks.ecs_container_instance import EcsContainerInstanceCheck
from asg_lifecycle.checks.ecs_drain import EcsDrainCheck
from asg_lifecycle.checks.elb_drain import ElbDrainCheck
from asg_lifecycle.checks.elb_health import ElbHealthCheck
from asg_lifecycle.checks.instance_status import InstanceStatusCheck
from asg_lifecycle.checks.instance_tag import InstanceTagCheck
from asg_lifecycle.checks.lambda_check import LambdaCheck
from asg_lifecycle.checks.ssm_command import SsmCommandCheck
from asg_lifecycle.checks.ssm_parameter import SsmParameterCheck
from asg_lifecycle.checks.target_group_drain import TargetGroupDrainCheck
from asg_lifecycle.checks.target_group_health import TargetGroupHealthCheck
from asg_lifecycle.config import ParamsValidator, StackLimits
from asg_lifecycle.model import Transition

CATALOGUE: dict[str, type[Check]] = {
    check.name: check
    for check in (
        InstanceStatusCheck,
        TargetGroupHealthCheck,
        TargetGroupDrainCheck,
        ElbHealthCheck,
        ElbDrainCheck,
        SsmCommandCheck,
        EcsContainerInstanceCheck,
        EcsDrainCheck,
        InstanceTagCheck,
        SsmParameterCheck,
        LambdaCheck,
    )
}


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
