"""The workflow's four task functions with AWS replaced by stand-ins: which calls each makes, what
it returns, what it raises for the definition to retry (tests/flow runs them on the emulator)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from asg_lifecycle import clock, workflow
from asg_lifecycle.adapters import autoscaling
from asg_lifecycle.adapters.autoscaling import ActionGone, HookInfo
from asg_lifecycle.checks.base import Answer, Check, CheckContext, passed, waiting
from asg_lifecycle.config import ActionConfig, CheckSpec, OnAbandon
from asg_lifecycle.decision import Decision, Next
from asg_lifecycle.document import InvalidDocument, StateDocument
from asg_lifecycle.lifecycle_states import Instance
from asg_lifecycle.model import LifecycleAction, LifecycleResult, Transition
from asg_lifecycle.served import CLAIM_TAG, SERVING_TAG
from handlers import complete, heartbeat, read_hook, run_checks
from handlers.task import InstanceNotWaitingYet, LifecycleActionNotFound
from tests.unit.conftest import Context

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TOKEN = "c3f1e4a2-7b9d-4c1e-8f2a-6d5b4a3c2e1f"
INSTANCE = "i-0123456789abcdef0"
NO_ACTIVE = f"No active Lifecycle Action found with token {TOKEN}"


class FakeAutoScaling:
    """What Auto Scaling answers, and every call made to it."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.instance: Instance | None = Instance("web", "Pending:Wait")
        self.hook: HookInfo | None = HookInfo(300, LifecycleResult.ABANDON, None)
        self.tag: str | None = "enabled"
        self.claim: str | None = "x"  # STATE_MACHINE_ARN's stack: this one
        self.running: list[str] = []
        self.no_active = False
        self.on_abandon = OnAbandon.TERMINATE

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def call(name: str, answer: Any = None) -> Any:
            self.calls.append(name)
            return answer

        def gone_or(name: str) -> None:
            call(name)
            if self.no_active:
                raise ActionGone(NO_ACTIVE)

        monkeypatch.setattr(
            autoscaling, "describe_instance", lambda c, i: call("describe-instance", self.instance)
        )
        monkeypatch.setattr(
            autoscaling, "describe_hook", lambda c, g, h: call("describe-hook", self.hook)
        )
        monkeypatch.setattr(autoscaling, "group_tag", lambda c, g, k: call("tag", self.tag))

        def tags(c: Any, g: str) -> dict[str, str]:
            found = {SERVING_TAG: self.tag, CLAIM_TAG: self.claim}
            answer: dict[str, str] = call("tag", {k: v for k, v in found.items() if v})
            return answer

        monkeypatch.setattr(read_hook, "group_tags", tags)
        monkeypatch.setattr(read_hook, "claim_group", lambda c, g, o: call(f"claim {g} for {o}"))
        monkeypatch.setattr(
            "asg_lifecycle.adapters.stepfunctions.running_execution_names",
            lambda c, arn: call("list-executions", set(self.running)),
        )
        monkeypatch.setattr(
            autoscaling, "on_abandon", lambda c, g: call("lifecycle-policy", self.on_abandon)
        )
        monkeypatch.setattr(autoscaling, "record_heartbeat", lambda c, a: gone_or("heartbeat"))
        monkeypatch.setattr(autoscaling, "complete", lambda c, a, r: gone_or(f"complete {r}"))


class _Ready(Check):
    name = "instance-status"
    transitions = frozenset(Transition)
    summary = "ready when the test says so"
    example: ClassVar[dict[str, Any]] = {}
    ready = False
    evaluated = 0

    def evaluate(self, ctx: CheckContext) -> Answer:
        _Ready.evaluated += 1
        return passed("ok") if _Ready.ready else waiting("not yet")


