"""The whole stack on an embedded AWS (moto) with one virtual clock: no account, no Docker.

    with LocalAws() as aws:
        aws.client("autoscaling").set_desired_capacity(...)
        aws.run()                      # play virtual time until nothing is left to do

Inside, ``template.yaml`` is deployed into moto (functions, rules, queues, DynamoDB tables, state
machine), the real handlers run in-process, Auto Scaling holds instances in lifecycle wait states
and sends the EventBridge events, other services send theirs (``service_sources.py``), and Step
Functions runs the real definition.
"""

from __future__ import annotations

import io
import json
import os
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from moto.moto_api._internal import mock_random

from asg_lifecycle import clock as lambda_clock
from asg_lifecycle.adapters import clients
from lifecycle_emulator.autoscaling import LifecycleActions
from lifecycle_emulator.clock import VirtualClock
from lifecycle_emulator.fleet import Fleet, InstanceBehaviour
from lifecycle_emulator.runtime import LambdaRuntime, Patches, reserve_environment
from lifecycle_emulator.service_sources import ServiceEvents
from lifecycle_emulator.template import TEMPLATE, RuleSpec, StackSpec, TableSpec, load_stack

REGION = "us-east-1"
ACCOUNT = "123456789012"
_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "MOTO_ALLOW_NONEXISTENT_REGION": "true",
}
_LAMBDA_ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


