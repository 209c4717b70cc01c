"""template.yaml's dashboard, alarms and tracing, read as data: every graph and alarm watches a
metric that the code (handlers/observability.py's ``Metric``) or AWS emits, with the exact
dimension set it is emitted with (CloudWatch shows nothing, without an error, for any other);
every alarm's threshold, period and evaluation periods are stack parameters."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from cfnlint.decode import decode_str

from handlers.observability import DIMENSIONS, Metric
from tests.conftest import ROOT

# What AWS publishes (namespace, metric) -> its dimension names, for the metrics used here.
AWS_METRICS: dict[tuple[str, str], set[str]] = {
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible"): {"QueueName"},
    **{
        ("AWS/States", name): {"StateMachineArn"}
        for name in (
            "ExecutionsStarted",
            "ExecutionsSucceeded",
            "ExecutionsFailed",
            "ExecutionsTimedOut",
            "ExecutionsAborted",
        )
    },
    **{("AWS/Lambda", name): {"FunctionName"} for name in ("Errors", "Throttles", "Duration")},
}
# Which resource a dimension of an AWS metric must name: (resource type, attribute or "Ref").
AWS_DIMENSION_SOURCES = {
    "QueueName": ("AWS::SQS::Queue", "QueueName"),
    "StateMachineArn": ("AWS::Serverless::StateMachine", "Ref"),
    "FunctionName": ("AWS::Serverless::Function", "Ref"),
}
_PLACEHOLDER = re.compile(r"\$\{(!?)([^}]+)\}")
_SEARCH = re.compile(r"SEARCH\('\{([^}]*)\}\s*(.*?)',\s*'([^']+)'")


@cache
def _template() -> dict[str, Any]:
    template, errors = decode_str((ROOT / "template.yaml").read_text())
    assert not errors, errors
    assert template is not None
    return template


def _resources(kind: str) -> dict[str, Any]:
    return {k: v for k, v in _template()["Resources"].items() if v["Type"] == kind}


def _environment() -> dict[str, Any]:
    variables: dict[str, Any] = _template()["Globals"]["Function"]["Environment"]["Variables"]
    return variables


NAMESPACE = _environment()["POWERTOOLS_METRICS_NAMESPACE"]
SERVICE = _environment()["POWERTOOLS_SERVICE_NAME"]


def _ref(name: str) -> str:
    """What a placeholder stands for in the parsed body: ``<Resource>`` or ``<Resource.Attr>``."""
    return f"<{name}>"


def _dashboard() -> dict[str, Any]:
    """The dashboard body with each placeholder checked and replaced by ``<its name>``."""
    body = _template()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str), "one string, no variable map"
    resources = _template()["Resources"]

    def substitute(match: re.Match[str]) -> str:
        escaped, name = match.groups()
        if escaped:  # ${!Literal}: CloudWatch's own ${...} (dynamic labels)
            return "${" + name + "}"
        logical_id = name.split(".", 1)[0]
        assert name.startswith("AWS::") or logical_id in resources, name
        return _ref(name)

    parsed: dict[str, Any] = json.loads(_PLACEHOLDER.sub(substitute, body))
    return parsed


def _metric_widgets() -> list[dict[str, Any]]:
    return [w["properties"] for w in _dashboard()["widgets"] if w["type"] == "metric"]


def _graphed() -> Iterator[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of every graphed metric; a SEARCH stands for the
    dimension set of its schema."""
    for widget in _metric_widgets():
        for line in widget["metrics"]:
            if isinstance(line[0], dict):  # an expression
                match = _SEARCH.search(line[0]["expression"])
                assert match, line
                schema, term, _stat = match.groups()
                namespace, *names = (part.strip() for part in schema.split(","))
                terms = dict(re.findall(r'(\w+)="([^"]*)"', term))
                metric = terms.pop("MetricName")
                yield namespace, metric, {n: terms.get(n, "*") for n in names}
            else:
                fields = [f for f in line if not isinstance(f, dict)]
                namespace, metric, *pairs = fields
                yield namespace, metric, dict(zip(pairs[::2], pairs[1::2], strict=True))


