"""Checks tested one by one on moto: a real instance in a real (emulated) account, no workflow.

``aws`` gives a moto account with one running instance; ``ask`` runs one check's ``evaluate``
for that instance with validated params and a memo, the way a round of the workflow would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from asg_lifecycle.checks.base import Answer, Check, CheckContext
from asg_lifecycle.model import LifecycleAction, Transition

REGION = "us-east-1"
AMI = "ami-12c6146b"  # an image moto knows (looking one up costs seconds per test)
TOKEN = "c613620e-07e2-4ed2-a9e2-ef8258911ade"


@dataclass
class Account:
    """A moto account with one running instance (``instance_id``) and cached clients."""

    instance_id: str
    group_name: str = "web"
    _clients: dict[str, Any] | None = None

    def client(self, service: str) -> Any:
        if self._clients is None:
            self._clients = {}
        if service not in self._clients:
            make: Any = boto3.client
            self._clients[service] = make(service, region_name=REGION)
        return self._clients[service]

    def group(self, load_balancers: Sequence[str] = (), target_groups: Sequence[str] = ()) -> None:
        """The instance's Auto Scaling group, empty: the load-balancer checks read only its
        Classic Load Balancer names and target group ARNs."""
        autoscaling = self.client("autoscaling")
        autoscaling.create_launch_configuration(
            LaunchConfigurationName="web-lc", ImageId=AMI, InstanceType="t3.micro"
        )
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=self.group_name,
            LaunchConfigurationName="web-lc",
            MinSize=0,
            MaxSize=1,
            DesiredCapacity=0,
            AvailabilityZones=[f"{REGION}a"],
            LoadBalancerNames=list(load_balancers),
            TargetGroupARNs=list(target_groups),
        )

    def other_instance(self) -> str:
        """A second running instance in the account."""
        ec2 = self.client("ec2")
        instance_id: str = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"][0][
            "InstanceId"
        ]
        return instance_id

    def load_balancer(self, name: str) -> str:
        """A Classic Load Balancer (HTTP 80 -> 8080) in the instance's zone."""
        self.client("elb").create_load_balancer(
            LoadBalancerName=name,
            Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 8080}],
            AvailabilityZones=[f"{REGION}a"],
        )
        return name

    def action(self, transition: Transition = Transition.LAUNCHING) -> LifecycleAction:
        return LifecycleAction(
            group_name=self.group_name,
            hook_name=f"{self.group_name}-hook",
            instance_id=self.instance_id,
            token=TOKEN,
            transition=transition,
            started_at=datetime(2026, 1, 1, tzinfo=UTC),
            origin="EC2" if transition is Transition.LAUNCHING else "AutoScalingGroup",
            destination="AutoScalingGroup" if transition is Transition.LAUNCHING else "EC2",
        )


@pytest.fixture
def aws() -> Iterator[Account]:
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        instance = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"][0]
        yield Account(instance["InstanceId"])


Ask = Callable[..., Answer]


@pytest.fixture
def ask(aws: Account) -> Ask:
    def run(
        check: type[Check],
        params: Mapping[str, Any] | None = None,
        memo: Any = None,
        transition: Transition | None = None,
        now: datetime | None = None,
    ) -> Answer:
        chosen = transition or next(iter(sorted(check.transitions)))
        return check().evaluate(
            CheckContext(
                aws.action(chosen),
                check.validate_params(params or {}),
                aws.client,
                memo,
                now or datetime(2026, 1, 1, 0, 5, tzinfo=UTC),
            )
        )

    return run
