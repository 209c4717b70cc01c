"""Play a scenario on the local stack and report what happened to every lifecycle action."""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asg_lifecycle import narrative
from asg_lifecycle.model import Transition, execution_prefix, parse_time
from asg_lifecycle.served import SERVING_TAG
from lifecycle_emulator.local_aws import REGION, LocalAws
from lifecycle_emulator.scenarios import InvalidScenario, Scenario, Step

AMI = "ami-12c6146b"  # an image moto knows
T0 = datetime(2026, 1, 1, tzinfo=UTC)
_SHORT = {
    "autoscaling:EC2_INSTANCE_LAUNCHING": "launch",
    "autoscaling:EC2_INSTANCE_TERMINATING": "terminate",
}


@dataclass
class ActionReport:
    """One lifecycle action: what Auto Scaling recorded and how its workflow ended."""

    instance_id: str
    transition: str
    hook: str
    token: str
    origin: str
    destination: str
    started_at: float
    ended_at: float | None
    end_reason: str | None
    result: str | None
    heartbeats: list[float]
    completions: int
    execution_status: str | None
    outcome: dict[str, Any] | None
    calls_after_end: int
    checks: list[dict[str, Any]] = field(default_factory=list)  # the last round's results
    # Every workflow that handled the action: the event's, a duplicate's or the reconciler's.
    workflows: list[str] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)  # each finished workflow's
    action: str | None = None  # the event's "Action" (ReplaceRootVolume), else None

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


@dataclass
class Report:
    scenario: str
    t0: float
    actions: list[ActionReport]
    timeline: list[tuple[float, str, str]]
    executions: int
    lambda_invocations: Counter[str]
    autoscaling_calls: Counter[str]
    wall_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def results(self) -> dict[str, dict[str, int]]:
        counts: dict[str, Counter[str]] = {}
        for action in self.actions:
            counts.setdefault(action.transition, Counter())[action.result or "NONE"] += 1
        return {k: dict(v) for k, v in counts.items()}


def play(scenario: Scenario, aws: LocalAws | None = None) -> Report:
    """Run ``scenario`` to the end of its virtual time (inside ``aws`` if given)."""
    if aws is not None:
        return _play(scenario, aws)
    with LocalAws(scenario.parameters, start=T0, behaviours=scenario.behaviour()) as local:
        return _play(scenario, local)


def _play(scenario: Scenario, aws: LocalAws) -> Report:
    import time  # noqa: PLC0415

    started = time.monotonic()
    t0 = begin(scenario, aws)
    report = finish(scenario, aws, t0)
    report.wall_seconds = time.monotonic() - started
    return report


def begin(scenario: Scenario, aws: LocalAws) -> float:
    """Create the scenario's group and schedule its steps; returns the play's start (epoch s).

    Nothing has run yet: :meth:`LocalAws.run` plays on (e.g. to a moment an operator acts at),
    :func:`finish` to the end.
    """
    t0 = aws.clock.time()
    _create_group(aws, scenario)
    asg = aws.client("autoscaling")
    for step in scenario.steps:
        aws.clock.call_at(t0 + step.at, functools.partial(_apply, aws, asg, scenario, step))
    return t0


def finish(scenario: Scenario, aws: LocalAws, t0: float) -> Report:
    """Play to the end of the scenario and report."""
    # Auto Scaling keeps replacing abandoned instances, so virtual time needs an end: the last
    # step plus the longest any action can last (the 48-hour global timeout) and an hour.
    aws.run(until=t0 + scenario.steps[-1].at + scenario.horizon)
    return build_report(aws, scenario.name, t0)