NOW = [T0 + timedelta(seconds=5)]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAutoScaling]:
    fake = FakeAutoScaling()
    fake.install(monkeypatch)
    NOW[0] = T0 + timedelta(seconds=5)
    clock.use(lambda: NOW[0])
    for module in (read_hook, run_checks, heartbeat, complete):
        monkeypatch.setattr(module, "client", lambda service: service)
    monkeypatch.setattr("handlers.task.client", lambda service: service)
    monkeypatch.setattr(run_checks, "CATALOGUE", {"instance-status": _Ready})
    monkeypatch.setattr(_Ready, "ready", False)
    monkeypatch.setattr(_Ready, "evaluated", 0)
    monkeypatch.setenv("SERVED_GROUP_NAMES", "")
    monkeypatch.setenv("SERVED_GROUP_TAG_VALUE", "enabled")
    monkeypatch.setenv("STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:x")
    monkeypatch.setenv("ECS_CLUSTER_NAMES", "web")  # what the stack allows (StackLimits)
    yield fake
    clock.use(None)


def action(token: str | None = TOKEN) -> LifecycleAction:
    return LifecycleAction("web", "web-launch", INSTANCE, token, Transition.LAUNCHING, T0)


def run(module: Any, doc: StateDocument | dict[str, Any]) -> dict[str, Any]:
    event = doc.to_json() if isinstance(doc, StateDocument) else doc
    result: dict[str, Any] = module.handler(event, Context())
    return result


CONFIG = ActionConfig(
    (CheckSpec("instance-status"),), 30, 600, LifecycleResult.ABANDON, LifecycleResult.ABANDON
)


def planned(hb: int = 300) -> StateDocument:
    return workflow.planned(StateDocument(action()), hb, LifecycleResult.ABANDON, CONFIG, T0)


# --- Read lifecycle hook ---------------------------------------------------------------------


def test_the_hook_read_verifies_the_action_then_plans_the_first_round(
    aws: FakeAutoScaling,
) -> None:
    doc = run(read_hook, StateDocument(action()))
    assert aws.calls == ["tag", "describe-instance", "describe-hook"]
    assert doc["decision"]["next"] == "check"
    assert doc["plan"]["heartbeatTimeout"] == 300


@pytest.mark.parametrize(
    ("instance", "says"),
    [
        (None, "is in no Auto Scaling group"),
        (Instance("web", "InService"), "is InService"),
        (Instance("other", "Pending:Wait"), "is in group 'other'"),
        (Instance("web", "Pending"), "is Pending"),
    ],
)
def test_an_action_auto_scaling_does_not_hold_ends_not_waiting_with_nothing_sent(
    aws: FakeAutoScaling, instance: Instance | None, says: str
) -> None:
    aws.instance = instance
    NOW[0] = T0 + timedelta(seconds=30)  # the event 30 s old: no longer possibly stale
    doc = run(read_hook, StateDocument(action()))
    assert doc["decision"]["next"] == "end"
    assert doc["outcome"]["status"] == "not-waiting"
    assert says in doc["outcome"]["reason"]
    assert "plan" not in doc, "no check will run"
    assert not {"heartbeat", "complete ABANDON", "complete CONTINUE"} & set(aws.calls)


@pytest.mark.parametrize(
    ("instance", "retried"),
    [
        (None, True),  # not listed yet
        (Instance("web", "Pending"), True),  # on its way to Pending:Wait
        (Instance("web", "InService"), False),  # past a launch's wait: no later read changes it
        (Instance("other", "Pending:Wait"), False),  # another group's
    ],
)
def test_right_after_its_event_an_instance_on_its_way_to_the_wait_is_read_again(
    aws: FakeAutoScaling, instance: Instance | None, retried: bool
) -> None:
    """DescribeAutoScalingInstances is eventually consistent: for 30 s after the event a state
    before the wait (or no listing) is read again (InstanceNotWaitingYet, which the definition
    retries) rather than believed."""
    aws.instance = instance
    NOW[0] = T0 + timedelta(seconds=29)
    if retried:
        with pytest.raises(InstanceNotWaitingYet, match="the event is 29 s old"):
            run(read_hook, StateDocument(action()))
    else:
        assert run(read_hook, StateDocument(action()))["outcome"]["status"] == "not-waiting"