def _assert_emitted(namespace: str, metric: str, dimensions: dict[str, str]) -> None:
    """The metric exists with exactly these dimension names, and its values name this stack's
    resources (AWS metrics) or this service (the code's metrics)."""
    if namespace == NAMESPACE:
        assert metric in set(Metric), f"{metric}: not a Metric the code emits"
        assert set(dimensions) == {"service", *DIMENSIONS.get(Metric(metric), ())}, metric
        assert dimensions["service"] == SERVICE, metric
        return
    assert (namespace, metric) in AWS_METRICS, f"{namespace} {metric}: not an AWS metric used"
    assert set(dimensions) == AWS_METRICS[namespace, metric], metric
    for name, value in dimensions.items():
        kind, attribute = AWS_DIMENSION_SOURCES[name]
        logical_id = value.strip("<>").removesuffix(f".{attribute}")
        assert logical_id in _resources(kind), (metric, value)


# --- the dashboard ------------------------------------------------------------------------------


def test_the_dashboard_graphs_only_metrics_that_are_emitted() -> None:
    graphed = list(_graphed())
    assert len(graphed) > 20
    for namespace, metric, dimensions in graphed:
        _assert_emitted(namespace, metric, dimensions)


def test_every_metric_the_code_emits_is_on_the_dashboard() -> None:
    """All but the older per-result counts, which ActionsCompleted shows split by transition."""
    on_dashboard = {metric for namespace, metric, _ in _graphed() if namespace == NAMESPACE}
    assert on_dashboard == set(Metric) - {Metric.COMPLETED_CONTINUE, Metric.COMPLETED_ABANDON}


def test_actions_completed_are_graphed_for_each_transition_and_result() -> None:
    lines = {
        (d["Transition"], d["Result"])
        for _, metric, d in _graphed()
        if metric == Metric.ACTIONS_COMPLETED
    }
    assert lines == {(t, r) for t in ("launch", "terminate") for r in ("CONTINUE", "ABANDON")}


def test_check_duration_is_graphed_per_check_at_p50_p90_and_max() -> None:
    stats = {
        match.group(3)
        for widget in _metric_widgets()
        for line in widget["metrics"]
        if isinstance(line[0], dict)
        and (match := _SEARCH.search(line[0]["expression"]))
        and 'MetricName="CheckDuration"' in match.group(2)
    }
    assert stats == {"p50", "p90", "Maximum"}


def test_the_workflow_functions_and_queue_are_graphed() -> None:
    graphed = {(metric, tuple(d.values())) for _, metric, d in _graphed()}
    machine = _ref("LifecycleStateMachine")
    for metric in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed"):
        assert (metric, (machine,)) in graphed
    assert ("ExecutionsTimedOut", (machine,)) in graphed
    for function in _resources("AWS::Serverless::Function"):
        for metric in ("Errors", "Throttles", "Duration"):
            assert (metric, (_ref(function),)) in graphed, (function, metric)
    queue = _ref("LifecycleEventDeadLetterQueue.QueueName")
    assert ("ApproximateNumberOfMessagesVisible", (queue,)) in graphed


def test_the_dashboard_shows_every_alarm_and_graphs_this_region() -> None:
    (alarms,) = [w["properties"] for w in _dashboard()["widgets"] if w["type"] == "alarm"]
    assert sorted(alarms["alarms"]) == sorted(
        _ref(f"{a}.Arn") for a in _resources("AWS::CloudWatch::Alarm")
    )
    assert {w["region"] for w in _metric_widgets()} == {_ref("AWS::Region")}


def test_the_dashboard_is_an_output() -> None:
    outputs = _template()["Outputs"]
    assert outputs["DashboardName"]["Value"] == {"Ref": "Dashboard"}
    assert "${Dashboard}" in outputs["DashboardUrl"]["Value"]["Fn::Sub"]


# --- alarms ---------------------------------------------------------------------------------


def _alarms() -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in _resources("AWS::CloudWatch::Alarm").items()}


