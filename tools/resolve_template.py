"""template.yaml as CloudFormation would deploy it in each serving mode, for the linters.

checkov reads a template as written: a policy built with ``Fn::If`` (the state machine's role, a
function role with conditional statements) is skipped, so nothing would lint it. This script
translates the SAM template offline (aws-sam-translator, as ``sam deploy`` does minus the upload),
gives the parameters the values of a mode, and resolves the conditions: every ``Fn::If`` and
``Condition`` becomes the branch that mode deploys, ``Ref``\\ s to parameters and pseudo parameters
become their values, and ``Fn::Sub`` / ``Fn::Join`` / ``Fn::Split`` / ``Fn::Select`` are computed
wherever their arguments are known. What it writes for each mode (``MODES``):

* ``<out>/<mode>/template.json``: plain CloudFormation, resources still referring to each other
  (``Ref``/``Fn::GetAtt``), for checkov (with the checks ``lint_exceptions.yaml`` excuses added
  to their resources' skips);
* ``<out>/<mode>/policies/<Role or policy>.<policy name>.json``: every IAM policy document the stack
  creates (roles' inline policies, managed policies), with the stack's own resources named as
  CloudFormation would name them, for an IAM policy linter (parliament).

    python -m tools.resolve_template --out .aws-sam/resolved
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
EXCEPTIONS = Path(__file__).resolve().parent / "lint_exceptions.yaml"
REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "asg-lifecycle-orchestrator"
PSEUDO: dict[str, Any] = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::StackName": STACK,
    "AWS::URLSuffix": "amazonaws.com",
}

# Every feature a parameter turns on (so that each conditional statement appears), in both
# serving modes; and the defaults (tag mode, no feature): the branches a feature turns off.
_FEATURES = {
    "SsmCommandDocuments": "AWS-RunShellScript,AWS-RunPowerShellScript",
    "EcsClusterNames": "web-cluster,api-cluster",
    "CustomCheckFunctionArns": (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ready-check,"
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:drain-check"
    ),
    "LaunchRegistersTargets": "Enabled",
    "Tracing": "Active",
    "AlarmTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms",
    "ReconcileMinutes": "1",
}
MODES: dict[str, dict[str, str]] = {
    "named": {"AutoScalingGroupNames": "web,api", **_FEATURES},
    "tag": {"AutoScalingGroupNames": "", "ServedGroupTagValue": "enabled", **_FEATURES},
    "defaults": {},
}

_NO_VALUE: Any = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
_INTRINSICS = {
    "Ref",
    "Condition",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Join",
    "Fn::Split",
    "Fn::Select",
    "Fn::If",
    "Fn::Equals",
    "Fn::Not",
    "Fn::And",
    "Fn::Or",
}

# (logical id, attribute or "Ref") -> the value CloudFormation gives it; None: leave it unresolved.
Namer = Callable[[str, str], Any]


class Unresolvable(ValueError):
    """An intrinsic this resolver does not know, or a condition on an unknown value."""


def translate(parameters: Mapping[str, str], path: Path = TEMPLATE) -> dict[str, Any]:
    """The SAM template as the transform turns it into CloudFormation, with these parameters."""
    from samtranslator.translator.transform import transform  # noqa: PLC0415 - slow import
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415

    class NoManagedPolicies:  # AWS managed policies by name: none are used
        def load(self) -> dict[str, str]:
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)  # the transform asks boto3 for one
    raw = yaml_parse(path.read_text())
    _swap_local_uris(raw)
    values = parameter_values(raw, parameters)
    translated: dict[str, Any] = transform(raw, {**values, **PSEUDO}, NoManagedPolicies())
    return translated


def _swap_local_uris(template: dict[str, Any]) -> None:
    """The transform wants code and definitions in S3: local paths become placeholders."""
    functions = template.get("Globals", {}).get("Function", {})
    if isinstance(functions.get("CodeUri"), str):
        functions["CodeUri"] = "s3://resolved/code.zip"
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if isinstance(properties.get("CodeUri"), str):
            properties["CodeUri"] = "s3://resolved/code.zip"
        if isinstance(properties.get("DefinitionUri"), str):
            properties["DefinitionUri"] = f"s3://resolved/{logical_id}.json"


def parameter_values(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
    """Every parameter's value (given, else its default), as ``Ref`` returns it: a
    ``CommaDelimitedList`` as a list (an empty one as ``[""]``, as CloudFormation does)."""
    declared = template.get("Parameters", {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise Unresolvable(f"unknown parameters: {unknown}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        value = given.get(name, spec.get("Default"))
        if value is None:
            raise Unresolvable(f"parameter {name} has no value and no default")
        if spec.get("Type") == "CommaDelimitedList":
            value = [v.strip() for v in str(value).split(",")]
        else:
            value = str(value)
        values[name] = value
    return values


class Resolver:
    """Evaluates the intrinsics of a translated template with known parameters; a reference to
    a resource stays as it is unless ``namer`` names it."""

    def __init__(
        self, template: Mapping[str, Any], parameters: Mapping[str, Any], namer: Namer | None
    ) -> None:
        self.template = template
        self.values = {**parameters, **PSEUDO}
        self.namer = namer
        self.conditions: dict[str, bool] = {}
        for name, expression in template.get("Conditions", {}).items():
            self.conditions[name] = self._boolean(expression)

    def _boolean(self, expression: Any) -> bool:
        value = self.value(expression)
        if not isinstance(value, bool):
            raise Unresolvable(f"condition is not a boolean: {expression!r}")
        return value

    def condition(self, name: str) -> bool:
        if name not in self.conditions:  # conditions may refer to those declared after them
            self.conditions[name] = self._boolean(self.template["Conditions"][name])
        return self.conditions[name]

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(n) for n in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, argument),) = node.items()
            if key in _INTRINSICS:
                return self._intrinsic(key, argument)
            if key.startswith("Fn::"):
                raise Unresolvable(f"{key} is not supported")
        resolved = {k: self.value(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _intrinsic(self, key: str, argument: Any) -> Any:
        if key == "Ref":
            return self.ref(argument)
        if key == "Condition":
            return self.condition(argument)
        if key == "Fn::GetAtt":
            logical_id, attribute = (
                argument if isinstance(argument, list) else argument.split(".", 1)
            )
            return self.attribute(logical_id, attribute)
        if key == "Fn::If":
            name, yes, no = argument
            return self.value(yes if self.condition(name) else no)
        if key in {"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"}:
            return self._logic(key, self.value(argument))
        if key == "Fn::Sub":
            return self.sub(argument)
        arguments = self.value(argument)
        if not known(arguments):
            return {key: arguments}
        if key == "Fn::Join":
            separator, items = arguments
            return str(separator).join(str(i) for i in items)
        if key == "Fn::Split":
            separator, text = arguments
            return str(text).split(separator)
        index, items = arguments  # Fn::Select
        return items[int(index)]

    @staticmethod
    def _logic(key: str, arguments: list[Any]) -> bool:
        if not known(arguments):
            raise Unresolvable(f"{key} on an unknown value: {arguments!r}")
        if key == "Fn::Equals":
            return bool(arguments[0] == arguments[1])
        if key == "Fn::Not":
            return not arguments[0]
        if key == "Fn::And":
            return all(arguments)
        return any(arguments)

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.values:
            return copy.deepcopy(self.values[name])
        if name not in self.template["Resources"]:
            raise Unresolvable(f"Ref to unknown {name}")
        named = self.namer(name, "Ref") if self.namer else None
        return {"Ref": name} if named is None else named

    def attribute(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.template["Resources"]:
            raise Unresolvable(f"GetAtt of unknown {logical_id}")
        named = self.namer(logical_id, attribute) if self.namer else None
        return {"Fn::GetAtt": [logical_id, attribute]} if named is None else named

    def sub(self, argument: Any) -> Any:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        variables = {k: self.value(v) for k, v in variables.items()}
        left: dict[str, Any] = {}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                value = variables[name]
            elif "." in name:
                value = self.attribute(*name.split(".", 1))
            else:
                value = self.ref(name)
            if known(value):
                return str(value)
            if name in variables:
                left[name] = value
            return match.group(0)

        result = _SUB_VARIABLE.sub(substitute, text)
        if _SUB_VARIABLE.search(result):
            return {"Fn::Sub": [result, left] if left else result}
        return result.replace("${!", "${")


def known(value: Any) -> bool:
    """No intrinsic left in it."""
    if isinstance(value, list):
        return all(known(v) for v in value)
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in _INTRINSICS:
            return False
        return all(known(v) for v in value.values())
    return True


def resolve(translated: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The translated template as deployed with ``parameters`` (:func:`parameter_values`):
    no parameters, no conditions, only the resources and outputs their conditions keep."""
    resolver = Resolver(translated, parameters, namer=None)
    out: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}
    for section in ("Resources", "Outputs"):
        kept: dict[str, Any] = {}
        for name, entry in translated.get(section, {}).items():
            if "Condition" in entry and not resolver.condition(entry["Condition"]):
                continue
            kept[name] = resolver.value({k: v for k, v in entry.items() if k != "Condition"})
        out[section] = kept
    return out