def _create_group(aws: LocalAws, scenario: Scenario) -> None:
    asg, ec2 = aws.client("autoscaling"), aws.client("ec2")
    asg.create_launch_configuration(
        LaunchConfigurationName=f"{scenario.group_name}-lc", ImageId=AMI, InstanceType="t3.micro"
    )
    target_groups: list[str] = []
    if scenario.target_group is not None:
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
        elbv2 = aws.client("elbv2")
        arn = elbv2.create_target_group(
            Name=f"{scenario.group_name}-tg",
            Protocol="HTTP",
            Port=80,
            VpcId=vpc["VpcId"],
            TargetType="instance",
        )["TargetGroups"][0]["TargetGroupArn"]
        delay = scenario.target_group.get("deregistrationDelay", 300)
        elbv2.modify_target_group_attributes(
            TargetGroupArn=arn,
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(delay)}],
        )
        target_groups.append(arn)
    policy: dict[str, Any] = {"LaunchConfigurationName": f"{scenario.group_name}-lc"}
    if scenario.replaces_root_volumes:  # "Replace root volumes": a mixed instances policy
        ec2.create_launch_template(
            LaunchTemplateName=f"{scenario.group_name}-lt",
            LaunchTemplateData={"ImageId": AMI, "InstanceType": "t3.micro"},
        )
        policy = {"MixedInstancesPolicy": _mixed_instances_policy(scenario)}
    if scenario.lifecycle_policy is not None:
        policy["InstanceLifecyclePolicy"] = {
            "RetentionTriggers": {"TerminateHookAbandon": scenario.lifecycle_policy}
        }
    asg.create_auto_scaling_group(
        **policy,
        AutoScalingGroupName=scenario.group_name,
        MinSize=0,
        MaxSize=scenario.max_size,
        DesiredCapacity=0,
        AvailabilityZones=[f"{REGION}a"],
        TargetGroupARNs=target_groups,
        # Serve the group the way a user of the stack's tag mode would (ignored with group names).
        Tags=[
            {
                "ResourceId": scenario.group_name,
                "ResourceType": "auto-scaling-group",
                "Key": SERVING_TAG,
                "Value": str(aws.stack.parameters.get("ServedGroupTagValue", "enabled")),
                "PropagateAtLaunch": False,
            }
        ],
    )
    for hook in scenario.hooks:
        params: dict[str, Any] = {
            "AutoScalingGroupName": scenario.group_name,
            "LifecycleHookName": hook.name,
            "LifecycleTransition": hook.transition,
            "HeartbeatTimeout": hook.heartbeat_timeout,
            "DefaultResult": hook.default_result,
        }
        if hook.metadata:
            params["NotificationMetadata"] = hook.metadata
        asg.put_lifecycle_hook(**params)
    if scenario.warm_pool is not None:
        asg.put_warm_pool(AutoScalingGroupName=scenario.group_name, **scenario.warm_pool)


def _mixed_instances_policy(scenario: Scenario) -> dict[str, Any]:
    """Its overrides give an ImageId, as a ReplaceRootVolume refresh requires."""
    spec = {"LaunchTemplateName": f"{scenario.group_name}-lt", "Version": "1"}
    overrides = [{"InstanceType": "t3.micro", "ImageId": AMI}]
    return {"LaunchTemplate": {"LaunchTemplateSpecification": spec, "Overrides": overrides}}


def _apply_pool_steps(asg: Any, scenario: Scenario, step: Step) -> None:
    """PutWarmPool, DeleteWarmPool, StartInstanceRefresh."""
    name = scenario.group_name
    if step.warm_pool is not None:
        asg.put_warm_pool(AutoScalingGroupName=name, **step.warm_pool)
    if step.delete_warm_pool is not None:
        asg.delete_warm_pool(
            AutoScalingGroupName=name, ForceDelete=step.delete_warm_pool == "force"
        )
    if step.instance_refresh is not None:
        asg.start_instance_refresh(
            AutoScalingGroupName=name,
            Strategy=step.instance_refresh["strategy"],
            DesiredConfiguration={"MixedInstancesPolicy": _mixed_instances_policy(scenario)},
            Preferences=step.instance_refresh.get("preferences", {}),
        )


def _apply(aws: LocalAws, asg: Any, scenario: Scenario, step: Step) -> None:
    if step.desired is not None:
        asg.set_desired_capacity(
            AutoScalingGroupName=scenario.group_name, DesiredCapacity=step.desired
        )
    launched = list(aws.fleet.behaviour)

    def instance(index: int, key: str) -> str:
        if index >= len(launched):
            raise InvalidScenario(
                f"step at {step.at:g} s: {key} names instance {index}, but only "
                f"{len(launched)} had launched by then"
            )
        return launched[index]

    for index in step.terminate:
        asg.terminate_instance_in_auto_scaling_group(
            InstanceId=instance(index, "terminate"), ShouldDecrementDesiredCapacity=True
        )
    if step.ec2_terminate:
        ids = [instance(i, "ec2Terminate") for i in step.ec2_terminate]
        aws.client("ec2").terminate_instances(InstanceIds=ids)
    for index in step.unhealthy:
        asg.set_instance_health(InstanceId=instance(index, "unhealthy"), HealthStatus="Unhealthy")
    _apply_pool_steps(asg, scenario, step)


def _outcome_of(execution: dict[str, Any]) -> dict[str, Any] | None:
    """A finished workflow's outcome (a failed or stopped one has none)."""
    output = execution["output"]
    return output.get("outcome") if isinstance(output, dict) else None


