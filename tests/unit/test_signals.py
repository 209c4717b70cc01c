"""Signals (issue 20): which events name which instances, and what SignalFunction does with them.

Each kind's sample event is the one atop its module (the shape AWS documents there); a signal is
untrusted, so a malformed one names nothing and is answered ``ignored``."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from asg_lifecycle import signals
from asg_lifecycle.signals import ec2_tags, ecs, instance, parameter_store, run_command
from asg_lifecycle.signals.base import MAX_INSTANCES, InvalidSignal
from asg_lifecycle.signals.table import WaitingRound, to_signal
from tests.unit.conftest import Context

ID = "i-0123456789abcdef0"


def _sample(module: Any) -> dict[str, Any]:
    """The sample event in a module's docstring (the JSON object after the first ``{``)."""
    doc = module.__doc__
    start = doc.index('{"source"')
    depth = 0
    for end, char in enumerate(doc[start:], start):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            text = re.sub(
                r'"\.\.\."|, \.\.\.',
                lambda m: '""' if m.group(0) == '"..."' else "",
                doc[start : end + 1],
            )
            return dict(json.loads(text))
    raise AssertionError(module.__name__)


@pytest.mark.parametrize("module", [instance, ec2_tags, parameter_store, run_command, ecs])
def test_each_kinds_sample_event_names_its_instance(module: Any) -> None:
    event = _sample(module)
    signal = signals.parse(event)
    assert signal.instance_ids == (ID,)
    assert signal.kind == module.KIND.name
    assert (event["source"], event["detail-type"]) == (module.KIND.source, module.KIND.detail_type)


def test_the_kinds_are_the_rules_the_template_routes_to_signal_function() -> None:
    """Every kind has its rule on SignalFunction, and every rule is a kind."""
    from cfnlint.decode import decode_str  # noqa: PLC0415

    from tests.conftest import ROOT  # noqa: PLC0415

    template, _ = decode_str((ROOT / "template.yaml").read_text())
    assert template is not None
    events = template["Resources"]["SignalFunction"]["Properties"]["Events"].values()
    routed = {
        (e["Properties"]["Pattern"]["source"][0], e["Properties"]["Pattern"]["detail-type"][0])
        for e in events
    }
    assert routed == {(k.source, k.detail_type) for k in signals.KINDS}


@pytest.mark.parametrize(
    ("event", "why"),
    [
        ("not an object", "JSON object"),
        (
            {"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification"},
            "no signal is",
        ),
        ({"source": instance.SOURCE, "detail-type": instance.DETAIL_TYPE}, "no detail object"),
        (
            {
                "source": instance.SOURCE,
                "detail-type": instance.DETAIL_TYPE,
                "detail": {"instance-id": ID + "\n"},
            },
            "not an instance id",
        ),
        (
            {
                "source": instance.SOURCE,
                "detail-type": instance.DETAIL_TYPE,
                "detail": {"instance-id": ["x"]},
            },
            "not an instance id",
        ),
        (
            {
                "source": "aws.tag",
                "detail-type": "Tag Change on Resource",
                "resources": ["arn:aws:ec2:us-east-1:1:volume/vol-1"],
                "detail": {"service": "ec2", "resource-type": "volume"},
            },
            "not an EC2 instance",
        ),
        (
            {
                "source": "aws.ssm",
                "detail-type": "Parameter Store Change",
                "detail": {"name": "/asg-lifecycle/fleet/ready"},
            },
            "names no instance",
        ),
    ],
)
def test_what_is_not_a_signal_is_refused_saying_why(event: Any, why: str) -> None:
    with pytest.raises(InvalidSignal, match=why):
        signals.parse(event)


def test_a_signal_names_at_most_ten_instances() -> None:
    ids = [f"i-{n:017x}" for n in range(30)]
    event = {
        "source": "aws.tag",
        "detail-type": "Tag Change on Resource",
        "resources": [f"arn:aws:ec2:us-east-1:1:instance/{i}" for i in ids],
        "detail": {"service": "ec2", "resource-type": "instance"},
    }
    assert signals.parse(event).instance_ids == tuple(ids[:MAX_INSTANCES])


def test_instance_ids_in_a_parameter_name_are_whole_ids_only() -> None:
    assert signals.instance_ids_in(f"/p/{ID}/ready") == (ID,)
    assert signals.instance_ids_in("/p/i-01234567/ready") == ("i-01234567",)
    assert signals.instance_ids_in(f"/p/x{ID}") == ()
    assert signals.instance_ids_in(f"/p/{ID}1") == ()