def excuse_checks(resolved: dict[str, Any], path: Path = EXCEPTIONS) -> None:
    """Add the checkov checks ``path`` excuses (its ``checkov`` list: ``check``, ``resources``,
    ``reason``) to those resources' ``Metadata`` skips, as a skip in template.yaml would be; a
    resource the SAM transform generates (a function's role) can have none there."""
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415

    entries = (yaml_parse(path.read_text()) or {}).get("checkov") or []
    for entry in entries:
        if not str(entry.get("reason", "")).strip():
            raise Unresolvable(f"{path}: a checkov exception without its reason: {entry}")
        for logical_id in entry["resources"]:
            resource = resolved["Resources"].get(logical_id)
            if resource is None:
                continue  # not deployed in this mode
            skips = resource.setdefault("Metadata", {}).setdefault("checkov", {})
            skips.setdefault("skip", []).append(
                {"id": entry["check"], "comment": " ".join(str(entry["reason"]).split())}
            )


def physical_names(template: Mapping[str, Any]) -> Namer:
    """Names CloudFormation would give the stack's resources (``<stack>-<logical id>``, or the
    name a property gives), as ``Ref`` and ``Fn::GetAtt`` return them."""
    resources = template["Resources"]

    def name(logical_id: str, attribute: str) -> Any:
        resource = resources[logical_id]
        kind, properties = resource["Type"], resource.get("Properties", {})
        default = f"{STACK}-{logical_id}"[:64]
        prefix = f"arn:aws:{{}}:{REGION}:{ACCOUNT}"
        if kind == "AWS::Lambda::Function":
            arn = f"{prefix.format('lambda')}:function:{default}"
            return {"Ref": default, "Arn": arn}.get(attribute)
        if kind == "AWS::StepFunctions::StateMachine":
            machine = properties.get("StateMachineName", default)
            arn = f"{prefix.format('states')}:stateMachine:{machine}"
            return {"Ref": arn, "Arn": arn, "Name": machine}.get(attribute)
        if kind == "AWS::SQS::Queue":
            arn = f"{prefix.format('sqs')}:{default}"
            url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{default}"
            return {"Ref": url, "Arn": arn, "QueueName": default}.get(attribute)
        if kind == "AWS::IAM::Role":
            arn = f"arn:aws:iam::{ACCOUNT}:role/{default}"
            return {"Ref": default, "Arn": arn}.get(attribute)
        if kind == "AWS::IAM::ManagedPolicy":
            return {"Ref": f"arn:aws:iam::{ACCOUNT}:policy/{default}"}.get(attribute)
        if kind == "AWS::Logs::LogGroup":
            group = properties.get("LogGroupName", default)
            arn = f"{prefix.format('logs')}:log-group:{group}:*"
            return {"Ref": group, "Arn": arn}.get(attribute)
        if kind == "AWS::DynamoDB::Table":
            table = properties.get("TableName", default)
            arn = f"{prefix.format('dynamodb')}:table/{table}"
            return {"Ref": table, "Arn": arn}.get(attribute)
        if kind == "AWS::Events::Rule":
            return {"Ref": default, "Arn": f"{prefix.format('events')}:rule/{default}"}.get(
                attribute
            )
        return default if attribute == "Ref" else None

    return name


