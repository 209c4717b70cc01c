"""The template is publishable to the Serverless Application Repository (issue 21, item 2), offline.

``sam package`` and ``sam publish`` read ``Metadata: AWS::ServerlessRepo::Application``; SAR refuses
what breaks its rules only when it is called, on a real account. These tests hold the metadata, the
files it points to and the template to those rules here, as AWS states them:

* METADATA: "AWS SAM template Metadata section properties",
  https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-template-publishing-applications-metadata-properties.html
  (Name, Description, Author, Labels: lengths and patterns; LicenseUrl, ReadmeUrl: 5 MB at most;
  SpdxLicenseId: an SPDX identifier; SemanticVersion: semver.org; no intrinsic functions).
* RESOURCES: "List of Supported AWS Resources",
  https://docs.aws.amazon.com/serverlessrepo/latest/devguide/list-supported-resources.html
* CAPABILITIES: "Application Capabilities: IAM Roles, Resource Policies, and Nested Applications",
  https://docs.aws.amazon.com/serverlessrepo/latest/devguide/acknowledging-application-capabilities.html
* PARAMETERS: the SAR API's ParameterDefinition (Type: String | Number | List<Number> |
  CommaDelimitedList; Description up to 4,000 characters), botocore's serverlessrepo model;
  a nested application has at most 60 parameters: "Using nested applications",
  https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-template-nested-applications.html

It also holds docs/DEPLOY.md to the template: the capabilities its install commands acknowledge,
the version and parameters of its nested-application example, the stack names it shows.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from cfnlint.decode import decode_str
from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

from tests.conftest import ROOT
from tests.docs.commands import DocCommand, commands_of, fenced_blocks, options
from tools.resolve_template import MODES, translate

DEPLOY = ROOT / "docs" / "DEPLOY.md"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _template() -> dict[str, Any]:
    template, errors = decode_str((ROOT / "template.yaml").read_text())
    assert not errors, errors
    assert template is not None
    found: dict[str, Any] = template
    return found


TEMPLATE = _template()
APP: dict[str, Any] = TEMPLATE["Metadata"]["AWS::ServerlessRepo::Application"]

# METADATA: every property SAR takes from the template (the SAM CLI's ApplicationMetadata).
PROPERTIES = frozenset(
    {
        "Name",
        "Description",
        "Author",
        "SpdxLicenseId",
        "LicenseUrl",
        "ReadmeUrl",
        "Labels",
        "HomePageUrl",
        "SemanticVersion",
        "SourceCodeUrl",
    }
)
NAME = re.compile(r"[a-zA-Z0-9\-]+")
AUTHOR = re.compile(r"^[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?$")
LABEL = re.compile(r"^[a-zA-Z0-9+\-_:\/@]+$")
MAX_LABELS = 10
MAX_FILE_BYTES = 5 * 1024 * 1024
# https://semver.org/#is-there-a-suggested-regular-expression-regex-to-check-a-semver-string
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# The license texts LicenseUrl may point to, by SPDX id: SHA-256 of the unmodified text (Apache-2.0:
# https://www.apache.org/licenses/LICENSE-2.0.txt). Another license: add its canonical text's hash.
LICENSE_TEXTS = {"Apache-2.0": "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"}

# RESOURCES: the types this template creates, as written and as the SAM transform expands them,
# each on SAR's list. A new resource type: check it on that page first, then add it here.
SAR_SUPPORTED = frozenset(
    {
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::DynamoDB::Table",
        "AWS::Events::Rule",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Role",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::Function",
        "AWS::Lambda::Permission",
        "AWS::Logs::LogGroup",
        "AWS::SQS::Queue",
        "AWS::SQS::QueuePolicy",
        "AWS::Serverless::Function",
        "AWS::Serverless::StateMachine",
        "AWS::StepFunctions::StateMachine",
    }
)
# CAPABILITIES: what each type makes the installer acknowledge. IAM: SAR's list, with the types
# CloudFormation itself puts under CAPABILITY_IAM (ManagedPolicy, User, AccessKey,
# UserToGroupAddition); NAMED_IAM instead when such a resource has a custom name.
IAM_TYPES = {
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::Policy": "",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::AccessKey": "",
    "AWS::IAM::UserToGroupAddition": "",
}
RESOURCE_POLICY_TYPES = frozenset(
    {
        "AWS::Lambda::LayerVersionPermission",
        "AWS::Lambda::Permission",
        "AWS::Events::EventBusPolicy",
        "AWS::IAM::Policy",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
    }
)
NESTED_TYPES = frozenset({"AWS::Serverless::Application", "AWS::CloudFormation::Stack"})
# PARAMETERS
SAR_PARAMETER_TYPES = frozenset({"String", "Number", "List<Number>", "CommaDelimitedList"})
MAX_PARAMETER_DESCRIPTION = 4000
MAX_NESTED_APPLICATION_PARAMETERS = 60

# Stack names: the state machine is "<stack>-lifecycle", and Step Functions names have 80
# characters at most; how each way of installing names the stack (docs/DEPLOY.md).
STATE_MACHINE_NAME_MAX = 80
SAR_STACK_PREFIX = "serverlessrepo-"
STACK_SET_INSTANCE = "StackSet-{name}-" + "0" * 36  # StackSet-<stack set name>-<UUID>


@pytest.fixture(scope="module")
def expanded() -> dict[str, Any]:
    """The template as the SAM transform expands it (as CloudFormation and SAR deploy it)."""
    return translate({})


def _file(value: str) -> Path:
    """A local path of the metadata: relative to template.yaml, inside the repository."""
    assert not value.startswith(("s3://", "https://", "/")), f"{value}: not a local path"
    path = (ROOT / value).resolve()
    assert path.is_relative_to(ROOT), f"{value} is outside the repository"
    assert path.is_file(), f"{value}: no such file"
    return path


def test_the_metadata_has_sars_required_properties_and_no_other() -> None:
    assert {"Name", "Description", "Author"} <= set(APP)
    assert set(APP) <= PROPERTIES, f"unknown to SAR: {set(APP) - PROPERTIES}"


def test_every_value_is_a_literal() -> None:
    """Intrinsic functions are not supported in this metadata: every value is a plain string."""
    for key, value in APP.items():
        values = value if key == "Labels" else [value]
        assert all(isinstance(v, str) and v.strip() for v in values), f"{key}: {value!r}"


def test_the_name_is_the_projects_and_fits_sars_pattern() -> None:
    name = APP["Name"]
    assert 1 <= len(name) <= 140
    assert NAME.fullmatch(name)
    assert name == PROJECT["name"]


def test_the_description_fits() -> None:
    assert 1 <= len(APP["Description"]) <= 256


def test_the_author_fits_sars_pattern() -> None:
    assert 1 <= len(APP["Author"]) <= 127
    assert AUTHOR.match(APP["Author"])


@pytest.mark.parametrize("author", ["Maintainers", "-x", "x-", "a--b", "a b", ""])
def test_the_author_pattern_refuses_what_sar_refuses(author: str) -> None:
    assert not AUTHOR.match(author)


def test_the_semantic_version_is_the_projects_version() -> None:
    """SAR versions are immutable: a release raises pyproject.toml's version and this together."""
    assert SEMVER.match(APP["SemanticVersion"]), APP["SemanticVersion"]
    assert APP["SemanticVersion"] == PROJECT["version"]


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0+"])
def test_the_semver_pattern_refuses_non_versions(version: str) -> None:
    assert not SEMVER.match(version)


