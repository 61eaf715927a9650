"""Parameters of `set_resources`: one container's requests and limits, before and after.

Every value is the whole desired state of that field: None means "not set" (a CPU limit of
None removes the limit), so the same parameters with `previous_*` swapped in undo it.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from policies.quantities import CPU_PATTERN, MEMORY_PATTERN, parse_cpu, parse_memory

CONTAINER_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
Cpu = Annotated[str, StringConstraints(pattern=CPU_PATTERN)]
Memory = Annotated[str, StringConstraints(pattern=MEMORY_PATTERN)]
FIELDS = ("cpu_request", "cpu_limit", "memory_request", "memory_limit")


class SetResourcesParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    container: Annotated[str, StringConstraints(pattern=CONTAINER_NAME)]
    cpu_request: Cpu | None = None
    cpu_limit: Cpu | None = None
    memory_request: Memory | None = None
    memory_limit: Memory | None = None
    previous_cpu_request: Cpu | None = Field(default=None, description="Needed to undo.")
    previous_cpu_limit: Cpu | None = None
    previous_memory_request: Memory | None = None
    previous_memory_limit: Memory | None = None

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Self:
        cpu = (self.cpu_request, self.cpu_limit)
        if cpu[0] is not None and cpu[1] is not None and parse_cpu(cpu[0]) > parse_cpu(cpu[1]):
            raise ValueError(f"cpu_request {cpu[0]} is above cpu_limit {cpu[1]}")
        memory = (self.memory_request, self.memory_limit)
        if (
            memory[0] is not None
            and memory[1] is not None
            and parse_memory(memory[0]) > parse_memory(memory[1])
        ):
            raise ValueError(f"memory_request {memory[0]} is above memory_limit {memory[1]}")
        return self

    def undone(self) -> SetResourcesParams:
        """The same container, previous and new values swapped."""
        swapped = {name: getattr(self, f"previous_{name}") for name in FIELDS}
        swapped.update({f"previous_{name}": getattr(self, name) for name in FIELDS})
        return SetResourcesParams.model_validate({"container": self.container, **swapped})

    def changes(self) -> list[tuple[str, str | None, str | None]]:
        """(field, before, after) for each field that changes."""
        return [
            (name, getattr(self, f"previous_{name}"), getattr(self, name))
            for name in FIELDS
            if getattr(self, f"previous_{name}") != getattr(self, name)
        ]