def _alarm_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, str], Any]]:
    """(namespace, metric, dimensions, period) of each metric an alarm reads."""
    if "MetricName" in alarm:
        stats = [{**alarm, "Metric": alarm}]
    else:
        stats = [q["MetricStat"] for q in alarm["Metrics"] if "MetricStat" in q]
    found = []
    for stat in stats:
        metric = stat["Metric"]
        dimensions = {}
        for d in metric["Dimensions"]:
            value = d["Value"]
            if isinstance(value, dict) and "Ref" in value:
                value = _ref(value["Ref"])
            elif isinstance(value, dict) and "Fn::GetAtt" in value:
                value = _ref(".".join(value["Fn::GetAtt"]))
            dimensions[d["Name"]] = value
        found.append((metric["Namespace"], metric["MetricName"], dimensions, stat["Period"]))
    return found


@pytest.mark.parametrize("name", sorted(_alarms()))
def test_each_alarm_watches_an_emitted_metric(name: str) -> None:
    metrics = _alarm_metrics(_alarms()[name])
    assert metrics
    for namespace, metric, dimensions, _ in metrics:
        _assert_emitted(namespace, metric, dimensions)


# Alarms at the first event, whatever the parameters: a fixed threshold of 1 in one datapoint.
AT_FIRST = {"ReconcileFailuresAlarm"}