def test_the_license_is_a_valid_spdx_id_and_the_projects() -> None:
    spdx = APP["SpdxLicenseId"]
    try:
        canonical = canonicalize_license_expression(spdx)
    except InvalidLicenseExpression as exc:
        pytest.fail(f"SpdxLicenseId {spdx}: {exc}")
    assert canonical == spdx, f"SpdxLicenseId {spdx}: SPDX spells it {canonical}"
    assert " " not in spdx, "one license identifier, not an expression"
    assert spdx == PROJECT["license"]


def test_license_url_is_the_unmodified_license_text_within_sars_limit() -> None:
    path = _file(APP["LicenseUrl"])
    content = path.read_bytes()
    assert len(content) <= MAX_FILE_BYTES
    expected = LICENSE_TEXTS.get(APP["SpdxLicenseId"])
    assert expected, f"no known text for {APP['SpdxLicenseId']}: add its hash to LICENSE_TEXTS"
    assert hashlib.sha256(content).hexdigest() == expected, (
        f"{APP['LicenseUrl']} is not the {APP['SpdxLicenseId']} text"
    )


def test_readme_url_is_a_markdown_file_within_sars_limit() -> None:
    path = _file(APP["ReadmeUrl"])
    assert path.suffix == ".md"
    content = path.read_bytes()
    assert 0 < len(content) <= MAX_FILE_BYTES
    content.decode("utf-8")


