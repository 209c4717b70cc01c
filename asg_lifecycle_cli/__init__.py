"""``asg-lifecycle``: an operator's view of a deployed stack, and hands on the actions in flight.

Not part of the Lambda package (``src/`` is): it runs where an operator's AWS credentials are.

* ``stack.py``: which stack (name, its CloudFormation outputs);
* ``views.py``: what an execution's history says (pure: the action, its deadlines, its timeline);
* ``executions.py``: reading executions from Step Functions;
* ``operations.py``: what an operator does (heartbeat, complete, re-send an event);
* ``signals.py``: the instances' own signal (``signal``: their waiting rounds run now);
* ``local.py``: the same commands against the embedded emulator (``--local``);
* ``main.py``: the click commands, a few lines each.
"""