@pytest.mark.parametrize("name", sorted(_alarms()))
def test_each_alarms_threshold_period_and_evaluation_periods_are_parameters(name: str) -> None:
    alarm = _alarms()[name]
    parameters = _template()["Parameters"]
    if name in AT_FIRST:
        assert alarm["Threshold"] == 1
        assert alarm["DatapointsToAlarm"] == 1
    else:
        threshold = alarm["Threshold"]["Ref"]
        assert parameters[threshold]["Type"] == "Number"
        assert parameters[threshold]["Description"]
        assert int(parameters[threshold]["Default"]) >= 1
    assert alarm["EvaluationPeriods"] == {"Ref": "AlarmEvaluationPeriods"}
    assert {str(p) for *_, p in _alarm_metrics(alarm)} == {str({"Ref": "AlarmPeriodSeconds"})}
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == {
        "Fn::If": ["NotifiesAlarms", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
    }


def test_each_alarm_has_its_own_threshold_and_every_alarm_parameter_is_used() -> None:
    thresholds = [a["Threshold"]["Ref"] for n, a in _alarms().items() if n not in AT_FIRST]
    assert len(set(thresholds)) == len(thresholds)
    declared = {p for p in _template()["Parameters"] if p.startswith("Alarm")}
    used = {*thresholds, "AlarmPeriodSeconds", "AlarmEvaluationPeriods", "AlarmTopicArn"}
    assert declared == used


def test_the_function_errors_alarm_adds_up_every_function() -> None:
    alarm = _alarms()["FunctionErrorsAlarm"]
    watched = {d["FunctionName"] for *_, d, _ in _alarm_metrics(alarm)}
    assert watched == {_ref(f) for f in _resources("AWS::Serverless::Function")}
    (returned,) = [q for q in alarm["Metrics"] if q["ReturnData"]]
    assert returned["Expression"] == "SUM(FILL(METRICS(), 0))"


def test_a_failed_reconcile_run_raises_an_alarm_at_once_and_is_kept_in_the_queue() -> None:
    """The reconciler runs every ReconcileMinutes: FunctionErrorsAlarm's sum over all functions
    (5 by default) would never see one failed run, nor 5 in its period. ReconcileFailuresAlarm
    fires at the first: its errors, over a period that holds a run (the default 300 s holds one of
    the default 5-minute runs), no data (no run) not breaching. A run that failed its retry goes
    to the dead-letter queue, which DeadLetterQueueAlarm watches."""
    alarm = _alarms()["ReconcileFailuresAlarm"]
    ((namespace, metric, dimensions, period),) = _alarm_metrics(alarm)
    assert (namespace, metric) == ("AWS/Lambda", "Errors")
    assert dimensions == {"FunctionName": _ref("ReconcileFunction")}
    assert alarm["Statistic"] == "Sum"
    assert period == {"Ref": "AlarmPeriodSeconds"}
    assert _template()["Parameters"]["AlarmPeriodSeconds"]["Default"] == 300
    assert _template()["Parameters"]["ReconcileMinutes"]["Default"] * 60 == 300
    assert (alarm["Threshold"], alarm["DatapointsToAlarm"]) == (1, 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"

    config = _template()["Resources"]["ReconcileFunction"]["Properties"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 1, "one retry, about a minute later"
    assert config["MaximumEventAgeInSeconds"] <= 300
    assert config["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["LifecycleEventDeadLetterQueue", "Arn"]},
    }
    ((_, _, queue, _),) = _alarm_metrics(_alarms()["DeadLetterQueueAlarm"])
    assert queue == {"QueueName": _ref("LifecycleEventDeadLetterQueue.QueueName")}


def test_the_reconcilers_failure_destination_is_granted_to_its_role() -> None:
    """SAM grants the OnFailure destination to the function's role (else Lambda cannot send)."""
    resources = _translated()["Resources"]
    role = resources["ReconcileFunctionRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    sends = [s for s in statements if "sqs:SendMessage" in json.dumps(s["Action"])]
    assert sends
    assert all("LifecycleEventDeadLetterQueue" in json.dumps(s["Resource"]) for s in sends)


def test_every_parameter_is_in_exactly_one_group() -> None:
    groups = _template()["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [p for group in groups for p in group["Parameters"]]
    assert sorted(grouped) == sorted(_template()["Parameters"])


# --- tracing ----------------------------------------------------------------------------------


@cache
def _translated() -> dict[str, Any]:
    """template.yaml as the SAM transform turns it into CloudFormation (code locations faked)."""
    from samtranslator.translator.transform import transform  # noqa: PLC0415 - slow import
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    raw = yaml_parse((ROOT / "template.yaml").read_text())
    raw["Globals"]["Function"]["CodeUri"] = "s3://bucket/code.zip"
    raw["Resources"]["LifecycleStateMachine"]["Properties"]["DefinitionUri"] = "s3://bucket/d.json"
    parameters = {k: v.get("Default") for k, v in raw["Parameters"].items()}
    pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}
    translated: dict[str, Any] = transform(
        copy.deepcopy(raw), {**parameters, **pseudo}, NoManagedPolicies()
    )
    return translated


def test_tracing_is_a_parameter_off_by_default() -> None:
    parameter = _template()["Parameters"]["Tracing"]
    assert parameter["Default"] == "PassThrough"
    assert sorted(parameter["AllowedValues"]) == ["Active", "PassThrough"]
    assert _template()["Conditions"]["TracesActively"] == {
        "Fn::Equals": [{"Ref": "Tracing"}, "Active"]
    }


def test_every_function_traces_in_the_parameters_mode_with_xray_write_access() -> None:
    resources = _translated()["Resources"]
    for function in _resources("AWS::Serverless::Function"):
        properties = resources[function]["Properties"]
        assert properties["TracingConfig"] == {"Mode": {"Ref": "Tracing"}}, function
        role = resources[properties["Role"]["Fn::GetAtt"][0]]["Properties"]
        assert "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess" in role["ManagedPolicyArns"]


def test_the_state_machine_traces_and_may_write_traces_only_when_active() -> None:
    resources = _translated()["Resources"]
    machine = resources["LifecycleStateMachine"]["Properties"]
    assert machine["TracingConfiguration"] == {
        "Enabled": {"Fn::If": ["TracesActively", True, False]}
    }
    role = resources[machine["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    (xray,) = [s for s in statements if "XRayTraces" in json.dumps(s)]
    condition, granted, otherwise = xray["Fn::If"]
    assert condition == "TracesActively"
    assert set(granted["Action"]) == {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
    }
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert "ManagedPolicyArns" not in role or not any(
        "Xray" in str(arn) for arn in role["ManagedPolicyArns"]
    )
