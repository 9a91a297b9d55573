"""register_serializer on sim: a registration belongs to the simulated process that made it."""

from __future__ import annotations

import threading

import pytest

import simray
from simray.util import deregister_serializer, register_serializer


class Locked:
    def __init__(self, value: int):
        self.value = value
        self.lock = threading.Lock()


@simray.remote
def register_here_and_return(v: int) -> int:
    register_serializer(Locked, serializer=lambda o: o.value, deserializer=Locked)
    return simray.get(simray.put(Locked(v))).value


@simray.remote
class Registrar:
    def register(self) -> None:
        register_serializer(Locked, serializer=lambda o: o.value, deserializer=Locked)

    def make(self, v: int) -> Locked:
        return Locked(v)


def test_a_task_s_registration_stays_in_that_task():
    simray.init(num_cpus=1)
    assert simray.get(register_here_and_return.remote(3)) == 3
    with pytest.raises(TypeError):
        simray.put(Locked(1))  # the driver never registered


def test_an_actor_s_registration_lasts_for_its_calls():
    simray.init(num_cpus=1)
    actor = Registrar.remote()
    with pytest.raises(simray.exceptions.RayTaskError):
        simray.get(actor.make.remote(1))
    simray.get(actor.register.remote())
    assert simray.get(actor.make.remote(2)).value == 2


def test_the_driver_s_registration_outlives_the_session():
    simray.init(num_cpus=1)
    register_serializer(Locked, serializer=lambda o: o.value + 1, deserializer=Locked)
    simray.shutdown()
    simray.init(num_cpus=1)
    try:
        assert simray.get(simray.put(Locked(1))).value == 2
    finally:
        deregister_serializer(Locked)
    with pytest.raises(TypeError):
        simray.put(Locked(1))
