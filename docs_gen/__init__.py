"""The generated parts of the docs, so that they cannot drift from the code they describe.

    python -m docs_gen            # check: exit 1 and name each stale document
    python -m docs_gen --write    # rewrite the generated sections in place

Each generated section sits between two HTML comments in a hand-written document
(:mod:`docs_gen.sections`): the prose around it stays editable, the section is the code's.

* ``docs/CONFIGURATION.md``: the stack parameters (read from ``template.yaml``), the hook's
  NotificationMetadata keys (from :data:`asg_lifecycle.config.METADATA_KEYS`) and the checks
  reference (:func:`docs_gen.checks.render`);
* ``docs/ARCHITECTURE.md``: the workflow's state diagram, from
  ``src/orchestrator/lifecycle.asl.json``.

A top-level package, like ``bench``, not under ``src/``: ``src/`` is the Lambda functions'
CodeUri, and nothing here is needed at run time (nor cfn-lint, which it uses to read the
template). ``tests/docs/`` fails when a document differs from what this writes.
"""