def test_labels_follow_sars_rules() -> None:
    labels = APP["Labels"]
    assert isinstance(labels, list)
    assert 1 <= len(labels) <= MAX_LABELS
    assert len(set(labels)) == len(labels), "a label twice"
    for label in labels:
        assert 1 <= len(label) <= 127, label
        assert LABEL.match(label), label


@pytest.mark.parametrize("key", ["HomePageUrl", "SourceCodeUrl"])
def test_the_urls_are_https(key: str) -> None:
    url = urlparse(APP[key])
    assert url.scheme == "https"
    assert url.netloc
    assert not url.query
    assert not url.fragment


def test_every_resource_type_is_one_sar_supports(expanded: Mapping[str, Any]) -> None:
    types = {r["Type"] for r in TEMPLATE["Resources"].values()}
    types |= {r["Type"] for r in expanded["Resources"].values()}
    assert types <= SAR_SUPPORTED, f"check on SAR's list first: {sorted(types - SAR_SUPPORTED)}"


def test_every_parameter_is_one_sar_can_show() -> None:
    parameters = TEMPLATE["Parameters"]
    assert len(parameters) <= MAX_NESTED_APPLICATION_PARAMETERS
    for name, parameter in parameters.items():
        assert parameter["Type"] in SAR_PARAMETER_TYPES, f"{name}: {parameter['Type']}"
        assert len(parameter.get("Description", "")) <= MAX_PARAMETER_DESCRIPTION, name


def required_capabilities(template: Mapping[str, Any]) -> set[str]:
    """What SAR makes the installer acknowledge for ``template`` (CAPABILITIES)."""
    found: set[str] = set()
    for resource in template["Resources"].values():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind in IAM_TYPES:
            named = IAM_TYPES[kind] and IAM_TYPES[kind] in properties
            found.add("CAPABILITY_NAMED_IAM" if named else "CAPABILITY_IAM")
        if kind in RESOURCE_POLICY_TYPES:
            found.add("CAPABILITY_RESOURCE_POLICY")
        if kind in NESTED_TYPES:
            found.add("CAPABILITY_AUTO_EXPAND")
    return found


def test_the_capabilities_to_acknowledge(expanded: Mapping[str, Any]) -> None:
    """IAM roles and managed policies without custom names, resource policies (EventBridge's
    permissions to invoke the functions, the dead-letter queue's policy), no nested application."""
    assert required_capabilities(expanded) == {"CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"}


def test_the_capability_rules_tell_a_named_role_and_a_nested_application() -> None:
    template = {
        "Resources": {
            "R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}},
            "A": {"Type": "AWS::Serverless::Application", "Properties": {}},
        }
    }
    assert required_capabilities(template) == {"CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"}


def test_the_sam_transform_does_not_depend_on_the_parameters(expanded: Mapping[str, Any]) -> None:
    """DEPLOY.md gives a StackSet the processed template for every account: its expansion with one
    set of values must serve all (both serving modes, every feature on, the defaults)."""
    for mode, values in MODES.items():
        assert translate(values) == expanded, f"{mode}: the expansion depends on the parameters"


# --- docs/DEPLOY.md against the template ----------------------------------------------------------
def _deploy_commands(program: str, *words: str) -> list[DocCommand]:
    found = [
        c
        for c in commands_of(DEPLOY)
        if c.argv[:1] == (program,) and c.argv[1 : 1 + len(words)] == words
    ]
    assert found, f"DEPLOY.md shows no {program} {' '.join(words)}"
    return found


