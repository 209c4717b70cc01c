"""Read the stack from ``template.yaml`` itself: functions, rules, queues, tables, state machine.

The SAM template is translated offline with aws-sam-translator (as ``sam deploy`` would, minus
upload), then the CloudFormation intrinsics the translation leaves are resolved against the
parameters and the physical names this emulator gives each resource. What comes out is exactly what
the template declares: the rule's event pattern and targets, the state machine definition file with
its ``DefinitionSubstitutions`` applied, and each function's handler and environment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
_NO_VALUE = object()


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    handler: str
    environment: dict[str, str]
    timeout: int
    max_async_retries: int = 2
    on_failure_arn: str | None = None


@dataclass(frozen=True)
class RuleSpec:
    logical_id: str
    name: str
    arn: str
    pattern: dict[str, Any] | None  # None for a schedule
    targets: list[dict[str, Any]]
    schedule: str | None = None  # "rate(5 minutes)"

    @property
    def period_seconds(self) -> int | None:
        """The period of a ``rate(N unit)`` schedule (the only kind the template uses)."""
        if self.schedule is None:
            return None
        amount, unit = self.schedule.removeprefix("rate(").removesuffix(")").split()
        seconds = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400}
        return int(amount) * seconds[unit]


@dataclass(frozen=True)
class TableSpec:
    """An ``AWS::DynamoDB::Table``: its physical name and ARN, and its resolved properties."""

    logical_id: str
    name: str
    arn: str
    properties: dict[str, Any]

    def create_table_request(self) -> dict[str, Any]:
        """CreateTable's parameters for the properties CloudFormation passes on to it."""
        props = self.properties
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            # CloudFormation's default billing mode is PROVISIONED (AWS::DynamoDB::Table)
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        for key in ("ProvisionedThroughput", "GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if key in props:
                request[key] = props[key]
        stream = props.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        if props.get("Tags"):
            request["Tags"] = props["Tags"]
        return request

    @property
    def ttl_attribute(self) -> str | None:
        """The attribute of ``TimeToLiveSpecification`` when TTL is enabled."""
        spec = self.properties.get("TimeToLiveSpecification") or {}
        enabled = spec.get("Enabled") in (True, "true", "True")
        return str(spec["AttributeName"]) if enabled and spec.get("AttributeName") else None


@dataclass(frozen=True)
class StackSpec:
    name: str
    region: str
    account: str
    parameters: dict[str, Any]
    functions: dict[str, FunctionSpec]
    rules: dict[str, RuleSpec]
    queues: dict[str, str]  # logical id -> queue name
    state_machine_name: str
    state_machine_arn: str
    definition: str
    outputs: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, TableSpec] = field(default_factory=dict)  # logical id -> table

    def function_by_arn(self, arn_or_name: str) -> FunctionSpec | None:
        for fn in self.functions.values():
            if arn_or_name in (fn.arn, fn.name) or arn_or_name.startswith(fn.arn + ":"):
                return fn
        return None


class _ManagedPolicies:
    """The translator asks for AWS managed policy ARNs; none are needed offline."""

    def load(self) -> dict[str, str]:
        return {}


