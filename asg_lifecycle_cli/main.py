"""``asg-lifecycle``: list, inspect, extend, complete lifecycle actions in flight; signal their
instances (their checks run now); re-send events.

Credentials and Region come from the usual chain (``--profile``/``AWS_PROFILE``, environment, SSO,
instance roles; ``--region``/``AWS_REGION``). ``--local SCENARIO --at SECONDS`` runs the same
commands against the embedded emulator instead.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)

from asg_lifecycle import clock, narrative
from asg_lifecycle.model import LifecycleResult, Transition, without_token
from asg_lifecycle_cli import executions, operations, signals, waiting
from asg_lifecycle_cli.errors import (
    AmbiguousAction,
    AwsError,
    NoCredentials,
    NoRegion,
    NoStackName,
    OperatorError,
    UnknownAction,
)
from asg_lifecycle_cli.local import LocalSession
from asg_lifecycle_cli.stack import Stack, describe, name_from_samconfig, region_from_samconfig
from asg_lifecycle_cli.views import (
    RELEASE_COMMAND,
    ActionView,
    checks_summary,
    duration,
    is_instance_id,
    retained_json,
    seconds_until,
    timeline,
    transition_words,
)


@dataclass
class Session:
    """What every command needs: clients from one boto3 session, and the stack (read once)."""

    stack_name: str | None
    region: str | None
    profile: str | None
    local: LocalSession | None = None
    _boto: Any = None
    _clients: dict[str, Any] = field(default_factory=dict)
    _stack: Stack | None = None
    _identity: dict[str, Any] | None = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3  # noqa: PLC0415 - `--help` should not pay for it
            from botocore.config import Config  # noqa: PLC0415

            if self._boto is None:
                self._boto = boto3.Session(profile_name=self.profile, region_name=self.region)
            self._clients[service] = self._boto.client(
                service, config=Config(retries={"mode": "adaptive", "max_attempts": 10})
            )
        return self._clients[service]

    def stack(self) -> Stack:
        if self._stack is None:
            samconfig = Path("samconfig.toml")
            configured = name_from_samconfig(samconfig)
            name = self.stack_name or (self.local.stack_name if self.local else None) or configured
            if not name:
                raise NoStackName()
            if self.stack_name and configured and self.stack_name != configured:
                click.echo(
                    f"Warning: acting on stack {self.stack_name!r} (--stack or "
                    f"ASG_LIFECYCLE_STACK), not {configured!r}, the stack_name in ./{samconfig}.",
                    err=True,
                )
            region = self.client("cloudformation").meta.region_name
            expected = region_from_samconfig(samconfig)
            if name == configured and expected and expected != region:
                click.echo(
                    f"Warning: ./{samconfig} deploys stack {name!r} to Region {expected}; "
                    f"this command acts on Region {region} (--region, AWS_REGION or the "
                    "profile): a same-named stack there is another stack.",
                    err=True,
                )
            self._stack = describe(self.client("cloudformation"), name)
        return self._stack

    def identity(self) -> dict[str, Any]:
        """STS GetCallerIdentity (once): the account and who is acting."""
        if self._identity is None:
            self._identity = dict(self.client("sts").get_caller_identity())
        return self._identity

    def operator(self) -> str:
        """Who is acting (recorded in a stopped workflow's cause; CloudTrail has the calls)."""
        return str(self.identity()["Arn"])

    def target(self) -> str:
        """Where a command acts: account, Region and stack, named in every confirmation."""
        account = self.identity().get("Account", "unknown")
        region = self.client("cloudformation").meta.region_name
        return f"account {account}, Region {region}, stack {self.stack().name}"

    def acting_on(self) -> None:
        """Say, before a command that changes something without asking, where it acts."""
        click.echo(f"Acting on {self.target()}.")

    def changed(self) -> None:
        """After a command that changed something: locally, play on and show the outcomes."""
        if self.local is not None:
            click.echo("")
            click.echo(self.local.play_on())


class _Cli(click.Group):
    """Turns AWS's and botocore's errors into one line that says what to do (exit status 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (
            NoCredentialsError,
            PartialCredentialsError,
            CredentialRetrievalError,
            TokenRetrievalError,
            SSOError,
        ) as exc:
            raise NoCredentials(str(exc)) from exc
        except NoRegionError as exc:
            raise NoRegion() from exc
        except ProfileNotFound as exc:
            raise OperatorError(str(exc)) from exc
        except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
            raise OperatorError(f"cannot reach AWS: {exc}") from exc
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise AwsError(
                exc.operation_name, str(error.get("Code")), str(error.get("Message"))
            ) from exc
        except BotoCoreError as exc:  # any other failure of the SDK: its message, no traceback
            raise OperatorError(str(exc)) from exc


@click.group(cls=_Cli)
@click.option(
    "--stack",
    "stack_name",
    envvar="ASG_LIFECYCLE_STACK",
    help="the deployed stack (default: $ASG_LIFECYCLE_STACK, else stack_name in ./samconfig.toml)",
)
@click.option("--region", help="AWS Region (default: the usual chain, e.g. AWS_REGION)")
@click.option("--profile", help="AWS profile (default: the usual chain, e.g. AWS_PROFILE)")
@click.option(
    "--local",
    "scenario",
    metavar="SCENARIO",
    help="run against the embedded emulator playing this scenario (asg-lifecycle-local list)",
)
@click.option(
    "--at",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    help="with --local: the virtual second of the scenario the command runs at",
)
@click.pass_context
def cli(
    ctx: click.Context,
    *,
    stack_name: str | None,
    region: str | None,
    profile: str | None,
    scenario: str | None,
    at: float,
) -> None:
    """Operate the lifecycle actions of an asg-lifecycle-orchestrator stack."""
    session = Session(stack_name, region, profile)
    if scenario is not None and ctx.invoked_subcommand is not None:
        session.local = LocalSession(scenario, at)
        ctx.call_on_close(session.local.close)
    ctx.obj = session


@cli.command(name="list")
@click.option("--group", help="only this Auto Scaling group")
@click.option("--json", "as_json", is_flag=True, help="one JSON document")
@click.pass_obj
def list_actions(session: Session, group: str | None, as_json: bool) -> None:
    """The lifecycle actions in flight, oldest first; then those waiting with no workflow; then
    the instances retained after an abandoned termination, with what to do."""
    stack, sfn = session.stack(), session.client("stepfunctions")
    running = list(executions.summaries(sfn, stack))
    now = clock.now()
    found, unread = _unattended(session, [str(r["name"]) for r in running], now, group)
    unattended = found.views
    views = executions.in_flight(sfn, running, group) + unattended
    if as_json:
        documents = [v.to_json(now) for v in views] + [retained_json(r) for r in found.retained]
        click.echo(json.dumps(documents, indent=2))
        if unread:  # on stderr: the document stays parseable
            click.echo(f"Instances held with no workflow running not shown: {unread}.", err=True)
        return
    if not views:
        click.echo(f"No lifecycle action in flight in stack {stack.name}.")
    else:
        rows = [
            (
                v.action.instance_id,
                v.action.group_name,
                v.action.hook_name,
                transition_words(v.action),
                duration(v.age_seconds(now)),
                duration(seconds_until(v.hook_expires_at, now)),
                duration(seconds_until(v.gives_up_at, now)),
                v.phase(now),
                checks_summary(v.checks),
            )
            for v in views
        ]
        header = (
            "INSTANCE",
            "GROUP",
            "HOOK",
            "TRANSITION",
            "AGE",
            "HOOK EXPIRES IN",
            "GIVES UP IN",
            "PHASE",
            "LAST CHECKS",
        )
        click.echo(_table([header, *rows]))
    if unattended:
        click.echo(
            f"\n{len(unattended)} waiting with no workflow running (a lost event, or a workflow "
            "that ended early): the reconciler starts one on its next run; `extend` or "
            "`complete` acts now."
        )
    if found.retained:
        click.echo(
            f"\n{len(found.retained)} retained after an abandoned termination (the group's "
            "instance lifecycle policy retains on TerminateHookAbandon): no hook holds them, they "
            "do not count toward desired capacity and run until terminated."
        )
        kept = [(r.instance_id, r.group_name, r.lifecycle_state) for r in found.retained]
        click.echo(_table([("INSTANCE", "GROUP", "STATE"), *kept]))
        click.echo(
            "Find out why its termination was abandoned (`asg-lifecycle show INSTANCE`), finish "
            "what it left undone, then release it:\n  " + RELEASE_COMMAND
        )
    if unread:
        click.echo(f"\n(Instances a hook holds with no workflow running are not shown: {unread}.)")


_DENIED = ("AccessDenied", "AccessDeniedException")


def _unattended(
    session: Session, running: list[str], now: datetime, group: str | None = None
) -> tuple[waiting.Unattended, str | None]:
    """The actions Auto Scaling holds with no workflow running (``running``: the running
    executions' names) and the retained instances, and why none could be read, if so."""
    stack = session.stack()
    none = waiting.Unattended([], [])
    try:
        found = waiting.unattended(session.client("autoscaling"), stack, running, now, group)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in _DENIED:
            raise
        return none, f"Auto Scaling denied the read ({exc})"
    if found is None:
        return none, f"stack {stack.name} has no ServedGroups output: deploy this version"
    return found, None


@cli.command()
@click.argument("what", metavar="INSTANCE_OR_EXECUTION")
@click.option("--hook", help="the hook, when the instance has actions for several")
@click.option("--json", "as_json", is_flag=True, help="one JSON document")
@click.pass_obj
def show(session: Session, what: str, hook: str | None, as_json: bool) -> None:
    """One action's timeline (its running workflow, else its latest)."""
    _check_target(what)
    sfn = session.client("stepfunctions")
    view = executions.find(sfn, session.stack(), what, hook)
    entries = timeline(executions.history(sfn, view.execution_arn))
    now = clock.now()
    if as_json:
        document = {
            "action": view.to_json(now),
            "timeline": [
                {"at": e.at.isoformat(), "what": e.what, "details": e.details} for e in entries
            ],
        }
        click.echo(json.dumps(document, indent=2, default=str))
        return
    click.echo(_header(view, now))
    click.echo("")
    start = view.action.started_at
    for entry in entries:  # the tokens cut, as in the names printed (a cause may quote one)
        offset = int((entry.at - start).total_seconds())
        sign = "-" if offset < 0 else "+"
        click.echo(f"  {sign + duration(abs(offset)):>8}  {without_token(entry.what)}")
        for detail in entry.details:
            click.echo(f"            {without_token(detail)}")


@cli.command()
@click.argument("instance")
@click.option("--hook", help="the hook, when the instance has actions for several")
@click.pass_obj
def extend(session: Session, instance: str, hook: str | None) -> None:
    """Record a heartbeat now: the hook's HeartbeatTimeout starts again."""
    _check_instance(instance)
    view = _locate(session, instance, hook).view
    session.acting_on()
    operations.extend(session.client("autoscaling"), view)
    timeout = view.plan.get("heartbeatTimeout")
    expires = (
        f"the hook expires {timeout} s from now unless completed"
        if timeout
        else "the hook's HeartbeatTimeout starts again"
    )
    click.echo(f"Heartbeat recorded for {instance} ({view.action.hook_name}): {expires}.")
    if view.status != "RUNNING":
        click.echo("No workflow runs for it: the reconciler starts one on its next run.")
    else:
        gives_up = view.plan.get("giveUpAt", "when planned")
        click.echo(
            "Its workflow does not see this heartbeat: it keeps its own schedule and deadline "
            f"(gives up at {gives_up})."
        )
    session.changed()


def _locate(session: Session, instance: str, hook: str | None) -> executions.Located:
    """The instance's action: its running workflow's; else the action Auto Scaling holds now with
    no workflow running (a lost event, a workflow that ended early), addressed by instance id as
    a reconciled workflow addresses it; else its latest workflow's (one that ended may have left
    its action waiting: Auto Scaling says whether it still is). An ended workflow may belong to
    an earlier action of the instance (its launch, when its termination's event was lost), so the
    waiting action comes first."""
    sfn, stack = session.client("stepfunctions"), session.stack()
    try:
        located: executions.Located | None = executions.locate(sfn, stack, instance, hook)
    except UnknownAction:
        located = None
    if located is not None and located.view.status == "RUNNING":
        return located
    held = _held_without_workflow(session, instance, hook)
    if held is not None:
        return executions.Located(held, [])
    if located is None:
        raise UnknownAction(instance + (f" on hook {hook!r}" if hook else ""), stack.name)
    return located


def _held_without_workflow(session: Session, instance: str, hook: str | None) -> ActionView | None:
    # No workflow of this instance (on this hook) runs, or _locate would have returned it: no
    # running names are needed to tell its actions apart.
    unattended = waiting.without_workflow(
        session.client("autoscaling"), session.stack(), [], clock.now()
    )
    found = [
        v
        for v in unattended or []
        if v.action.instance_id == instance and hook in (None, v.action.hook_name)
    ]
    hooks = sorted({v.action.hook_name for v in found})
    if len(hooks) > 1:
        raise AmbiguousAction(instance, hooks)
    return found[0] if found else None


@cli.command()
@click.argument("instance")
@click.option("--result", type=click.Choice(["CONTINUE", "ABANDON"]), required=True)
@click.option("--hook", help="the hook, when the instance has actions for several")
@click.option(
    "--reason",
    default="completed by hand",
    show_default=True,
    help="recorded in the stopped workflow's cause",
)
@click.option("--yes", is_flag=True, help="do not ask before a launch's CONTINUE")
@click.pass_obj
def complete(
    session: Session, *, instance: str, result: str, hook: str | None, reason: str, yes: bool
) -> None:
    """CompleteLifecycleAction now, then stop the action's workflow."""
    _check_instance(instance)
    sfn = session.client("stepfunctions")
    located = _locate(session, instance, hook)
    view = located.view
    chosen = LifecycleResult(result)
    if yes:
        session.acting_on()
    else:
        effect = {
            (Transition.LAUNCHING, LifecycleResult.CONTINUE): "puts it in service",
            (Transition.LAUNCHING, LifecycleResult.ABANDON): "terminates it (and launches another)",
        }.get((view.action.transition, chosen), "lets it terminate now (its drain ends)")
        click.confirm(
            f"In {session.target()}: "
            f"{chosen.value} {instance} ({view.action.transition.short}, group "
            f"{view.action.group_name}, hook {view.action.hook_name}) {effect}. Its workflow: "
            f"{view.phase(clock.now())}; last checks: {checks_summary(view.checks, 200)}. Go on?",
            abort=True,
        )
    done = operations.complete(
        session.client("autoscaling"),
        sfn,
        view,
        located.running,
        result=chosen,
        reason=reason,
        operator=session.operator(),
    )
    click.echo(f"Completed {instance} ({view.action.hook_name}) with {chosen.value}.")
    for arn in done.stopped:
        click.echo(f"Stopped its workflow {without_token(arn.rsplit(':', 1)[-1])}.")
    for failure in done.not_stopped:
        click.echo(
            f"Could not stop workflow {without_token(failure)}; it ends by itself "
            "(already-finished) at its next heartbeat or completion."
        )
    session.changed()


@cli.command()
@click.argument("file", required=False, type=click.File("r"))
@click.option("--from-dlq", is_flag=True, help="the events in the stack's dead-letter queue")
@click.option(
    "--max",
    "limit",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="with --from-dlq: messages to handle at most",
)
@click.option("--dry-run", is_flag=True, help="with --from-dlq: say what would be done")
@click.pass_obj
def resend(session: Session, file: Any, from_dlq: bool, limit: int, dry_run: bool) -> None:
    """Re-send a stored lifecycle event (a file, or the dead-letter queue) to StartFunction."""
    if (file is None) == (not from_dlq):
        raise click.UsageError("give either an event FILE or --from-dlq")
    stack = session.stack()
    lam = session.client("lambda")
    sfn = session.client("stepfunctions")
    if file is not None:
        try:
            stored = json.load(file)
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="FILE") from exc
        _, event = operations.event_of(stored)  # a Lambda failure record: its requestPayload
        running = operations.running_workflow_of(executions.running_names(sfn, stack), event)
        if running is not None:
            click.echo(f"Not sent: its action is handled by the running workflow {running}.")
            return
        over = operations.not_held(session.client("autoscaling"), event)
        if over is not None:
            click.echo(f"Not sent: Auto Scaling no longer holds its action ({over}).")
            return
        session.acting_on()
        answer = operations.invoke_start(lam, stack, event)
        if "executionArn" in answer:
            answer["executionArn"] = without_token(str(answer["executionArn"]))
        click.echo(json.dumps(answer))
        session.changed()
        if answer.get("status") == "rejected":
            raise OperatorError(f"StartFunction rejected the event: {answer.get('reason')}")
        return
    names = executions.running_names(sfn, stack)
    asg = session.client("autoscaling")

    def handled_by(event: Any) -> str | None:
        running = operations.running_workflow_of(names, event)
        if running is not None:
            return f"handled by {running}"
        over = operations.not_held(asg, event)
        return None if over is None else f"not sent: Auto Scaling no longer holds it ({over})"

    if not dry_run:
        session.acting_on()
    done = operations.resend_dead_letters(
        session.client("sqs"),
        stack,
        lambda e: operations.invoke_start(lam, stack, e),
        handled_by,
        limit=limit,
        dry_run=dry_run,
    )
    if not done:
        click.echo("The dead-letter queue is empty.")
        return
    rows = [(r.message_id[:12], r.what, r.disposition, r.answer) for r in done]
    click.echo(_table([("MESSAGE", "WHAT", "DONE", "ANSWER"), *rows]))
    if not dry_run:
        session.changed()
    kept = [r for r in done if r.disposition == "kept"]
    if kept:
        raise OperatorError(f"{len(kept)} message(s) kept in the dead-letter queue (see above)")


@cli.command()
@click.argument("instances", metavar="INSTANCE...", nargs=-1, required=True)
@click.pass_obj
def signal(session: Session, instances: tuple[str, ...]) -> None:
    """Send each waiting instance's own signal ("Run checks now"): its waiting rounds run their
    checks now. It never completes anything; an instance in no lifecycle wait gets nothing."""
    try:
        entries = signals.entries(instances)
    except signals.MalformedInstance as exc:
        raise click.BadParameter(f"{exc}: nothing sent", param_hint="INSTANCE") from exc
    session.acting_on()
    found = signals.whereabouts(session.client("autoscaling"), list(entries))
    waiting = {i: e for i, e in entries.items() if i in found and found[i].waiting}
    sent = {s.instance: s for s in signals.put(session.client("events"), waiting)}
    for instance in entries:
        where = found.get(instance)
        if where is None or instance not in sent:
            state = f"{where.state} in group {where.group}" if where else "in no Auto Scaling group"
            click.echo(
                f"{instance} is not in a lifecycle wait ({state}): nothing sent, nothing waits "
                "for its signal."
            )
            continue
        waits = f"{instance} waits in {where.state} (group {where.group})"
        answer = sent[instance]
        if answer.ok:
            click.echo(
                f"{waits}: signal sent (event {answer.event_id}), its checks run now if a round "
                "is waiting."
            )
        else:
            click.echo(
                f"{waits}: signal NOT sent: {answer.error_code}: "
                f"{answer.error_message or 'no event id in the answer'}."
            )
    if any(s.ok for s in sent.values()):
        session.changed()
    failed = [s.instance for s in sent.values() if not s.ok]
    if failed:
        raise OperatorError(
            f"EventBridge refused the signal of {', '.join(failed)} (see above): try again"
        )


# --- helpers --------------------------------------------------------------------------------------


def _check_instance(instance: str) -> None:
    if not is_instance_id(instance):
        raise click.BadParameter(
            f"{instance!r} is not an EC2 instance id (i-...)", param_hint="INSTANCE"
        )


def _check_target(what: str) -> None:
    if not (is_instance_id(what) or what.startswith("arn:") or "-i-" in what):
        raise click.BadParameter(
            f"{what!r} is neither an instance id (i-...) nor an execution name or ARN",
            param_hint="INSTANCE_OR_EXECUTION",
        )


def _header(view: ActionView, now: datetime) -> str:
    a = view.action
    lines = [
        f"{a.instance_id}  {transition_words(a)}  {a.path}  group {a.group_name}  "
        f"hook {a.hook_name}",
        f"execution {without_token(view.execution_name)} ({view.status})",
        f"started {a.started_at.isoformat()}  phase {view.phase(now)}",
    ]
    if view.status == "RUNNING" and view.outcome is None:
        lines.append(
            f"hook expires in {duration(seconds_until(view.hook_expires_at, now))}, gives up in "
            f"{duration(seconds_until(view.gives_up_at, now))}"
            if view.plan
            else "hook not read yet: its deadlines are not known"
        )
    if view.outcome:
        lines.append(f"outcome {narrative.outcome_text(view.outcome)}")
    return "\n".join(lines)


def _table(rows: list[tuple[Any, ...]]) -> str:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


if __name__ == "__main__":
    sys.exit(cli())
