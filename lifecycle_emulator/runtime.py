"""What moto lacks to run this stack's flow in one process, on the virtual clock.

* Lambda: moto's Docker-free backend answers every invoke with its input. Here an invoke imports
  the function's real handler (from the template's ``Handler``) and calls it with the function's
  environment, like the Lambda runtime would; an exception becomes an ``Unhandled`` function error
  with ``errorType`` = the exception class, as in AWS. An invocation the Lambda runtime ends
  itself (:class:`Interruption`: the function's timeout, or out of memory) answers as Lambda does,
  and a timed-out one lasts the function's ``Timeout`` on the virtual clock.
* EventBridge: moto cannot deliver to Lambda targets. Here a matching event is delivered as an
  asynchronous invoke: on error Lambda retries (MaximumRetryAttempts, 1 and 2 minutes apart), then
  sends the event to the function's OnFailure destination, as AWS does.
* Step Functions: moto's interpreter (one thread per execution) sleeps for real in Wait states and
  between retries. Here both sleep on the virtual clock, and each execution is counted busy while it
  runs so that the clock only jumps when every execution is waiting. Executions take turns: one
  runs at a time, until it waits or ends (see :class:`_Turns`).
* Step Functions callback tasks (``.waitForTaskToken``): moto's interpreter waits for the token and
  for the task's ``TimeoutSeconds`` in real time. Here the wait is a virtual sleep until the
  task's deadline that ``SendTaskSuccess`` / ``SendTaskFailure`` (and ``SendTaskHeartbeat``, with
  ``HeartbeatSeconds``) from any thread ends early, at the current virtual instant; a Task state's
  timeout is virtual for every task (see :class:`_Callbacks`). A token whose task has ended answers
  ``TaskTimedOut``, as in AWS.
* Step Functions' error names, where moto's interpreter differs from AWS: a Lambda function error
  without ``errorType`` (a timeout) is ``Lambda.Unknown``; ``States.TaskFailed`` matches every
  error but ``States.Timeout``; neither it nor ``States.ALL`` catches ``States.Runtime`` or
  ``States.DataLimitExceeded`` (see :func:`_states_error_matches`).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _datetime
import functools
import importlib
import io
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from lifecycle_emulator.clock import Sleeper, VirtualClock
from lifecycle_emulator.template import FunctionSpec, StackSpec


@dataclass
class Invocation:
    """One Lambda invocation, as the emulator saw it (for timelines, tests and benchmarks)."""

    function: str
    at: datetime
    payload: Any
    result: Any = None
    error: str | None = None
    logs: list[str] = field(default_factory=list)
    api_calls: list[str] = field(default_factory=list)  # "autoscaling.CompleteLifecycleAction"
    # Virtual seconds the invocation lasted: 0 (a handler takes no virtual time here), or the
    # function's Timeout for one that timed out.
    duration: float = 0.0
    interrupted: Interruption | None = None
    lost: Any = None  # what the handler answered before Lambda ended the invocation (lost)


@dataclass(frozen=True)
class Interruption:
    """An invocation the Lambda runtime ends itself, not the handler.

    ``kind`` "timeout": the function ran for its whole ``Timeout`` and Lambda stopped it; the
    Invoke answer is an ``Unhandled`` function error whose payload has no ``errorType``, only
    ``errorMessage`` "<time> <request id> Task timed out after N.00 seconds" (as Step Functions
    quotes it in its ``Lambda.Unknown`` cause). ``kind`` "out-of-memory": the runtime process was
    killed; the payload is ``{"errorType": "Runtime.ExitError", "errorMessage": "RequestId: <id>
    Error: Runtime exited with error: signal: killed"}`` (AWS Knowledge Center, "Lambda runtime
    exit error"). ``after_calls``: the handler had run (its AWS calls were made and answered)
    before the end, so its side effects happened though its answer is lost; otherwise it made
    none.
    """

    kind: str  # "timeout" or "out-of-memory"
    after_calls: bool = False


_RECORDER_ID = "lifecycle-emulator-api-calls"


class _LogSink(io.TextIOBase):
    """Stands in for CloudWatch Logs: what a function prints goes to its current invocation."""

    def __init__(self) -> None:
        self.current: Invocation | None = None

    def write(self, text: str) -> int:
        if self.current is not None and text.strip():
            self.current.logs.extend(line for line in text.splitlines() if line.strip())
        return len(text)


@dataclass
class _Context:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    # The milliseconds left before the function's Timeout (template.yaml), in virtual time.
    remaining: Callable[[], int] = field(kw_only=True)

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining()


class LambdaRuntime:
    """Runs the stack's functions in-process, one at a time (each with its own environment)."""

    def __init__(self, stack: StackSpec, clock: VirtualClock) -> None:
        self.stack = stack
        self.clock = clock
        self.invocations: list[Invocation] = []
        self.dead_letters: list[dict[str, Any]] = []
        self._lock = threading.RLock()
        self._sink = _LogSink()
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._running: tuple[int, Invocation] | None = None  # (thread id, invocation)
        # Functions that are not the stack's (a user's custom check), by name: event -> answer.
        self.user_functions: dict[str, Callable[[Any], Any]] = {}
        # Decides, per invocation of one of the stack's functions, whether the Lambda runtime ends
        # it (injected faults); None: every invocation runs its handler to the end.
        self.interrupt: Callable[[FunctionSpec], Interruption | None] | None = None

    def record_api_calls(self) -> None:
        """Note every AWS call a function makes on its invocation (the default boto3 session's
        clients, which the functions use); calls by the emulator's own threads are not counted."""
        import boto3  # noqa: PLC0415

        def before_call(event_name: str = "", **_: Any) -> None:
            running = self._running
            if running is not None and running[0] == threading.get_ident():
                running[1].api_calls.append(event_name.removeprefix("before-call."))

        session: Any = boto3._get_default_session()
        session.events.unregister("before-call", unique_id=_RECORDER_ID)  # a previous run's
        session.events.register("before-call", before_call, unique_id=_RECORDER_ID)

    @staticmethod
    def stop_recording_api_calls() -> None:
        import boto3  # noqa: PLC0415

        session: Any = boto3._get_default_session()
        session.events.unregister("before-call", unique_id=_RECORDER_ID)

    def current_invocation(self) -> Invocation | None:
        """The invocation running on the calling thread, if any (a function's AWS calls)."""
        running = self._running
        return running[1] if running is not None and running[0] == threading.get_ident() else None

    def handler_of(self, fn: FunctionSpec) -> Callable[[Any, Any], Any]:
        if fn.handler not in self._handlers:
            module_name, func_name = fn.handler.rsplit(".", 1)
            with _environment(fn.environment):
                module = importlib.import_module(module_name)
            self._handlers[fn.handler] = getattr(module, func_name)
            _route_powertools_logs(self._sink)
        return self._handlers[fn.handler]

    def invoke(self, fn: FunctionSpec, payload: Any) -> Invocation:
        """A synchronous invoke. The result or error is on the returned :class:`Invocation`."""
        with self._lock:
            handler = self.handler_of(fn)
            record = Invocation(fn.logical_id, self.clock.now(), payload)
            self.invocations.append(record)
            cut = self.interrupt(fn) if self.interrupt is not None else None
            deadline = self.clock.now() + timedelta(seconds=fn.timeout)
            context = _Context(
                fn.name,
                fn.arn,
                log_group_name=f"/aws/lambda/{fn.name}",
                remaining=lambda: int((deadline - self.clock.now()).total_seconds() * 1000),
            )
            previous, self._sink.current = self._sink.current, record
            outer, self._running = self._running, (threading.get_ident(), record)
            try:
                if cut is None or cut.after_calls:
                    with _environment(fn.environment), contextlib.redirect_stdout(self._sink):
                        record.result = handler(payload, context)
            except Exception as exc:
                record.error = type(exc).__name__
                record.result = {"errorType": record.error, "errorMessage": str(exc)}
            finally:
                self._sink.current = previous
                self._running = outer
            if cut is not None:
                _interrupted(record, fn, cut, context.aws_request_id)
            return record

    def invoke_async(self, fn: FunctionSpec, event: Any, attempt: int = 0) -> None:
        """An asynchronous invoke (EventBridge's way): retried on error, then dead-lettered.
        A failure is known when the invocation ends (a timed-out one, its Timeout later)."""
        record = self.invoke(fn, event)
        if record.error is None:
            return
        if attempt < fn.max_async_retries:
            delay = 60 * (attempt + 1)  # Lambda waits about 1 minute, then 2, between attempts
            retry = functools.partial(self.invoke_async, fn, event, attempt + 1)
            self.clock.call_later(record.duration + delay, retry)
            return
        give_up = functools.partial(self._dead_letter, fn, event, record.result)
        if record.duration:
            self.clock.call_later(record.duration, give_up)
        else:
            give_up()

    def _dead_letter(self, fn: FunctionSpec, event: Any, response: Any) -> None:
        self.dead_letters.append({"function": fn.logical_id, "event": event, "error": response})
        if fn.on_failure_arn:
            _send_to_queue(self.stack, fn.on_failure_arn, fn, event, response)


def _interrupted(record: Invocation, fn: FunctionSpec, cut: Interruption, request: str) -> None:
    """The invocation as Lambda ends it (:class:`Interruption`); the handler's answer, if it
    had one, is lost."""
    record.interrupted = cut
    record.lost = record.result if cut.after_calls else None
    if cut.kind == "timeout":
        record.duration = float(fn.timeout)
        ended = record.at + timedelta(seconds=fn.timeout)
        stamp = ended.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        message = f"{stamp} {request} Task timed out after {fn.timeout:.2f} seconds"
        record.error = "Sandbox.Timedout"  # Lambda's name for it; the payload carries none
        record.result = {"errorMessage": message}
    elif cut.kind == "out-of-memory":
        record.error = "Runtime.ExitError"
        message = f"RequestId: {request} Error: Runtime exited with error: signal: killed"
        record.result = {"errorType": record.error, "errorMessage": message}
    else:
        raise ValueError(f"unknown interruption {cut.kind!r}")
    record.logs.append(message)


def _send_to_queue(
    stack: StackSpec, queue_arn: str, fn: FunctionSpec, event: Any, response: Any
) -> None:
    from moto.sqs.models import sqs_backends  # noqa: PLC0415

    body = {
        "version": "1.0",
        "requestContext": {"functionArn": fn.arn, "condition": "RetriesExhausted"},
        "requestPayload": event,
        "responsePayload": response,
    }
    queue_name = queue_arn.rsplit(":", 1)[-1]
    sqs_backends[stack.account][stack.region].send_message(queue_name, json.dumps(body))


def reserve_environment(stack: StackSpec) -> dict[str, str | None]:
    """Give every variable any function uses a value before the first invoke; returns what it was.

    Step Functions' and botocore's threads copy ``os.environ`` while a function runs, and a copy
    taken while a key is being deleted fails with ``KeyError``. With every key present from the
    start, switching between functions only overwrites values and never deletes. The price: a
    function also sees the variables of the others (with another function's values).
    """
    saved: dict[str, str | None] = {}
    for fn in stack.functions.values():
        for key, value in fn.environment.items():
            if key not in saved:
                saved[key] = os.environ.get(key)
                os.environ.setdefault(key, value)
    return saved


@contextlib.contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """The function's variables for the duration of one invoke (values overwritten, see above)."""
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)  # only for a key reserve_environment did not cover
            else:
                os.environ[key] = value


