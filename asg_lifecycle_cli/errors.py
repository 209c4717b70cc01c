"""What goes wrong for an operator, each with the message that says what to do next.

Every one exits with status 1 (click prints ``Error: <message>``); usage errors exit with 2.
"""

from __future__ import annotations

import click


class OperatorError(click.ClickException):
    """A command could not do what was asked; nothing was changed unless the message says so."""


class StackNotFound(OperatorError):
    def __init__(self, name: str, region: str | None) -> None:
        where = f" in {region}" if region else ""
        super().__init__(
            f"stack {name!r} not found{where}: deploy it with `sam deploy`, or name the "
            "deployed one with --stack (or ASG_LIFECYCLE_STACK) and its Region with --region"
        )


class NoStackName(OperatorError):
    def __init__(self) -> None:
        super().__init__(
            "which stack? pass --stack NAME, set ASG_LIFECYCLE_STACK, or run from the directory "
            "holding the samconfig.toml you deployed with"
        )


class UnknownAction(OperatorError):
    def __init__(self, what: str, stack: str) -> None:
        super().__init__(
            f"no lifecycle action known for {what} in stack {stack!r} "
            "(`asg-lifecycle list` shows the actions in flight)"
        )


class AmbiguousAction(OperatorError):
    def __init__(self, instance_id: str, hooks: list[str]) -> None:
        super().__init__(
            f"{instance_id} has actions in flight for several hooks ({', '.join(sorted(hooks))}): "
            "choose one with --hook"
        )


class ActionFinished(OperatorError):
    def __init__(self, instance_id: str, hook: str) -> None:
        super().__init__(
            f"Auto Scaling has no active lifecycle action for {instance_id} on hook {hook!r} any "
            "more (completed, timed out or the instance is gone): nothing was sent. Auto Scaling "
            "may say so for a few seconds after an action starts: if `asg-lifecycle list` still "
            "shows it, try again"
        )


class NoCredentials(OperatorError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"no usable AWS credentials ({detail}): set AWS_PROFILE or pass --profile, run "
            "`aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )


class NoRegion(OperatorError):
    def __init__(self) -> None:
        super().__init__("no AWS Region: pass --region or set AWS_REGION")


class AwsError(OperatorError):
    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(f"{operation} failed: {code}: {message}")