def test_the_cli_sends_the_instance_signal_it_reads() -> None:
    entry = instance.event_entry(ID)
    event = {
        "source": entry["Source"],
        "detail-type": entry["DetailType"],
        "detail": json.loads(entry["Detail"]),
    }
    assert signals.parse(event).instance_ids == (ID,)
    with pytest.raises(InvalidSignal):
        instance.event_entry("i-bad")


# --- the signal table ---------------------------------------------------------------------------


def _item(hook: str, token: str, after: int, until: int) -> dict[str, Any]:
    return {
        "instanceId": {"S": ID},
        "hook": {"S": hook},
        "taskToken": {"S": token},
        "signalAfter": {"N": str(after)},
        "signalUntil": {"N": str(until)},
        "expiresAt": {"N": str(until + 3600)},
    }


def test_a_signal_ends_only_waits_whose_signal_window_is_open() -> None:
    """An item whose wait is over may still be there (DynamoDB's TTL deletes late); a wait whose
    rounds cannot be spared opens its window at its end; the wait before a heartbeat closes it a
    margin before; an item of another writer is skipped."""
    items = [
        _item("a", "t-a", 100, 5000),
        _item("late", "t-late", 200, 5000),  # signals from 200 only
        _item("old", "t-old", 0, 150),  # its wait ended at 150
        {"instanceId": {"S": ID}, "hook": {"S": "x"}},  # not ours
    ]
    assert [r.hook for r in to_signal(items, 160)] == ["a"]
    assert [r.hook for r in to_signal(items, 200)] == ["a", "late"]
    assert [r.hook for r in to_signal(items, 149)] == ["a", "old"]
    assert [r.hook for r in to_signal(items, 150)] == ["a"], "closed at its end"
    assert WaitingRound.from_item(items[3]) is None


class _Sfn:
    class exceptions:
        class TaskTimedOut(Exception):
            pass

        class InvalidToken(Exception):
            pass

        class TaskDoesNotExist(Exception):
            pass

    def __init__(self, over: set[str]) -> None:
        self.over = over
        self.sent: list[tuple[str, str]] = []

    def send_task_success(self, taskToken: str, output: str) -> None:
        self.sent.append((taskToken, output))
        if taskToken in self.over:
            raise self.exceptions.TaskTimedOut(taskToken)


class _Table:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.queries: list[dict[str, Any]] = []

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.queries.append(kwargs)
        wanted = kwargs["ExpressionAttributeValues"][":instance"]["S"]
        return {"Items": [i for i in self.items if i["instanceId"]["S"] == wanted]}


def test_signal_function_ends_the_waits_of_the_named_instance_with_an_empty_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from handlers import signal as handler_module  # noqa: PLC0415

    now = 1_767_225_600
    table = _Table(
        [
            _item("web-launch", "t-1", now - 5, now + 3600),
            _item("other", "t-2", now - 5, now + 3600),
        ]
    )
    sfn = _Sfn(over={"t-2"})  # its round ran meanwhile
    clients = {"dynamodb": table, "stepfunctions": sfn}
    monkeypatch.setattr(handler_module, "client", clients.__getitem__)
    monkeypatch.setattr(handler_module.clock, "now", lambda: datetime.fromtimestamp(now, UTC))
    monkeypatch.setenv("SIGNAL_TABLE_NAME", "signals")
    event = _sample(instance)
    answer = handler_module.handler(event, Context())
    assert answer == {"status": "signalled", "waitsEnded": [f"{ID} web-launch"]}
    assert sfn.sent == [("t-1", "{}"), ("t-2", "{}")], "the output carries nothing"
    assert table.queries[0]["TableName"] == "signals"
    assert table.queries[0]["ConsistentRead"] is True
    assert (
        handler_module.handler({"source": "x", "detail-type": "y"}, Context())["status"]
        == "ignored"
    )
    other = {**event, "detail": {"instance-id": "i-00000000000000000"}}
    assert handler_module.handler(other, Context()) == {
        "status": "nothing-waiting",
        "waitsEnded": [],
    }


def test_the_module_docstrings_name_their_aws_pages() -> None:
    """Each kind says where AWS documents its event (the emulator sends the same shapes)."""
    for module in (ec2_tags, parameter_store, run_command, ecs):
        assert re.search(r"(User Guide|Developer Guide|events reference)", module.__doc__ or ""), (
            module
        )