def load_stack(
    parameters: Mapping[str, Any] | None = None,
    stack_name: str = "asg-lifecycle",
    region: str = "us-east-1",
    account: str = "123456789012",
    template_path: Path = TEMPLATE,
) -> StackSpec:
    """Translate and resolve ``template.yaml`` (raises on anything it cannot honour)."""
    from samtranslator.translator.transform import transform  # noqa: PLC0415 - dev-only, slow
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415

    raw = yaml_parse(template_path.read_text())
    definition_files = _swap_local_uris(raw)
    params = _parameter_values(raw, parameters or {})
    pseudo = {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws"}
    cfn = transform(raw, {**params, **pseudo}, _ManagedPolicies())
    resolver = _Resolver(cfn, {**params, **pseudo, "AWS::StackName": stack_name}, stack_name)
    return resolver.stack(definition_files, template_path.parent)


def _swap_local_uris(template: dict[str, Any]) -> dict[str, str]:
    """Local CodeUri/DefinitionUri become s3:// placeholders for the translator (see the notes)."""
    files: dict[str, str] = {}
    globals_fn = template.get("Globals", {}).get("Function", {})
    if isinstance(globals_fn.get("CodeUri"), str):
        globals_fn["CodeUri"] = "s3://local/code.zip"
    for logical_id, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = "s3://local/code.zip"
        if isinstance(props.get("DefinitionUri"), str):
            files[logical_id] = props["DefinitionUri"]
            props["DefinitionUri"] = f"s3://local/{logical_id}.json"
    return files


def _parameter_values(template: dict[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    declared = template.get("Parameters", {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"unknown template parameter(s): {unknown}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        value = given.get(name, spec.get("Default"))
        if value is None:
            raise ValueError(f"template parameter {name} has no value and no default")
        if spec.get("Type") == "CommaDelimitedList":
            value = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
            value = [v for v in value if v] or [""]
        values[name] = value
    return values


class _Resolver:
    """Evaluates the intrinsic functions the translated template uses."""

    def __init__(self, cfn: dict[str, Any], params: dict[str, Any], stack: str) -> None:
        self.cfn = cfn
        self.params = params
        self.stack_name = stack
        self.region = params["AWS::Region"]
        self.account = params["AWS::AccountId"]
        self.resources: dict[str, Any] = cfn["Resources"]
        self.conditions: dict[str, bool] = {}
        for name in cfn.get("Conditions", {}):
            self.conditions[name] = bool(self.value(cfn["Conditions"][name]))

    # --- physical names ------------------------------------------------------------------------
    def physical(self, logical_id: str) -> tuple[str, str]:
        """(Ref value, ARN) for a resource."""
        kind = self.resources[logical_id]["Type"]
        name = f"{self.stack_name}-{logical_id}"[:64]
        region, account = self.region, self.account
        if kind == "AWS::Lambda::Function":
            arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
            return name, arn
        if kind == "AWS::StepFunctions::StateMachine":
            given = self.resources[logical_id].get("Properties", {}).get("StateMachineName")
            name = name if given is None else str(self.value(given))
            arn = f"arn:aws:states:{region}:{account}:stateMachine:{name}"
            return arn, arn
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{region}.amazonaws.com/{account}/{name}", (
                f"arn:aws:sqs:{region}:{account}:{name}"
            )
        if kind == "AWS::Events::Rule":
            return name, f"arn:aws:events:{region}:{account}:rule/{name}"
        if kind == "AWS::DynamoDB::Table":
            given = self.resources[logical_id].get("Properties", {}).get("TableName")
            name = name if given is None else str(self.value(given))
            return name, f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        if kind == "AWS::Logs::LogGroup":
            return name, f"arn:aws:logs:{region}:{account}:log-group:{name}"
        if kind == "AWS::IAM::Role":
            return name, f"arn:aws:iam::{account}:role/{name}"
        return name, f"arn:aws:cloudformation:{region}:{account}:{logical_id}/{name}"

    def getatt(self, logical_id: str, attribute: str) -> Any:
        ref, arn = self.physical(logical_id)
        if attribute == "Arn":
            return arn
        if attribute in {"Name", "QueueName"}:
            return ref.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        raise ValueError(f"GetAtt {logical_id}.{attribute} is not supported by the emulator")

    # --- intrinsics ------------------------------------------------------------------------------
    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(n) for n in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.getatt(logical, attribute)
            if key == "Fn::If":
                cond, yes, no = arg
                return self.value(yes if self.conditions[cond] else no)
            if key == "Fn::Equals":
                return self.value(arg[0]) == self.value(arg[1])
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Fn::And":
                return all(self.value(a) for a in arg)
            if key == "Fn::Or":
                return any(self.value(a) for a in arg)
            if key == "Condition":
                return self.conditions[arg]
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in self.value(arg[1]))
            if key == "Fn::Split":
                return str(self.value(arg[1])).split(arg[0])
            if key == "Fn::Select":
                return self.value(arg[1])[int(self.value(arg[0]))]
            if key == "Fn::Sub":
                return self.sub(arg)
        out = {k: self.value(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not _NO_VALUE}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.params:
            return self.params[name]
        return self.physical(name)[0]

    def sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))
        out, i = [], 0
        while (start := text.find("${", i)) >= 0:
            end = text.index("}", start)
            out.append(text[i:start])
            token = text[start + 2 : end]
            if token in variables:
                out.append(str(variables[token]))
            elif "." in token:
                out.append(str(self.getatt(*token.split(".", 1))))
            else:
                out.append(str(self.ref(token)))
            i = end + 1
        return "".join([*out, text[i:]])

    # --- the stack -------------------------------------------------------------------
    def stack(self, definition_files: dict[str, str], base: Path) -> StackSpec:
        functions: dict[str, FunctionSpec] = {}
        rules: dict[str, RuleSpec] = {}
        queues: dict[str, str] = {}
        tables: dict[str, TableSpec] = {}
        machine: tuple[str, str, str] | None = None
        invoke_configs = {
            self.value(r["Properties"]["FunctionName"]): self.value(r["Properties"])
            for r in self.resources.values()
            if r["Type"] == "AWS::Lambda::EventInvokeConfig"
        }
        for logical_id, resource in self.resources.items():
            kind, props = resource["Type"], resource.get("Properties", {})
            if "Condition" in resource and not self.conditions[resource["Condition"]]:
                continue  # CloudFormation creates no resource whose Condition is false
            if kind == "AWS::Lambda::Function":
                name, arn = self.physical(logical_id)
                env = self.value(props.get("Environment", {}).get("Variables", {}))
                config = invoke_configs.get(name, {})
                functions[logical_id] = FunctionSpec(
                    logical_id=logical_id,
                    name=name,
                    arn=arn,
                    handler=props["Handler"],
                    environment={k: str(v) for k, v in env.items()},
                    timeout=int(props.get("Timeout", 3)),
                    max_async_retries=int(config.get("MaximumRetryAttempts", 2)),
                    on_failure_arn=config.get("DestinationConfig", {})
                    .get("OnFailure", {})
                    .get("Destination"),
                )
            elif kind == "AWS::Events::Rule":
                name, arn = self.physical(logical_id)
                pattern = props.get("EventPattern")
                rules[logical_id] = RuleSpec(
                    logical_id,
                    name,
                    arn,
                    None if pattern is None else self.value(pattern),
                    self.value(props["Targets"]),
                    schedule=self.value(props["ScheduleExpression"])
                    if "ScheduleExpression" in props
                    else None,
                )
            elif kind == "AWS::SQS::Queue":
                queues[logical_id] = self.getatt(logical_id, "QueueName")
            elif kind == "AWS::DynamoDB::Table":
                name, arn = self.physical(logical_id)
                tables[logical_id] = TableSpec(logical_id, name, arn, self.value(props))
            elif kind == "AWS::StepFunctions::StateMachine":
                definition = (base / definition_files[logical_id]).read_text()
                for key, val in self.value(props.get("DefinitionSubstitutions", {})).items():
                    definition = definition.replace("${" + key + "}", str(val))
                json.loads(definition)  # must still be JSON after substitution
                arn = self.physical(logical_id)[1]
                machine = (arn.rsplit(":", 1)[-1], arn, definition)
        if machine is None:
            raise ValueError("template.yaml declares no state machine")
        return StackSpec(
            name=self.stack_name,
            region=self.region,
            account=self.account,
            parameters=self.params,
            functions=functions,
            rules=rules,
            queues=queues,
            state_machine_name=machine[0],
            state_machine_arn=machine[1],
            definition=machine[2],
            outputs={k: self.value(v.get("Value")) for k, v in self.cfn.get("Outputs", {}).items()},
            tables=tables,
        )