def test_a_hook_of_the_other_transition_is_not_acted_on(aws: FakeAutoScaling) -> None:
    """An event that says launch, naming a terminate hook (crafted, or a mistake): not-waiting,
    the hook's checks are not run."""
    aws.hook = HookInfo(300, LifecycleResult.ABANDON, None, "autoscaling:EC2_INSTANCE_TERMINATING")
    doc = run(read_hook, StateDocument(action()))
    assert doc["outcome"]["status"] == "not-waiting"
    assert "is for autoscaling:EC2_INSTANCE_TERMINATING" in doc["outcome"]["reason"]


def test_only_the_action_of_the_input_is_acted_on(aws: FakeAutoScaling) -> None:
    """An execution started by hand with check memos, results or an outcome in its input: the
    hook read drops them (a memo naming someone's command must not stand for the hook's own)."""
    forged = planned().to_json() | {
        "checkMemos": [{"commandId": "someone-elses"}],
        "checks": [{"name": "instance-status", "status": "pass", "reason": "trust me"}],
        "outcome": {"status": "completed", "result": "CONTINUE", "reason": "trust me"},
    }
    doc = run(read_hook, forged)
    assert doc["decision"]["next"] == "check"
    assert not {"checkMemos", "checks", "outcome"} & set(doc)