def _route_powertools_logs(sink: _LogSink) -> None:
    """Powertools loggers write to the stream they were created with; point them at the sink."""
    import logging  # noqa: PLC0415

    for name in list(logging.Logger.manager.loggerDict):
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            formatter = type(handler.formatter).__module__
            if (
                isinstance(handler, logging.StreamHandler)
                and formatter.startswith("aws_lambda_powertools")  # not pytest's or the user's
                and handler.stream is not sink
            ):
                handler.setStream(sink)


# --- patches -----------------------------------------------------------------------------------


class Patches:
    """Installs (and removes) the in-process Lambda, EventBridge and Step Functions behaviour."""

    def __init__(self, runtime: LambdaRuntime) -> None:
        self.runtime = runtime
        self._undo: list[Callable[[], None]] = []
        self._turns = _Turns(runtime.clock)
        # Set on a thread while moto's interpreter invokes a Lambda function for a Task state:
        # that thread then runs within its execution's turn and may sleep on the virtual clock.
        self._task_invoke = threading.local()
        self.callbacks = _Callbacks(runtime.clock, self._turns)

    def _set(self, owner: Any, attr: str, value: Any) -> None:
        original = owner.__dict__[attr] if attr in owner.__dict__ else getattr(owner, attr)
        setattr(owner, attr, value)
        self._undo.append(lambda: setattr(owner, attr, original))

    def install(self) -> None:
        self._patch_lambda()
        self._patch_events()
        self._patch_stepfunctions()
        self._sdk_service_names()

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _patch_lambda(self) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend  # noqa: PLC0415

        runtime = self.runtime
        original = LambdaSimpleBackend.invoke
        callbacks, task_invoke = self.callbacks, self._task_invoke

        def invoke(  # noqa: PLR0917 - moto's signature
            backend: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes | None:
            fn = runtime.stack.function_by_arn(function_name)
            user = runtime.user_functions.get(_function_name(function_name))
            if fn is None and user is not None:
                try:
                    answer = user(json.loads(body) if body else {})
                except Exception as exc:  # the function raised: Lambda reports it, as here
                    response_headers["x-amz-function-error"] = "Unhandled"
                    answer = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
                return json.dumps(answer).encode()
            if fn is None:
                return cast(
                    "bytes | None",
                    original(backend, function_name, qualifier, body, headers, response_headers),
                )
            payload = json.loads(body) if body else {}
            if headers.get("X-Amz-Invocation-Type") == "Event":
                runtime.clock.call_later(0, lambda: runtime.invoke_async(fn, payload))
                return b""
            record = runtime.invoke(fn, payload)
            if record.duration and getattr(task_invoke, "active", False):
                # a timed-out invocation answers when Lambda stops it: the Task state waits that
                # long (outside the function lock, so other executions run meanwhile), or until
                # its own TimeoutSeconds. An invoke by a test's own client answers at once.
                callbacks.task_sleep(record.duration)
            if record.error is not None:
                response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(record.result).encode()

        self._set(LambdaSimpleBackend, "invoke", invoke)

    def _patch_events(self) -> None:
        from moto.events.models import Rule  # noqa: PLC0415

        runtime = self.runtime
        original = Rule.send_to_targets

        def send_to_targets(rule: Any, event: dict[str, Any], transform_input: bool = True) -> None:
            if not rule.event_pattern.matches_event(event):
                return
            others = []
            for target in rule.targets:
                if str(target["Arn"]).split(":")[2:3] == ["sns"]:
                    _publish_to_topic(target, event)
                    continue
                fn = runtime.stack.function_by_arn(target["Arn"])
                if fn is None:
                    others.append(target)
                    continue
                delivered = _aws_shape(event)
                runtime.clock.call_later(0, functools.partial(runtime.invoke_async, fn, delivered))
            if others:
                saved, rule.targets = rule.targets, others
                try:
                    original(rule, cast(Any, event), transform_input)
                finally:
                    rule.targets = saved

        self._set(Rule, "send_to_targets", send_to_targets)

    def _sdk_service_names(self) -> None:
        """AWS SDK integrations name EventBridge ``eventbridge``
        (``arn:aws:states:::aws-sdk:eventbridge:putEvents``: Step Functions Developer Guide, "Add
        EventBridge events with Step Functions", which sets it apart from the optimized
        ``events:putEvents``); moto's interpreter knows only boto's ``events``."""
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (  # noqa: PLC0415
            state_task_service,
        )

        owner = state_task_service.StateTaskService
        names = dict(owner._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES)
        self._set(owner, "_SERVICE_NAME_SFN_TO_BOTO_OVERRIDES", {**names, "eventbridge": "events"})

    def _patch_stepfunctions(self) -> None:
        from moto.stepfunctions.parser.asl.component.common.retry import (  # noqa: PLC0415
            retrier_decl,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import (  # noqa: PLC0415
            lambda_eval_utils,
        )
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function import (  # noqa: PLC0415
            wait_function,
        )
        from moto.stepfunctions.parser.backend import execution_worker  # noqa: PLC0415

        clock = self.runtime.clock
        turns = self._turns

        def wait_interval(_self: Any, env: Any, wait_seconds: int) -> None:
            turns.sleep(wait_seconds)

        self._set(wait_function.WaitFunction, "_wait_interval", wait_interval)
        self._set(retrier_decl, "time", _VirtualTimeModule(clock, turns))
        # moto builds a new boto3 client for every Lambda task (a sixth of a run's CPU); one per
        # region is enough, botocore clients being safe to share between threads.
        make_client = lambda_eval_utils.__dict__["boto_client_for"]
        shared: dict[tuple[str, str], Any] = {}
        shared_lock = threading.Lock()

        def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
            with shared_lock:  # credentials are the emulator's fake ones: not part of the key
                if (region, service) not in shared:
                    shared[region, service] = make_client(region, service, state_credentials)
                return shared[region, service]

        self._set(lambda_eval_utils, "boto_client_for", boto_client_for)
        invoke_function: Any = lambda_eval_utils.__dict__["_invoke_lambda_function"]
        task_invoke = self._task_invoke

        def invoke_lambda_function(*args: Any, **kwargs: Any) -> Any:
            task_invoke.active = True
            try:
                return invoke_function(*args, **kwargs)
            finally:
                task_invoke.active = False

        self._set(lambda_eval_utils, "_invoke_lambda_function", invoke_lambda_function)
        self._error_names()
        self._callback_tasks()

        worker = execution_worker.ExecutionWorker
        original_logic: Any = worker._execution_logic
        original_start: Any = worker.start

        def start(self_: Any) -> None:
            clock.enter()  # counted busy before the thread exists: no false idle
            try:
                original_start(self_)
            except BaseException:
                clock.leave()
                raise

        def execution_logic(self_: Any) -> None:
            try:
                with turns.turn():
                    original_logic(self_)
            finally:
                clock.leave()

        self._set(worker, "start", start)
        self._set(worker, "_execution_logic", execution_logic)
        self._virtual_timestamps(clock)
        self._paged_history(clock)

    def _error_names(self) -> None:
        """Error names and their matching as Step Functions has them (see the module's doc)."""
        from moto.stepfunctions.parser.api import (  # noqa: PLC0415
            HistoryEventType,
            TaskFailedEventDetails,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name import (  # noqa: PLC0415
            error_equals_decl,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (  # noqa: PLC0415
            CustomErrorName,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (  # noqa: PLC0415
            FailureEvent,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import (  # noqa: PLC0415
            lambda_eval_utils,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (  # noqa: PLC0415
            state_task_service_lambda,
        )
        from moto.stepfunctions.parser.asl.eval.event.event_detail import (  # noqa: PLC0415
            EventDetails,
        )

        details: Any = EventDetails  # a TypedDict of every kind of detail: one given here
        service = state_task_service_lambda.StateTaskServiceLambda
        original_from_error: Any = service._from_error

        def from_error(self_: Any, env: Any, ex: Exception) -> Any:
            """A function error whose payload names no ``errorType`` (a timeout) is
            ``Lambda.Unknown``, with the cause AWS gives it (moto names it ``Exception``)."""
            if isinstance(ex, lambda_eval_utils.LambdaFunctionErrorException):
                try:
                    answer = json.loads(ex.payload)
                except ValueError:
                    answer = None
                if not (isinstance(answer, dict) and answer.get("errorType")):
                    cause = (
                        "The cause could not be determined because Lambda did not return an "
                        f"error type. Returned payload: {ex.payload}"
                    )
                    return FailureEvent(
                        env=env,
                        error_name=CustomErrorName(LAMBDA_UNKNOWN),
                        event_type=HistoryEventType.TaskFailed,
                        event_details=details(
                            taskFailedEventDetails=TaskFailedEventDetails(
                                error=LAMBDA_UNKNOWN,
                                cause=cause,
                                resource=self_._get_sfn_resource(),
                                resourceType=self_._get_sfn_resource_type(),
                            )
                        ),
                    )
            return original_from_error(self_, env, ex)

        self._set(service, "_from_error", from_error)

        def eval_body(self_: Any, env: Any) -> None:
            error = env.stack.pop()
            names = [name.error_name for name in self_.error_names]
            env.stack.append(_states_error_matches(names, getattr(error, "error_name", None)))

        self._set(error_equals_decl.ErrorEqualsDecl, "_eval_body", eval_body)
        self._definition_check()

    def _callback_tasks(self) -> None:
        """Task states' timeouts and callback tasks' waits on the virtual clock (module doc)."""
        self._virtual_task_timeouts()
        self._virtual_callback_waits()
        self._heartbeat_timeout_name()
        self._task_token_api()

    def _virtual_task_timeouts(self) -> None:
        from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import (  # noqa: PLC0415
            EvalTimeoutError,
        )
        from moto.stepfunctions.parser.asl.component.state.exec import (  # noqa: PLC0415
            execute_state,
        )
        from moto.stepfunctions.parser.utils import TMP_THREADS  # noqa: PLC0415

        clock, callbacks = self.runtime.clock, self.callbacks

        def evaluate_with_timeout(self_: Any, env: Any) -> None:
            """moto's ``ExecutionState._evaluate_with_timeout``, but the task's TimeoutSeconds
            is a virtual deadline: the task's thread sleeps no further than it, and nothing
            waits for it in real time (a slow run is not a timed-out task)."""
            self_.timeout.eval(env=env)
            deadline = _Deadline(clock.time() + float(env.stack.pop()))
            frame: Any = env.open_frame()
            frame.states.reset(input_value=env.states.get_input())
            frame.stack = copy.deepcopy(env.stack)
            outputs: list[Any] = []
            exceptions: list[Exception | None] = [None]
            terminated = threading.Event()

            def exec_and_notify() -> None:
                callbacks.deadlines.current = deadline
                try:
                    self_._eval_execution(frame)
                    outputs.extend(frame.stack)
                except Exception as ex:
                    exceptions.append(ex)
                finally:
                    callbacks.deadlines.current = None
                terminated.set()

            thread = threading.Thread(target=exec_and_notify, daemon=True)
            TMP_THREADS.append(thread)
            thread.start()
            terminated.wait()
            frame.set_ended()
            env.close_frame(frame)
            if not env.is_running():
                return  # stopped meanwhile (StopExecution): the task's end is nobody's news
            if deadline.expired:
                raise EvalTimeoutError()
            exception = exceptions.pop()
            if exception:
                raise exception
            _task_output(self_, env, outputs.pop())

        state = execute_state.ExecutionState
        self._set(state, "_evaluate_with_timeout", evaluate_with_timeout)

    def _virtual_callback_waits(self) -> None:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (  # noqa: PLC0415
            state_task_service_callback,
        )
        from moto.stepfunctions.parser.asl.eval.callback import callback  # noqa: PLC0415

        callbacks = self.callbacks
        service = state_task_service_callback.StateTaskServiceCallback

        def wait_for_token(self_: Any, timeout_seconds: int, endpoint: Any) -> Any:
            return callbacks.wait(endpoint, timeout_seconds, None, callback.HeartbeatTimedOut)

        def wait_for_token_heartbeat(self_: Any, env: Any, endpoint: Any, heartbeat: Any) -> Any:
            seconds = float(heartbeat._heartbeat_seconds)
            return callbacks.wait(endpoint, None, seconds, callback.HeartbeatTimedOut)

        self._set(service, "_wait_for_task_token_timeout", wait_for_token)
        self._set(service, "_wait_for_task_token_heartbeat", wait_for_token_heartbeat)

        endpoint_class = callback.CallbackEndpoint
        original_notify = endpoint_class.notify
        original_beat = endpoint_class.notify_heartbeat
        original_interrupt = endpoint_class.interrupt_all

        def notify(self_: Any, outcome: Any) -> None:
            original_notify(self_, outcome)
            callbacks.wake(self_.callback_id)

        def notify_heartbeat(self_: Any) -> bool:
            beat = bool(original_beat(self_))
            if beat:
                callbacks.beat(self_.callback_id)
            return beat

        def interrupt_all(self_: Any) -> None:
            """The task is over (or its execution stopped): its token is closed."""
            original_interrupt(self_)
            callbacks.close(self_.callback_id)

        self._set(endpoint_class, "notify", notify)
        self._set(endpoint_class, "notify_heartbeat", notify_heartbeat)
        self._set(endpoint_class, "interrupt_all", interrupt_all)

    def _heartbeat_timeout_name(self) -> None:
        """A heartbeat that did not come in time is ``States.HeartbeatTimeout`` ("Error names");
        moto's interpreter names every timeout ``States.Timeout``."""
        from moto.stepfunctions.parser.api import (  # noqa: PLC0415
            HistoryEventType,
            TaskTimedOutEventDetails,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name import (  # noqa: PLC0415
            states_error_name,
            states_error_name_type,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (  # noqa: PLC0415
            FailureEvent,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import (  # noqa: PLC0415
            state_task,
        )
        from moto.stepfunctions.parser.asl.eval.callback import callback  # noqa: PLC0415
        from moto.stepfunctions.parser.asl.eval.event.event_detail import (  # noqa: PLC0415
            EventDetails,
        )

        details: Any = EventDetails  # a TypedDict of every kind of detail: one given here
        name = states_error_name_type.StatesErrorNameType.StatesHeartbeatTimeout
        task_service = state_task.StateTask
        original_from_error: Any = task_service.__dict__["_from_error"]

        def from_error(self_: Any, env: Any, ex: Exception) -> Any:
            if isinstance(ex, callback.HeartbeatTimeoutError):
                return FailureEvent(
                    env=env,
                    error_name=states_error_name.StatesErrorName(typ=name),
                    event_type=HistoryEventType.TaskTimedOut,
                    event_details=details(
                        taskTimedOutEventDetails=TaskTimedOutEventDetails(
                            resourceType=self_._get_sfn_resource_type(),
                            resource=self_._get_sfn_resource(),
                            error=name.to_name(),
                        )
                    ),
                )
            return original_from_error(self_, env, ex)

        self._set(task_service, "_from_error", from_error)

    def _task_token_api(self) -> None:
        """SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat as AWS answers them (Step
        Functions API Reference): ``TaskTimedOut`` for a token whose task has ended,
        ``InvalidOutput`` for output that is not JSON, and the failure's ``cause`` kept."""
        from moto.core.responses import EmptyResult  # noqa: PLC0415
        from moto.stepfunctions.parser.api import InvalidOutput, TaskTimedOut  # noqa: PLC0415
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend  # noqa: PLC0415
        from moto.stepfunctions.responses import StepFunctionResponse  # noqa: PLC0415

        callbacks = self.callbacks

        def closed_token_check(name: str) -> Callable[..., Any]:
            original: Any = getattr(StepFunctionsParserBackend, name)

            def send(backend: Any, task_token: str, *args: Any, **kwargs: Any) -> Any:
                """A token whose task has ended (timed out, succeeded, failed, or its execution
                stopped) answers ``TaskTimedOut``; moto answered ``InvalidToken``, or took the
                call while nothing waited for it any more."""
                with callbacks.lock:
                    if task_token in callbacks.closed:
                        message = "Task Timed Out: 'Provided task does not exist anymore'"
                        raise TaskTimedOut(message, "TaskTimedOut")  # moto's has no code
                    answer = original(backend, task_token, *args, **kwargs)
                    if closes:  # closed at once, before the woken task has even run
                        callbacks.closed.add(task_token)
                    return answer

            closes = name != "send_task_heartbeat"
            return send

        for name in ("send_task_success", "send_task_failure", "send_task_heartbeat"):
            self._set(StepFunctionsParserBackend, name, closed_token_check(name))

        def send_task_success(self_: Any) -> Any:
            output = self_._get_param("output")
            try:
                json.loads(output)
            except (TypeError, ValueError):
                message = "Invalid Output: the output must be valid JSON"
                raise InvalidOutput(message, "InvalidOutput") from None
            self_.stepfunction_backend.send_task_success(self_._get_param("taskToken"), output)
            return EmptyResult()

        def send_task_failure(self_: Any) -> Any:
            self_.stepfunction_backend.send_task_failure(
                self_._get_param("taskToken"),
                error=self_._get_param("error"),
                cause=self_._get_param("cause"),
            )
            return EmptyResult()

        self._set(StepFunctionResponse, "send_task_success", send_task_success)
        self._set(StepFunctionResponse, "send_task_failure", send_task_failure)

    def _definition_check(self) -> None:
        """CreateStateMachine refuses, as ``InvalidDefinition``, a definition whose ``States.ALL``
        is not alone in its ``ErrorEquals`` or not in the last retrier or catcher ("Handling
        errors": it "must appear alone in the ErrorEquals array and must appear in the last
        retrier in the Retry array", likewise for catchers). moto refused only the first, with an
        error that has no code, and let the second through."""
        from moto.core.exceptions import AWSError  # noqa: PLC0415
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend  # noqa: PLC0415

        class InvalidDefinition(AWSError):
            TYPE = "InvalidDefinition"
            STATUS = 400

        original: Any = StepFunctionsParserBackend.__dict__["_validate_definition"].__func__

        def validate_definition(definition: str) -> None:
            try:
                parsed = json.loads(definition)
            except ValueError:
                parsed = None
            misplaced = _misplaced_states_all(parsed) if parsed is not None else None
            if misplaced is not None:
                raise InvalidDefinition(
                    "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: States.ALL "
                    f"must appear alone, in the last retrier or catcher at {misplaced}'"
                )
            try:
                original(definition)
            except Exception as exc:
                raise InvalidDefinition(str(getattr(exc, "message", exc))) from exc

        self._set(
            StepFunctionsParserBackend, "_validate_definition", staticmethod(validate_definition)
        )

    def _paged_history(self, clock: VirtualClock) -> None:
        """GetExecutionHistory as AWS pages it: ``reverseOrder``, ``maxResults`` (default 100,
        at most 1000) and ``nextToken`` (moto answers every event, oldest first, in one page)."""
        from moto.core.responses import ActionResult  # noqa: PLC0415
        from moto.stepfunctions.responses import StepFunctionResponse  # noqa: PLC0415

        def get_execution_history(self_: Any) -> Any:
            history = self_.stepfunction_backend.get_execution_history(
                self_._get_param("executionArn")
            )
            events = list(history["events"])
            if self_._get_param("reverseOrder"):
                events.reverse()
            size = min(int(self_._get_param("maxResults") or 100), 1000)
            start = int(self_._get_param("nextToken") or 0)
            page: dict[str, Any] = {"events": events[start : start + size]}
            if start + size < len(events):
                page["nextToken"] = str(start + size)
            return ActionResult(page)

        self._set(StepFunctionResponse, "get_execution_history", get_execution_history)

        def stop_execution(self_: Any) -> Any:
            """StopExecution as AWS answers it: ABORTED at once, with the caller's error and
            cause (moto drops both, and reports the stop only when the execution next moves)."""
            from moto.stepfunctions.parser.api import ExecutionStatus  # noqa: PLC0415

            execution = self_.stepfunction_backend.describe_execution(
                self_._get_param("executionArn")
            )
            stopped = _datetime.datetime.fromtimestamp(clock.time(), _datetime.UTC)
            if execution.exec_status == ExecutionStatus.RUNNING:
                error, cause = self_._get_param("error"), self_._get_param("cause")
                execution.stop(stop_date=stopped, error=error, cause=cause)
                execution.exec_status = ExecutionStatus.ABORTED
                execution.stop_date, execution.error, execution.cause = stopped, error, cause
                # its task tokens close now, and a callback task waiting for one stops waiting
                worker = getattr(execution, "exec_worker", None)
                env = getattr(worker, "env", None)
                pool = getattr(getattr(env, "callback_pool_manager", None), "_pool", {})
                for endpoint in list(pool.values()):
                    endpoint.interrupt_all()
            return ActionResult({"stopDate": execution.stop_date or stopped})

        self._set(StepFunctionResponse, "stop_execution", stop_execution)

    def _virtual_timestamps(self, clock: VirtualClock) -> None:
        """Executions' start and stop dates and their history events carry virtual time, as
        GetExecutionHistory and DescribeExecution do in AWS (an operator's timeline reads them)."""
        from moto.stepfunctions.parser import models  # noqa: PLC0415
        from moto.stepfunctions.parser.asl.eval.event import event_manager  # noqa: PLC0415
        from moto.stepfunctions.parser.backend import execution  # noqa: PLC0415

        shim = _VirtualDatetimeModule(clock)
        for module in (models, event_manager, execution):
            self._set(module, "datetime", shim)


LAMBDA_UNKNOWN = "Lambda.Unknown"
# Terminal errors: no Retry or Catch takes them, not even States.ALL ("Error names": "A
# States.Runtime error is not retriable, and will always cause the execution to fail. A retry or
# catch on States.ALL will not catch States.Runtime errors"; States.DataLimitExceeded "is a
# terminal error that can't be caught by the States.ALL error type").
_UNCATCHABLE = frozenset({"States.Runtime", "States.DataLimitExceeded"})


def _states_error_matches(error_equals: list[str | None], error: str | None) -> bool:
    """Whether a Retrier's or Catcher's ``ErrorEquals`` takes ``error``, as in Step Functions
    Developer Guide, "Handling errors in Step Functions workflows" / "Error names":

    * ``States.ALL`` matches any known error name, but not the terminal ones above;
    * ``States.TaskFailed`` "acts as a wildcard that matches any known error name except for
      States.Timeout" (moto's interpreter matched it only to names outside ``States.``);
    * any other name matches itself.
    """
    if error in _UNCATCHABLE:
        return False
    if "States.ALL" in error_equals:
        return True
    if "States.TaskFailed" in error_equals and error != "States.Timeout":
        return True
    return error in error_equals


def _misplaced_states_all(node: Any, path: str = "") -> str | None:
    """The path of the first ``Retry`` or ``Catch`` whose ``States.ALL`` is not alone in its
    ``ErrorEquals`` or not in its last element (nested branches and iterators included)."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            found = _misplaced_states_all(item, f"{path}/{index}")
            if found is not None:
                return found
        return None
    if not isinstance(node, dict):
        return None
    for key in ("Retry", "Catch"):
        rules = node.get(key)
        if not isinstance(rules, list):
            continue
        for index, rule in enumerate(rules):
            names = rule.get("ErrorEquals", []) if isinstance(rule, dict) else []
            last = index == len(rules) - 1
            if "States.ALL" in names and (len(names) > 1 or not last):
                return f"{path}/{key}/{index}"
    for key, value in node.items():
        found = _misplaced_states_all(value, f"{path}/{key}")
        if found is not None:
            return found
    return None


def _task_output(state: Any, env: Any, output: Any) -> None:
    """The end of moto's ``_evaluate_with_timeout``: the task's result through the state's
    Assign, ResultSelector and ResultPath."""
    env.stack.append(output)
    if not state._is_language_query_jsonpath():
        env.states.set_result(output)
    if state.assign_decl:
        state.assign_decl.eval(env=env)
    if state.result_selector:
        state.result_selector.eval(env=env)
    if state.result_path:
        state.result_path.eval(env)
    else:
        env.states.reset(input_value=env.stack.pop())


def _function_name(name_or_arn: str) -> str:
    """``my-fn``, ``arn:...:function:my-fn`` and ``arn:...:function:my-fn:live`` -> ``my-fn``."""
    if ":function:" in name_or_arn:
        return name_or_arn.split(":function:", 1)[1].split(":", 1)[0]
    return name_or_arn.split(":", 1)[0]


def _aws_shape(event: dict[str, Any]) -> dict[str, Any]:
    """moto keeps ``time`` as epoch seconds inside EventBridge; targets get AWS's ISO form."""
    shaped = dict(event)
    if isinstance(shaped.get("time"), int | float):
        moment = datetime.fromtimestamp(float(shaped["time"]), tz=UTC)
        shaped["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return shaped


def _publish_to_topic(target: Mapping[str, Any], event: dict[str, Any]) -> None:
    """An SNS topic target (moto's EventBridge delivers to none): the event, or what its
    InputTransformer makes of it, published as the message (EventBridge User Guide, "Amazon SNS
    topics as targets" and "Input transformation"). A topic that does not exist (or whose policy
    refuses EventBridge, which moto does not check) loses the event, as a failed delivery does."""
    from moto.events.utils import EventTemplateParser  # noqa: PLC0415
    from moto.sns.models import sns_backends  # noqa: PLC0415

    transformer = target.get("InputTransformer") or {}
    message: Any = event
    if transformer:
        message = EventTemplateParser.parse(
            input_template=str(transformer.get("InputTemplate", "")),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=cast(Any, event),
        )
    text = message if isinstance(message, str) else json.dumps(message)
    arn = str(target["Arn"])
    _, _, _, region, account, _ = arn.split(":", 5)
    try:
        sns_backends[account][region].publish(text, arn=arn)
    except Exception:  # a delivery EventBridge could not make is dropped
        return


class _Turns:
    """Lets one Step Functions execution thread run at a time; a turn ends when it waits or ends.

    The functions run one at a time anyway (one process, one environment). Without turns, a
    thousand executions woken at the same virtual instant all compete for the GIL while one of
    them holds the function lock, so each invoke gets a thousandth of the CPU and the run crawls
    (the 1,000-instance benchmark stalled that way). Taking turns changes no virtual time: every
    execution woken at an instant still runs before the clock moves on.
    """

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._turn = threading.Semaphore(1)

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        self._turn.acquire()
        try:
            yield
        finally:
            self._turn.release()

    def sleep(self, seconds: float) -> None:
        """Virtual sleep by an execution thread that has the turn: others run meanwhile."""
        self.sleep_until(self._clock.time() + max(0.0, seconds))

    def sleep_until(self, at: float, sleeper: Sleeper | None = None) -> bool:
        """:meth:`VirtualClock.sleep_until` by a thread that has the turn (True: time reached
        ``at``; False: woken early). The thread is counted busy while it waits for its turn."""
        self._turn.release()
        try:
            return self._clock.sleep_until(at, sleeper)
        finally:
            self._turn.acquire()


@dataclass
class _Deadline:
    """When a Task state's ``TimeoutSeconds`` runs out (virtual epoch seconds), for one attempt;
    ``expired``: the task was still running then (it fails with ``States.Timeout``)."""

    at: float
    expired: bool = False


class _Callbacks:
    """Callback tasks' waits and their tokens, on the virtual clock.

    A task waiting for its token sleeps (its execution's turn released, counted idle) until its
    deadline: the Task state's ``TimeoutSeconds`` / ``TimeoutSecondsPath`` (moto's default when
    there is none: 99,999,999 s), or with ``HeartbeatSeconds`` until the next heartbeat is due.
    ``SendTaskSuccess`` / ``SendTaskFailure`` / ``SendTaskHeartbeat`` from any thread wake it at
    once (:meth:`VirtualClock.wake_early`: counted busy before the call returns). Its token is
    closed once the task ends; a later call with it answers ``TaskTimedOut``.
    """

    def __init__(self, clock: VirtualClock, turns: _Turns) -> None:
        self._clock = clock
        self._turns = turns
        self.lock = threading.RLock()
        self.closed: set[str] = set()  # tokens whose task has ended
        self.deadlines = threading.local()  # .current: the task's _Deadline, on its thread
        self._sleepers: dict[str, Sleeper] = {}
        self._beats: dict[str, int] = {}

    def current_deadline(self) -> _Deadline | None:
        return cast("_Deadline | None", getattr(self.deadlines, "current", None))

    def task_sleep(self, seconds: float) -> None:
        """A task's thread waits ``seconds`` (a timed-out Lambda invocation), or until the
        task's own deadline, whichever is first."""
        end = self._clock.time() + max(0.0, seconds)
        deadline = self.current_deadline()
        if deadline is not None and deadline.at < end:
            self._turns.sleep_until(deadline.at)
            deadline.expired = True
        else:
            self._turns.sleep_until(end)

    def wait(
        self,
        endpoint: Any,
        timeout_seconds: float | None,
        heartbeat_seconds: float | None,
        heartbeat_timed_out: Callable[[], Any],
    ) -> Any:
        """The callback's outcome; None when the task's deadline passed first (or its execution
        stopped); ``heartbeat_timed_out()`` when a heartbeat was due and none came."""
        token: str = endpoint.callback_id
        deadline = self.current_deadline()
        if deadline is None:  # not on a task's thread: its own timeout
            far = timeout_seconds if timeout_seconds is not None else 99_999_999
            deadline = _Deadline(self._clock.time() + float(far))
        window = self._clock.time()
        beats = 0
        try:
            while True:
                sleeper = Sleeper()
                with self.lock:
                    self._sleepers[token] = sleeper
                    outcome = endpoint.get_outcome()
                    closed = token in self.closed
                    seen = self._beats.get(token, 0)
                if outcome is not None:
                    return outcome
                if closed:
                    return None
                if seen != beats:
                    beats, window = seen, self._clock.time()
                end = deadline.at
                if heartbeat_seconds is not None:
                    end = min(end, window + heartbeat_seconds)
                if not self._turns.sleep_until(end, sleeper):
                    continue  # woken early: an outcome, a heartbeat, or the execution stopped
                with self.lock:
                    outcome = endpoint.get_outcome()
                    if outcome is None:
                        self.closed.add(token)  # no SendTask* is taken from now on
                if outcome is not None:
                    return outcome  # sent at the very instant the time ran out
                if self._clock.time() >= deadline.at:
                    deadline.expired = True
                    return None
                return heartbeat_timed_out()
        finally:
            with self.lock:
                self._sleepers.pop(token, None)
                self._beats.pop(token, None)

    def wake(self, token: str) -> None:
        with self.lock:
            sleeper = self._sleepers.get(token)
        if sleeper is not None:
            self._clock.wake_early(sleeper)

    def beat(self, token: str) -> None:
        with self.lock:
            self._beats[token] = self._beats.get(token, 0) + 1
        self.wake(token)

    def close(self, token: str) -> None:
        with self.lock:
            self.closed.add(token)
        self.wake(token)


class _VirtualDatetimeModule:
    """Stands for the ``datetime`` module in moto modules that stamp times: ``datetime.now()``
    is the virtual clock's; everything else is the real module's."""

    def __init__(self, clock: VirtualClock) -> None:
        class VirtualDatetime(_datetime.datetime):
            @classmethod
            def now(cls, tz: _datetime.tzinfo | None = None) -> _datetime.datetime:  # type: ignore[override]
                return _datetime.datetime.fromtimestamp(clock.time(), tz)

        self.datetime = VirtualDatetime

    def __getattr__(self, name: str) -> Any:
        return getattr(_datetime, name)


class _VirtualTimeModule:
    """Replaces the ``time`` module inside moto's retrier: ``sleep`` is virtual."""

    def __init__(self, clock: VirtualClock, turns: _Turns) -> None:
        self._clock = clock
        self._turns = turns

    def sleep(self, seconds: float) -> None:
        self._turns.sleep(seconds)

    def time(self) -> float:
        return self._clock.time()