class LocalAws:
    """Context manager: an emulated account running this stack on a virtual clock."""

    def __init__(
        self,
        parameters: Mapping[str, Any] | None = None,
        start: datetime | None = None,
        behaviours: Iterator[InstanceBehaviour] | Callable[[int], InstanceBehaviour] | None = None,
        template: Path = TEMPLATE,
    ) -> None:
        self.parameters = dict(parameters or {})
        self.template = template
        self.clock = VirtualClock(start)
        self.fleet = Fleet(self.clock, behaviours)
        self.stack: StackSpec
        self.runtime: LambdaRuntime
        self.autoscaling: LifecycleActions
        # EC2 tag, Parameter Store, Run Command and ECS events (service_sources.py)
        self.service_events = ServiceEvents(
            self.clock, self.fleet, account_id=ACCOUNT, region=REGION
        )
        self._saved_env: dict[str, str | None] = {}
        self._mock: Any = None
        self._patches: Patches | None = None
        self._warnings = warnings.catch_warnings()

    # --- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> LocalAws:
        from moto import mock_aws  # noqa: PLC0415

        # A function that emitted no metric this invocation (most rounds) is not news here.
        self._warnings.__enter__()  # the filter below is undone on exit
        warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
        for key, value in _FAKE_ENV.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        self._mock = mock_aws(
            config={
                "stepfunctions": {"execute_state_machine": True},
                "lambda": {"use_docker": False},
            }
        )
        self._mock.start()
        # moto's identifiers (instance ids, ...) and the lifecycle tokens come from one seeded
        # generator: a scenario plays the same way every time, so an id seen in one run (an
        # operator's `asg-lifecycle --local ... list`) names the same instance in the next.
        mock_random.seed(0)
        try:
            self._install()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _install(self) -> None:
        lambda_clock.use(self.clock.now)
        clients.reset()
        self.stack = load_stack(
            self.parameters, region=REGION, account=ACCOUNT, template_path=self.template
        )
        for key, value in reserve_environment(self.stack).items():
            self._saved_env.setdefault(key, value)
        self.runtime = LambdaRuntime(self.stack, self.clock)
        self.runtime.record_api_calls()
        self._patches = Patches(self.runtime)
        self._patches.install()
        self.fleet.install()
        self.autoscaling = LifecycleActions(self.clock, account_id=ACCOUNT, region=REGION)
        self.autoscaling.install()
        self.service_events.install()
        self._deploy()

    def __exit__(self, *exc: object) -> None:
        self.service_events.uninstall()
        if getattr(self, "autoscaling", None) is not None:
            self.autoscaling.uninstall()
        self.fleet.uninstall()
        if self._patches is not None:
            self._patches.uninstall()
        if self._mock is not None:
            self._mock.stop()
        lambda_clock.use(None)
        LambdaRuntime.stop_recording_api_calls()
        clients.reset()
        self._warnings.__exit__(None, None, None)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    # --- deploying template.yaml into moto ---------------------------------------------
    def _deploy(self) -> None:
        iam, lam = self.client("iam"), self.client("lambda")
        role_arn = iam.create_role(
            RoleName=f"{self.stack.name}-emulated", AssumeRolePolicyDocument=_LAMBDA_ROLE_POLICY
        )["Role"]["Arn"]
        for table in self.stack.tables.values():
            self._create_table(table)
        code = _placeholder_zip()
        for fn in self.stack.functions.values():
            lam.create_function(
                FunctionName=fn.name,
                Runtime="python3.13",
                Role=role_arn,
                Handler=fn.handler,
                Code={"ZipFile": code},
                Timeout=fn.timeout,
                Environment={"Variables": fn.environment},
            )
        sqs = self.client("sqs")
        for queue in self.stack.queues.values():
            sqs.create_queue(QueueName=queue)
        self.client("stepfunctions").create_state_machine(
            name=self.stack.state_machine_name,
            definition=self.stack.definition,
            roleArn=role_arn,
            type="STANDARD",
        )
        events = self.client("events")
        for rule in self.stack.rules.values():
            if rule.schedule is not None:
                # Driven here, not by moto's EventBridge: a rule without a pattern would match
                # every event put on the bus.
                self._schedule(rule)
                continue
            events.put_rule(Name=rule.name, EventPattern=json.dumps(rule.pattern), State="ENABLED")
            events.put_targets(Rule=rule.name, Targets=rule.targets)
        self._register_stack()

    def _create_table(self, table: TableSpec) -> None:
        """The template's DynamoDB table, with its TTL setting.

        TTL is set, not enforced: AWS deletes expired items lazily ("typically within a few
        days", DynamoDB Developer Guide, "Working with Time to Live"), and moto never does; a
        reader must filter on the TTL attribute itself, here as in AWS.
        """
        dynamodb = self.client("dynamodb")
        dynamodb.create_table(**table.create_table_request())
        if table.ttl_attribute is not None:
            dynamodb.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )

    def _register_stack(self) -> None:
        """A CloudFormation stack of the template's name and outputs, so that tools that find
        the stack's resources with DescribeStacks (the operator CLI) work here as in AWS."""
        template = {
            # moto models no resource-less stack; this one creates nothing (moto warns so).
            "Resources": {"Deployed": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": {
                key: {"Value": value}
                for key, value in self.stack.outputs.items()
                if isinstance(value, str)
            },
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            self.client("cloudformation").create_stack(
                StackName=self.stack.name, TemplateBody=json.dumps(template)
            )

    def _schedule(self, rule: RuleSpec) -> None:
        """A schedule rule invokes its targets every period, as EventBridge's scheduler does.

        A tick re-arms only while something else is scheduled (an action's hook timeout, a
        workflow's wait, a scenario step): a run still ends when there is nothing left to do.
        """
        period = rule.period_seconds
        assert period is not None
        # EventBridge starts a rate schedule when the rule is created, not on the minute: the
        # runs fall between a scenario's round-number steps rather than on them.
        offset = 37

        def tick() -> None:
            for target in rule.targets:
                fn = self.stack.function_by_arn(target["Arn"])
                if fn is not None:
                    self.runtime.invoke_async(fn, _scheduled_event(rule, self.clock.now()))
            if self.clock.next_due() is not None:
                self.clock.call_later(period, tick)

        self.clock.call_later(period + offset, tick)

    # --- using it ----------------------------------------------------------------------
    def add_function(self, name: str, handler: Callable[[Any], Any]) -> str:
        """A user's Lambda function (e.g. a custom check), run in-process; returns its ARN."""
        lam = self.client("lambda")
        role = self.client("iam").get_role(RoleName=f"{self.stack.name}-emulated")["Role"]["Arn"]
        arn: str = lam.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": _placeholder_zip()},
        )["FunctionArn"]
        self.runtime.user_functions[name] = handler
        return arn

    def client(self, service: str) -> Any:
        import boto3  # noqa: PLC0415

        make: Any = boto3.client
        return make(service, region_name=REGION)

    def run(self, until: float | None = None, real_timeout: float = 120.0) -> None:
        """Play virtual time until nothing is scheduled (or until the epoch second ``until``)."""
        self.clock.run(until=until, real_timeout=real_timeout)

    def advance(self, seconds: float, real_timeout: float = 120.0) -> None:
        self.clock.advance(seconds, real_timeout=real_timeout)

    @property
    def state_machine_arn(self) -> str:
        return self.stack.state_machine_arn

    def executions(self) -> list[dict[str, Any]]:
        """Every execution of the lifecycle state machine with its parsed input and output.

        Read from moto's Step Functions backend rather than through DescribeExecution, which moto
        answers by scanning every execution (a 1,000-instance report would be quadratic).
        """
        found: list[dict[str, Any]] = []
        for execution in self._sfn_executions():
            described = execution.to_describe_output()
            found.append(
                {
                    "name": described["name"],
                    "arn": described["executionArn"],
                    "status": described["status"],
                    "input": json.loads(described.get("input") or "{}"),
                    "output": json.loads(described.get("output") or "null"),
                    "error": described.get("error"),
                    "cause": described.get("cause"),
                }
            )
        return found

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        """An execution's events, as GetExecutionHistory lists them."""
        for execution in self._sfn_executions():
            if execution.exec_arn == execution_arn:
                return list(execution.to_history_output()["events"])
        raise KeyError(execution_arn)

    def histories(self) -> dict[str, list[dict[str, Any]]]:
        """Every execution's events by execution ARN (one pass, for reports over many)."""
        return {e.exec_arn: list(e.to_history_output()["events"]) for e in self._sfn_executions()}

    def _sfn_executions(self) -> list[Any]:
        from moto.stepfunctions.parser.models import (  # noqa: PLC0415
            stepfunctions_parser_backends,
        )

        backend = stepfunctions_parser_backends[ACCOUNT][REGION]
        machine = backend.describe_state_machine(self.state_machine_arn)
        return list(machine.executions)


def _scheduled_event(rule: RuleSpec, at: datetime) -> dict[str, Any]:
    """What EventBridge sends a schedule rule's target (``time``: the scheduled time)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule.arn],
        "detail": {},
    }


def _placeholder_zip() -> bytes:
    """moto stores a function's code; the handlers run from this checkout instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "handlers run in-process from the project checkout")
    return buffer.getvalue()