def _workflows_of(record: Any, by_prefix: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The executions that handled one action: named by its token, or reconciled (no token) and
    started while it was active."""
    prefix = execution_prefix(Transition(record.transition), record.instance_id, record.hook_name)
    found = []
    for execution in by_prefix.get(prefix, []):
        if execution["name"].endswith(record.token):
            found.append(execution)
            continue
        action = execution["input"].get("action", {})
        if action.get("Reconciled") == "true":
            started = parse_time(action.get("StartedAt")).timestamp()
            if record.started_at <= started <= (record.ended_at or float("inf")):
                found.append(execution)
    return found


def build_report(aws: LocalAws, name: str, t0: float) -> Report:
    by_prefix: dict[str, list[dict[str, Any]]] = {}
    executions = aws.executions()
    for e in executions:  # names: <transition>-i-<id>-<hook digest>-<token or run>
        by_prefix.setdefault("-".join(e["name"].split("-")[:4]), []).append(e)
    actions: list[ActionReport] = []
    problems: list[str] = []
    for record in aws.autoscaling.records:
        short = _SHORT[record.transition]
        workflows = _workflows_of(record, by_prefix)
        outcomes = [o for o in map(_outcome_of, workflows) if o is not None]
        # The one to show: the workflow that completed the action, else the first started.
        execution = next(
            (e for e in workflows if (_outcome_of(e) or {}).get("status") == "completed"),
            workflows[0] if workflows else None,
        )
        accepted = [c for c in record.calls if c.outcome == "accepted"]
        completions = sum(1 for c in accepted if c.operation == "CompleteLifecycleAction")
        late = [c for c in record.calls if record.ended_at is not None and c.at > record.ended_at]
        output = execution["output"] if execution else None
        actions.append(
            ActionReport(
                instance_id=record.instance_id,
                transition=short,
                hook=record.hook_name,
                token=record.token,
                origin=record.origin,
                destination=record.destination,
                action=record.action,
                started_at=record.started_at - t0,
                ended_at=None if record.ended_at is None else record.ended_at - t0,
                end_reason=record.end_reason,
                result=record.result,
                heartbeats=[h - t0 for h in record.heartbeats],
                completions=completions,
                execution_status=execution["status"] if execution else None,
                outcome=output.get("outcome") if isinstance(output, dict) else None,
                calls_after_end=len(late),
                checks=list(output.get("checks") or []) if isinstance(output, dict) else [],
                workflows=[e["name"] for e in workflows],
                outcomes=outcomes,
            )
        )
        if record.ended_at is None:
            problems.append(f"{record.instance_id} {short}: action never ended")
        if execution is None and not record.event_dropped:
            problems.append(f"{record.instance_id} {short}: event delivered but no workflow ran")
        if execution is None and record.end_reason in ("heartbeat-timeout", "global-timeout"):
            problems.append(f"{record.instance_id} {short}: timed out with no workflow")
        if completions > 1:
            problems.append(f"{record.instance_id} {short}: completed {completions} times")
    return Report(
        scenario=name,
        t0=t0,
        actions=actions,
        timeline=_timeline(aws, t0),
        executions=len(executions),
        lambda_invocations=Counter(i.function for i in aws.runtime.invocations),
        autoscaling_calls=Counter(c.operation for c in aws.autoscaling.calls),
        problems=problems,
    )


def _timeline(aws: LocalAws, t0: float) -> list[tuple[float, str, str]]:
    """(virtual seconds, instance, what happened), in order.

    Within one virtual second: actions starting, then the functions' work in call order, then
    Auto Scaling ending actions (which the functions' calls caused).
    """
    lines: list[tuple[float, int, str, str]] = []
    for record in aws.autoscaling.records:
        short = _SHORT[record.transition]
        wait = _wait_state(record)
        where = f"{record.origin}->{record.destination}"
        sent = "event lost" if record.event_dropped else "event sent"
        lines.append(
            (
                record.started_at - t0,
                0,
                record.instance_id,
                f"{short:9} {wait} hook {record.hook_name} token {record.token[:8]} "
                f"({where}); {sent}",
            )
        )
        if record.ended_at is not None:
            how = record.end_reason or "ended"
            lines.append(
                (
                    record.ended_at - t0,
                    2,
                    record.instance_id,
                    f"{short:9} Auto Scaling: action {how}, result {record.result or '-'}",
                )
            )
    for leaving in aws.autoscaling.deregistrations:
        drain = f"draining {int(leaving.delay)} s" if leaving.delay else "no draining"
        lines.append(
            (
                leaving.at - t0,
                0,
                leaving.instance_id,
                f"{'terminate':9} Terminating: deregistered from its load balancers, {drain} "
                "before the terminate hooks",
            )
        )
    for inv in aws.runtime.invocations:
        described = _describe_invocation(inv.function, inv.payload, inv.result, inv.error)
        for instance, text in described:
            lines.append((inv.at.timestamp() - t0, 1, instance, text))
    lines.sort(key=lambda line: (line[0], line[1]))
    return [(at, instance, text) for at, _, instance, text in lines]


def _wait_state(record: Any) -> str:
    """The state the action holds its instance in ("Use lifecycle hooks with a warm pool",
    "Use lifecycle hooks with replace root volume")."""
    if record.transition == "autoscaling:EC2_INSTANCE_LAUNCHING":
        return "Warmed:Pending:Wait" if record.destination == "WarmPool" else "Pending:Wait"
    if record.action == "ReplaceRootVolume":
        return "ReplacingRootVolume:Wait"
    if record.destination == "WarmPool":
        return "Warmed:Pending:Wait"
    return "Warmed:Terminating:Wait" if record.origin == "WarmPool" else "Terminating:Wait"


def _describe_invocation(
    function: str, payload: Any, result: Any, error: str | None
) -> list[tuple[str, str]]:
    """What one invocation did: a line for the start function and each workflow task
    (:mod:`asg_lifecycle.narrative`, as the operator CLI's timeline says it)."""
    if function == "StartFunction":
        detail = payload.get("detail", {}) if isinstance(payload, dict) else {}
        instance = str(detail.get("EC2InstanceId", "?"))
        short = "launch" if "launch" in str(payload.get("detail-type", "")) else "terminate"
        status = result.get("status") if isinstance(result, dict) else error
        return [(instance, f"{short:9} StartFunction: workflow {status}")]
    if function == "SignalFunction":
        return _describe_signal(payload, result, error)
    task = narrative.FUNCTIONS.get(function)
    if task is None:
        return []
    action = payload.get("action", {}) if isinstance(payload, dict) else {}
    instance = str(action.get("EC2InstanceId", "?"))
    short = _SHORT.get(str(action.get("LifecycleTransition")), "?")
    if error is not None or not isinstance(result, dict):
        message = result.get("errorMessage", "") if isinstance(result, dict) else ""
        return [(instance, f"{short:9} {function} failed: {error}: {str(message)[:160]}")]
    before = payload if isinstance(payload, dict) else None
    return [(instance, f"{short:9} {narrative.describe(task, before, result)}")]


def _describe_signal(payload: Any, result: Any, error: str | None) -> list[tuple[str, str]]:
    """A signal's line for each wait it ended (a signal that found none is not told: most AWS
    events the rules route are about instances no round waits for)."""
    if error is not None or not isinstance(result, dict):
        return []
    source = payload.get("source", "?") if isinstance(payload, dict) else "?"
    lines = []
    for ended in result.get("waitsEnded", []):
        instance, _, hook = str(ended).partition(" ")
        lines.append((instance, f"{'signal':9} {source}: the wait of hook {hook} ends, round now"))
    return lines


def format_seconds(seconds: float) -> str:
    whole = int(seconds)
    return f"+{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def render(report: Report, timeline: bool = True, limit: int = 400) -> str:
    out: list[str] = [f"Scenario {report.scenario}"]
    if timeline:
        out.append("")
        out.append("Timeline (virtual time since the scenario started)")
        for at, instance, text in report.timeline[:limit]:
            out.append(f"  {format_seconds(at)}  {instance}  {text}")
        if len(report.timeline) > limit:
            out.append(f"  ... {len(report.timeline) - limit} more lines (use --limit)")
    out.append("")
    out.append("Outcome per lifecycle action")
    out.append(
        f"  {'instance':20} {'transition':10} {'hook':16} {'result':8} {'how':18} "
        f"{'heartbeats':>10} {'took':>9}"
    )
    for a in report.actions:
        took = "-" if a.duration is None else format_seconds(a.duration)[1:]
        how = (a.outcome or {}).get("status") or a.end_reason or "running"
        out.append(
            f"  {a.instance_id:20} {a.transition:10} {a.hook[:16]:16} {a.result or '-':8} "
            f"{how:18} {len(a.heartbeats):>10} {took:>9}"
        )
    out.append("")
    out.append(
        f"Actions {len(report.actions)}, executions {report.executions}, results {report.results()}"
    )
    out.append(
        f"Auto Scaling calls {dict(report.autoscaling_calls)}; Lambda invocations "
        f"{dict(report.lambda_invocations)}"
    )
    out.append(f"Wall time {report.wall_seconds:.1f}s")
    for problem in report.problems:
        out.append(f"PROBLEM: {problem}")
    return "\n".join(out)