def test_a_group_not_served_is_not_read_further(
    aws: FakeAutoScaling, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.tag = None  # tag mode, the group without the serving tag
    doc = run(read_hook, StateDocument(action()))
    assert doc["outcome"]["status"] == "not-waiting"
    assert "not served" in doc["outcome"]["reason"]
    assert aws.calls == ["tag"]
    monkeypatch.setenv("SERVED_GROUP_NAMES", "api,db")  # named mode: no tag read at all
    aws.calls.clear()
    assert run(read_hook, StateDocument(action()))["outcome"]["status"] == "not-waiting"
    assert aws.calls == []


def test_a_hook_read_after_its_timeout_passed_is_recorded_as_timed_out(
    aws: FakeAutoScaling,
) -> None:
    """An Auto Scaling outage longer than the hook: the read finally works, Auto Scaling has
    applied the DefaultResult (the instance moved on): timed-out, not not-waiting."""
    aws.instance = None
    NOW[0] = T0 + timedelta(seconds=301)
    doc = run(read_hook, StateDocument(action()))
    assert doc["outcome"]["status"] == "timed-out"
    assert doc["outcome"]["result"] == "ABANDON"


def test_a_replayed_event_older_than_its_hook_is_not_waiting_not_timed_out(
    aws: FakeAutoScaling,
) -> None:
    """A dead-letter replay or an operator's resend hours later: the workflow started after the
    hook's timeout had passed, so nothing timed out here (no false ActionsTimedOut)."""
    aws.instance = Instance("web", "InService")
    NOW[0] = T0 + timedelta(seconds=4000)
    replay = StateDocument(action(), received_at=T0 + timedelta(seconds=3990))
    doc = run(read_hook, replay)
    assert doc["outcome"]["status"] == "not-waiting"
    assert "older than the hook's 300 s timeout" in doc["outcome"]["reason"]
    fresh = StateDocument(action(), received_at=T0)  # started in time, read after an outage
    assert run(read_hook, fresh)["outcome"]["status"] == "timed-out"


def test_an_unclaimed_group_is_claimed_for_this_stack_then_read_on(aws: FakeAutoScaling) -> None:
    aws.claim = None
    doc = run(read_hook, StateDocument(action()))
    assert aws.calls == ["tag", "claim web for x", "describe-instance", "describe-hook"]
    assert doc["decision"]["next"] == "check"


@pytest.mark.parametrize("names", ["", "web"])
def test_a_group_claimed_by_another_stack_is_not_acted_on(
    aws: FakeAutoScaling, monkeypatch: pytest.MonkeyPatch, names: str
) -> None:
    """Tag mode and named groups alike: the claim is read, never overwritten."""
    monkeypatch.setenv("SERVED_GROUP_NAMES", names)
    aws.claim = "other-stack"
    doc = run(read_hook, StateDocument(action()))
    assert doc["outcome"]["status"] == "not-waiting"
    assert "claimed by stack 'other-stack'" in doc["outcome"]["reason"]
    assert aws.calls == ["tag"], "nothing else read, nothing written"


def test_a_late_event_confirms_its_token_with_a_heartbeat_before_any_check(
    aws: FakeAutoScaling,
) -> None:
    """A replayed event (60 s old when its workflow started) may carry the token of an earlier
    action of an instance that waits again on the same hook; the API lists no tokens, so the plan
    is made and a heartbeat by the token comes before the first round. An event on time runs its
    first round at once; neither looks at other executions."""
    late = StateDocument(action(), received_at=T0 + timedelta(seconds=60))
    doc = run(read_hook, late)
    assert doc["decision"]["next"] == "confirm"
    assert "60 s old when its workflow started" in doc["decision"]["reason"]
    assert doc["plan"]["checks"], "the plan is made: it runs once the token is confirmed"
    fresh = StateDocument(action(), received_at=T0 + timedelta(seconds=29))
    assert run(read_hook, fresh)["decision"]["next"] == "check"
    assert "list-executions" not in aws.calls


def test_a_deleted_hook_ends_the_action(aws: FakeAutoScaling) -> None:
    aws.hook = None
    assert run(read_hook, StateDocument(action()))["outcome"]["status"] == "hook-deleted"


def test_an_invalid_configuration_holds_the_safe_result(aws: FakeAutoScaling) -> None:
    aws.hook = HookInfo(300, LifecycleResult.CONTINUE, '{"pollSeconds": 1}')
    doc = run(read_hook, StateDocument(action()))
    assert doc["decision"]["next"] == "hold"
    assert doc["decision"]["result"] == "ABANDON"
    assert "pollSeconds" in doc["configError"]


def test_a_document_of_another_account_is_an_invalid_configuration_before_any_round(
    aws: FakeAutoScaling, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: the stack's allow-lists come from its environment (StackLimits.from_env); a
    same-named document shared from another account is refused when the hook is read."""
    monkeypatch.setenv("SSM_COMMAND_DOCUMENTS", "Ready")
    monkeypatch.setenv("STACK_REGION", "us-east-1")
    monkeypatch.setenv("STACK_ACCOUNT_ID", "123456789012")
    ours = '{"checks": [{"name": "ssm-command", "params": {"document": "%s"}}]}'
    aws.hook = HookInfo(300, LifecycleResult.ABANDON, ours % "Ready")
    assert run(read_hook, StateDocument(action()))["plan"]["checks"][0]["params"]["document"] == (
        "Ready"
    )
    theirs = "arn:aws:ssm:us-east-1:999999999999:document/Ready"
    aws.hook = HookInfo(300, LifecycleResult.ABANDON, ours % theirs)
    doc = run(read_hook, StateDocument(action()))
    assert doc["decision"]["next"] == "hold"
    assert doc["decision"]["result"] == "ABANDON"
    assert "names account 999999999999" in doc["configError"]


def terminating(**fields: Any) -> LifecycleAction:
    return replace(action(), hook_name="web-terminate", transition=Transition.TERMINATING, **fields)


@pytest.mark.parametrize(
    ("on_abandon", "safe"),
    [(OnAbandon.TERMINATE, "CONTINUE"), (OnAbandon.RETAIN, "ABANDON")],
)
def test_a_terminate_hook_read_takes_the_groups_policy_into_the_plan_and_its_safe_result(
    aws: FakeAutoScaling, on_abandon: OnAbandon, safe: str
) -> None:
    aws.instance = Instance("web", "Terminating:Wait")
    aws.on_abandon = on_abandon
    aws.hook = HookInfo(300, LifecycleResult.ABANDON, '{"checks": ["target-group-drain"]}')
    doc = run(read_hook, StateDocument(terminating()))
    assert aws.calls == ["tag", "describe-instance", "describe-hook", "lifecycle-policy"]
    assert doc["plan"]["terminateHookAbandon"] == on_abandon.value
    assert (doc["plan"]["onFailure"], doc["plan"]["onTimeout"]) == (safe, safe)
    aws.hook = HookInfo(300, LifecycleResult.CONTINUE, '{"pollSeconds": 1}')
    held = run(read_hook, StateDocument(terminating()))
    assert held["decision"]["next"] == "hold"
    assert held["decision"]["result"] == safe, "an unreadable configuration: the policy's choice"


def test_a_root_volume_replacement_is_not_a_termination_even_under_retain(
    aws: FakeAutoScaling,
) -> None:
    """Auto Scaling holds it in ReplacingRootVolume:Wait (the event's Action need not say)."""
    aws.instance = Instance("web", "ReplacingRootVolume:Wait")
    aws.on_abandon = OnAbandon.RETAIN
    aws.hook = HookInfo(
        300,
        LifecycleResult.ABANDON,
        '{"checks": [{"name": "ecs-drain", "params": {"cluster": "web"}}],'
        ' "replaceRootVolume": {"checks": ["target-group-drain"]}}',
    )
    doc = run(read_hook, StateDocument(terminating()))
    assert doc["action"]["Action"] == "ReplaceRootVolume"
    assert [c["name"] for c in doc["plan"]["checks"]] == ["target-group-drain"]
    assert (doc["plan"]["onFailure"], doc["plan"]["onTimeout"]) == ("CONTINUE", "CONTINUE")
    aws.instance = Instance("web", "Terminating:Wait")  # an event claiming a replacement: not one
    real = run(read_hook, StateDocument(terminating(action_name="ReplaceRootVolume")))
    assert "Action" not in real["action"]
    assert [c["name"] for c in real["plan"]["checks"]] == ["ecs-drain"]
    assert real["plan"]["onTimeout"] == "ABANDON"


WARM_METADATA = (
    '{"checks": ["instance-status", "target-group-health"],'
    ' "warmPool": {"checks": ["instance-status"], "maxWaitSeconds": 600}}'
)


@pytest.mark.parametrize(
    ("destination", "state", "seen", "checks"),
    [
        (None, "Warmed:Pending:Wait", "WarmPool", ["instance-status"]),
        ("WarmPool", "Warmed:Pending:Wait", "WarmPool", ["instance-status"]),
        ("WarmPool", "Pending:Wait", None, ["instance-status", "target-group-health"]),
        (None, "Pending:Wait", None, ["instance-status", "target-group-health"]),
        ("AutoScalingGroup", "Pending:Wait", "AutoScalingGroup", None),
    ],
)
def test_a_launch_into_the_warm_pool_is_known_from_auto_scalings_view_and_takes_its_block(
    aws: FakeAutoScaling, destination: str | None, state: str, seen: str | None, checks: Any
) -> None:
    aws.instance = Instance("web", state)
    aws.hook = HookInfo(300, LifecycleResult.ABANDON, WARM_METADATA)
    NOW[0] = T0 + timedelta(seconds=31)  # past the reading again of a fresh disagreement
    doc = run(read_hook, StateDocument(replace(action(), destination=destination)))
    assert doc["action"].get("Destination") == seen
    expected = checks or ["instance-status", "target-group-health"]
    assert [c["name"] for c in doc["plan"]["checks"]] == expected
    assert "lifecycle-policy" not in aws.calls, "a launch needs no retention policy"


@pytest.mark.parametrize(
    ("destination", "state"),
    [("WarmPool", "Pending:Wait"), ("AutoScalingGroup", "Warmed:Pending:Wait")],
)
def test_an_event_and_an_instance_that_disagree_on_the_warm_pool_are_read_again(
    aws: FakeAutoScaling, destination: str, state: str
) -> None:
    """Right after the event either side may be stale (DescribeAutoScalingInstances is eventually
    consistent; the event is untrusted): the hook read is tried again (InstanceNotWaitingYet)
    before Auto Scaling's view decides which checks run."""
    aws.instance = Instance("web", state)
    aws.hook = HookInfo(300, LifecycleResult.ABANDON, WARM_METADATA)
    with pytest.raises(InstanceNotWaitingYet, match=f"Destination {destination}"):
        run(read_hook, StateDocument(replace(action(), destination=destination)))


def test_a_warm_pool_block_naming_target_group_health_is_an_invalid_configuration(
    aws: FakeAutoScaling,
) -> None:
    aws.hook = HookInfo(
        300, LifecycleResult.ABANDON, '{"warmPool": {"checks": ["target-group-health"]}}'
    )
    doc = run(read_hook, StateDocument(action()))  # even for a launch into the group
    assert doc["decision"]["next"] == "hold"
    assert doc["decision"]["result"] == "ABANDON"
    assert doc["configError"].startswith("warmPool.checks[0]: target-group-health cannot run")


def test_a_lost_events_action_steps_aside_for_another_workflow(
    aws: FakeAutoScaling, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = f"launch-{INSTANCE}-{action().execution_name.split('-')[3]}-{TOKEN}"
    monkeypatch.setattr(
        "asg_lifecycle.adapters.stepfunctions.running_execution_names", lambda c, arn: {other}
    )
    doc = run(read_hook, StateDocument(action(token=None)))
    assert doc["outcome"]["status"] == "duplicate"
    assert aws.calls == [], "nothing read or sent for an action another workflow has"


def test_a_lost_events_action_is_confirmed_before_its_first_round(
    aws: FakeAutoScaling, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "asg_lifecycle.adapters.stepfunctions.running_execution_names", lambda c, arn: set()
    )
    doc = run(read_hook, StateDocument(action(token=None)))
    assert doc["decision"]["next"] == "confirm"
    aws.instance = Instance("web", "InService")  # the late event's workflow finished it
    doc = run(read_hook, StateDocument(action(token=None)))
    assert doc["outcome"]["status"] == "already-finished"


# --- Run checks ------------------------------------------------------------------------------


def test_a_round_runs_the_checks_and_decides(aws: FakeAutoScaling) -> None:
    doc = run(run_checks, planned())
    assert _Ready.evaluated == 1
    assert doc["decision"]["next"] == "wait"
    _Ready.ready = True
    assert run(run_checks, doc)["decision"]["result"] == "CONTINUE"
    assert aws.calls == [], "a round calls only what its checks call"


def test_a_late_round_heartbeats_first_and_runs_no_check(aws: FakeAutoScaling) -> None:
    NOW[0] = T0 + timedelta(seconds=200)  # due at 0 (the hook read); expires at 300
    doc = run(run_checks, planned())
    assert _Ready.evaluated == 0
    assert (doc["decision"]["next"], doc["decision"]["waitSeconds"]) == ("heartbeat", 1)


def test_a_round_after_the_hook_expired_records_the_timeout(aws: FakeAutoScaling) -> None:
    NOW[0] = T0 + timedelta(seconds=300)
    doc = run(run_checks, planned())
    assert _Ready.evaluated == 0
    assert doc["outcome"]["status"] == "timed-out"


# --- Record lifecycle action heartbeat / Complete lifecycle action ---------------------------


def _deciding_heartbeat() -> StateDocument:
    doc = workflow.checked(planned(hb=60), [], T0)  # any round; the decision is set below
    return doc.deciding(
        Decision(Next.HEARTBEAT, "due", wait_seconds=20, due_at=T0 + timedelta(seconds=25))
    )


def test_a_heartbeat_extends_the_hook_and_goes_on_to_the_next_round(aws: FakeAutoScaling) -> None:
    doc = run(heartbeat, _deciding_heartbeat())
    assert aws.calls == ["heartbeat"]
    assert doc["progress"]["heartbeats"] == 1
    assert doc["progress"]["hookExpiresAt"] == "2026-01-01T00:01:05Z"  # sent at 5 s, + 60
    assert doc["decision"] == {  # the next round, at once
        "next": "check",
        "reason": "heartbeat recorded",
        "dueAt": "2026-01-01T00:00:05Z",
    }


def test_no_active_action_while_the_instance_waits_is_tried_again(aws: FakeAutoScaling) -> None:
    """Possibly stale: the definition retries the same call (LifecycleActionNotFound)."""
    aws.no_active = True
    with pytest.raises(LifecycleActionNotFound, match="is Pending:Wait: the answer may be stale"):
        run(heartbeat, _deciding_heartbeat())
    assert aws.calls == ["heartbeat", "describe-instance"]


def test_no_active_action_for_an_instance_that_moved_on_is_believed(
    aws: FakeAutoScaling,
) -> None:
    aws.no_active = True
    aws.instance = Instance("web", "InService")
    doc = run(complete, workflow.checked(planned(), [], T0))
    assert doc["outcome"]["status"] == "already-finished"
    assert "InService" in doc["outcome"]["reason"]


@pytest.mark.parametrize(
    ("state", "status", "result"),
    [
        ("InService", "completed", "CONTINUE"),  # where CONTINUE takes a launch
        ("Pending:Proceed", "completed", "CONTINUE"),
        ("Standby", "already-finished", None),  # someone moved it elsewhere
        ("Terminating:Proceed", "already-finished", None),  # abandoned by someone else
    ],
)
def test_no_active_action_for_a_completion_whose_earlier_try_was_accepted(
    aws: FakeAutoScaling, state: str, status: str, result: str | None
) -> None:
    """CompleteFunction timed out after Auto Scaling accepted its CONTINUE; Step Functions runs
    it again and Auto Scaling answers "No active Lifecycle Action found": the instance where
    CONTINUE takes it says the action was completed with CONTINUE (the reason says how it is
    known); anywhere else, it was finished by someone else."""
    _Ready.ready = True
    decided = StateDocument.from_json(run(run_checks, planned()))
    aws.no_active = True
    aws.instance = Instance("web", state)
    doc = run(complete, decided)
    assert aws.calls == ["complete CONTINUE", "describe-instance"]
    assert (doc["outcome"]["status"], doc["outcome"]["result"]) == (status, result)
    if status == "completed":
        assert "accepted on an earlier try" in doc["outcome"]["reason"]


def test_nothing_is_sent_once_the_hook_has_expired(aws: FakeAutoScaling) -> None:
    NOW[0] = T0 + timedelta(seconds=61)
    assert run(heartbeat, _deciding_heartbeat())["outcome"]["status"] == "timed-out"
    ended = workflow.checked(planned(hb=60), [], T0)
    assert run(complete, ended)["outcome"]["status"] == "timed-out"
    assert aws.calls == []


def test_the_completion_sends_the_decided_result(aws: FakeAutoScaling) -> None:
    _Ready.ready = True
    decided = StateDocument.from_json(run(run_checks, planned()))
    doc = run(complete, decided)
    assert aws.calls == ["complete CONTINUE"]
    assert doc["outcome"]["status"] == "completed"
    assert doc["outcome"]["result"] == "CONTINUE"


def test_a_completion_without_a_result_is_an_invalid_document(aws: FakeAutoScaling) -> None:
    with pytest.raises(InvalidDocument, match="no result"):
        run(complete, planned())
    assert aws.calls == []


@pytest.mark.parametrize("module", [read_hook, run_checks, heartbeat, complete])
def test_every_task_rejects_a_document_it_cannot_act_on(aws: FakeAutoScaling, module: Any) -> None:
    """InvalidDocument: the definition never retries it; nothing is called."""
    with pytest.raises(InvalidDocument):
        run(module, {"action": {"EC2InstanceId": "i-0123456789abcdef0"}})
    assert aws.calls == []
