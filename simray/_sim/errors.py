"""How a failed sim task or actor call stores its error: Ray's RayTaskError (or
UnserializableException), and the fresh raise of a failed argument's error; one home for the
task path (`backend`) and the actor path (`actors`).
"""

from __future__ import annotations

from typing import Any

from simray import exceptions as exc

SIM_PID = 4242  # the pid of an error made where no worker ran (the driver's side)
DRIVER_IP = "127.0.0.1"


def task_error(
    name: str, error: BaseException, ip: str, pid: int = SIM_PID, **actor: Any
) -> BaseException:
    """What a failed task stores: Ray's RayTaskError, or UnserializableException when the
    exception cannot be rebuilt from its pickle (the driver could not deserialize it)."""
    import cloudpickle

    try:
        cloudpickle.loads(cloudpickle.dumps(error))
    except Exception:
        import traceback

        return exc.UnserializableException("".join(traceback.format_exception(error)))
    return exc._make_task_error(name, error, pid=pid, ip=ip, **actor)