def policy_documents(resolved: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every IAM policy document of the resolved template by ``<resource>.<policy name>``, with
    the stack's resources named (:func:`physical_names`)."""
    named = Resolver(resolved, {}, namer=physical_names(resolved))
    documents: dict[str, dict[str, Any]] = {}
    for logical_id, resource in resolved["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                documents[f"{logical_id}.{policy['PolicyName']}"] = policy["PolicyDocument"]
        elif resource["Type"] in {"AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"}:
            name = properties.get("PolicyName", "policy")
            documents[f"{logical_id}.{name}"] = properties["PolicyDocument"]
    found: dict[str, dict[str, Any]] = {}
    for key, document in documents.items():
        value = named.value(document)
        if not known(value):
            raise Unresolvable(f"{key}: {json.dumps(value)}")
        found[key] = value
    return found


def write(out: Path, modes: Mapping[str, Mapping[str, str]] = MODES) -> list[Path]:
    """Each mode's resolved template and policy documents under ``out`` (emptied first)."""
    shutil.rmtree(out, ignore_errors=True)
    written: list[Path] = []
    for mode, given in modes.items():
        translated = translate(given)
        values = parameter_values(_declared(), given)
        resolved = resolve(translated, values)
        excuse_checks(resolved)
        folder = out / mode
        (folder / "policies").mkdir(parents=True)
        template = folder / "template.json"
        template.write_text(json.dumps(resolved, indent=2) + "\n")
        written.append(template)
        for key, document in policy_documents(resolved).items():
            path = folder / "policies" / f"{key}.json"
            path.write_text(json.dumps(document, indent=2) + "\n")
            written.append(path)
    return written


def _declared() -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415

    parsed: dict[str, Any] = yaml_parse(TEMPLATE.read_text())
    return parsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".aws-sam" / "resolved")
    arguments = parser.parse_args(argv)
    logging.getLogger("samtranslator").setLevel(logging.ERROR)  # its unpublished-metrics warning
    written = write(arguments.out)
    policies = sum(1 for p in written if p.parent.name == "policies")
    print(f"resolved {len(MODES)} modes ({', '.join(MODES)}): {policies} policy documents")


if __name__ == "__main__":
    main()