def _capabilities(command: DocCommand) -> set[str]:
    return set(options(command.argv).get("--capabilities", []))


def test_the_sar_install_acknowledges_exactly_what_the_template_needs(
    expanded: Mapping[str, Any],
) -> None:
    for command in _deploy_commands("aws", "serverlessrepo", "create-cloud-formation-change-set"):
        assert _capabilities(command) == required_capabilities(expanded), str(command)
        (version,) = options(command.argv)["--semantic-version"]
        assert version == APP["SemanticVersion"], str(command)
        (name,) = options(command.argv)["--stack-name"]
        assert len(SAR_STACK_PREFIX + name + "-lifecycle") <= STATE_MACHINE_NAME_MAX
        overrides = json.loads(options(command.argv)["--parameter-overrides"][0])
        assert {o["Name"] for o in overrides} <= set(TEMPLATE["Parameters"]), str(command)


def test_the_stack_sets_acknowledge_the_transform_they_deploy() -> None:
    """The packaged template is a SAM template (a macro: CAPABILITY_AUTO_EXPAND); the processed
    one is plain CloudFormation. Both create IAM roles (CAPABILITY_IAM)."""
    commands = [
        *_deploy_commands("aws", "cloudformation", "create-stack-set"),
        *_deploy_commands("aws", "cloudformation", "update-stack-set"),
    ]
    for command in commands:
        (url,) = options(command.argv)["--template-url"]
        capabilities = _capabilities(command)
        assert "CAPABILITY_IAM" in capabilities, str(command)
        if "/packaged" in url:
            assert "CAPABILITY_AUTO_EXPAND" in capabilities, str(command)
        else:
            assert url.endswith("/processed.json"), str(command)
        (name,) = options(command.argv)["--stack-set-name"]
        stack = STACK_SET_INSTANCE.format(name=name)
        assert len(stack + "-lifecycle") <= STATE_MACHINE_NAME_MAX, f"{name}: too long"
        for given in options(command.argv).get("--parameters", []):
            key = given.split(",")[0].removeprefix("ParameterKey=")
            assert key in TEMPLATE["Parameters"], str(command)


def test_the_stack_set_instances_override_parameters_the_template_has() -> None:
    for command in _deploy_commands("aws", "cloudformation", "create-stack-instances"):
        for given in options(command.argv).get("--parameter-overrides", []):
            keys = {o["ParameterKey"] for o in json.loads(given)}
            assert keys <= set(TEMPLATE["Parameters"]), str(command)


def _nested_application() -> dict[str, Any]:
    """The ``yaml`` block of DEPLOY.md that nests this application."""
    for _, lines in fenced_blocks(DEPLOY.read_text(), frozenset({"yaml"})):
        parent, errors = decode_str("\n".join(lines))
        assert not errors, errors
        assert parent is not None
        for resource in parent.get("Resources", {}).values():
            if resource["Type"] == "AWS::Serverless::Application":
                found: dict[str, Any] = dict(parent)
                return found
    pytest.fail("DEPLOY.md shows no nested application")


def test_the_nested_application_example_matches_the_template() -> None:
    parent = _nested_application()
    ((logical_id, resource),) = parent["Resources"].items()
    properties = resource["Properties"]
    location = properties["Location"]
    assert location["SemanticVersion"] == APP["SemanticVersion"]
    assert location["ApplicationId"].endswith(f":applications/{APP['Name']}")
    assert set(properties["Parameters"]) <= set(TEMPLATE["Parameters"])
    for value in properties["Parameters"].values():
        assert isinstance(value, (str, dict)), "a nested application's parameter is a string"
    for output in parent.get("Outputs", {}).values():
        value = output["Value"]
        if "Fn::GetAtt" in value:
            name, attribute = value["Fn::GetAtt"]
            assert name == logical_id
            assert attribute.removeprefix("Outputs.") in TEMPLATE["Outputs"], attribute


def test_the_nested_applications_parent_acknowledges_the_nested_stack() -> None:
    (command,) = _deploy_commands("sam", "deploy", "--template-file")
    assert _capabilities(command) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
