"""Write hooks: what a package does in the same transaction as every write.

A hook is registered once (``write_hooks.add(hook)``, at import of the package that owns it) and is called
once per unit of work that wrote anything, after the resources are stored and before the access is audited
and the transaction commits: a single create, update or delete brings its one change, a transaction Bundle all
of its writes at once, a batch Bundle each entry's on its own. A hook writes its own rows through
``unit.repository.session``; if it raises, everything the unit of work wrote is rolled back (a FhirError is the
client's answer, anything else a 500).
"""

from collections.abc import Sequence
from typing import Protocol

from ilp_api.fhir.unit_of_work import Change, UnitOfWork


class WriteHook(Protocol):
    def __call__(self, changes: Sequence[Change], unit: UnitOfWork) -> None: ...


class WriteHooks:
    def __init__(self) -> None:
        self._hooks: list[WriteHook] = []

    def add(self, hook: WriteHook) -> WriteHook:
        self._hooks.append(hook)
        return hook

    def remove(self, hook: WriteHook) -> None:
        self._hooks.remove(hook)

    def run(self, unit: UnitOfWork) -> None:
        changes = tuple(unit.changes)
        if changes:
            for hook in tuple(self._hooks):
                hook(changes, unit)


write_hooks = WriteHooks()
