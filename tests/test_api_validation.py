"""Option and argument validation through the public API, with Ray 2.60's exception types and
messages (`RAY/_common/ray_option_utils.py`, `RAY/_private/worker.py`, `RAY/remote_function.py`),
and copy semantics of values that cross task boundaries.

Every test starts its own session; the autouse fixture in conftest.py shuts it down.
"""

from __future__ import annotations

import re
import threading

import pytest

import simray
from simray import _session

# Ray 2.60: list(ray._common.ray_option_utils.task_options), the list its error message prints.
RAY_TASK_OPTIONS = [
    "label_selector",
    "fallback_strategy",
    "accelerator_type",
    "memory",
    "name",
    "num_cpus",
    "num_gpus",
    "object_store_memory",
    "placement_group",
    "placement_group_bundle_index",
    "placement_group_capture_child_tasks",
    "resources",
    "runtime_env",
    "scheduling_strategy",
    "enable_task_events",
    "_labels",
    "max_calls",
    "max_retries",
    "num_returns",
    "retry_exceptions",
    "_generator_backpressure_num_objects",
    "_num_objects_per_yield",
]
INVALID_OPTION = (
    r"^Invalid option keyword {} for remote functions\. Valid ones are "
    + re.escape(str(RAY_TASK_OPTIONS))
    + r"\.$"
)


def one() -> int:
    return 1


def identity(x):
    return x


# -- resource options ----------------------------------------------------------------------------


def test_num_gpus_too_precise_fails_at_decoration():
    simray.init(num_cpus=1)
    with pytest.raises(
        ValueError,
        match=r"^The precision of the fractional quantity of resource num_gpus cannot go beyond "
        r"0\.0001$",
    ):
        simray.remote(num_gpus=0.00001)(one)


def test_num_cpus_too_precise_fails_in_options():
    simray.init(num_cpus=1)
    f = simray.remote(one)
    with pytest.raises(
        ValueError,
        match=r"^The precision of the fractional quantity of resource num_cpus cannot go beyond",
    ):
        f.options(num_cpus=0.00001)


def test_negative_num_cpus_fails_at_decoration_and_in_options():
    simray.init(num_cpus=1)
    with pytest.raises(ValueError, match=r"^The quantity of resource num_cpus cannot be negative$"):
        simray.remote(num_cpus=-1)(one)
    f = simray.remote(one)
    with pytest.raises(ValueError, match=r"^The quantity of resource num_cpus cannot be negative$"):
        f.options(num_cpus=-1)


def test_negative_custom_resource():
    simray.init(num_cpus=1)
    with pytest.raises(ValueError, match=r"^The quantity of resource custom cannot be negative$"):
        simray.remote(resources={"custom": -1})(one)


@pytest.mark.parametrize("key", ["CPU", "GPU"])
def test_cpu_or_gpu_inside_resources_is_refused(key):
    simray.init(num_cpus=1)
    with pytest.raises(
        ValueError,
        match=r"^Use the 'num_cpus' and 'num_gpus' keyword instead of 'CPU' and 'GPU' in "
        r"'resources' keyword$",
    ):
        simray.remote(resources={key: 1})(one)


def test_num_cpus_of_wrong_type():
    simray.init(num_cpus=1)
    with pytest.raises(
        TypeError,
        match=r"^The type of keyword 'num_cpus' must be \(<class 'float'>, <class 'int'>, "
        r"<class 'NoneType'>\), but received type <class 'str'>$",
    ):
        simray.remote(num_cpus="1")(one)


def test_num_gpus_one_and_a_half_accepted_at_decoration_refused_at_remote():
    simray.init(num_cpus=2, num_gpus=2)
    f = simray.remote(num_gpus=1.5)(one)  # Ray's decorator accepts it
    with pytest.raises(
        ValueError,
        match=r"GPU resource quantities >1 must.*be whole numbers\. The specified quantity 1\.5 "
        r"is invalid\.",
    ):
        f.remote()
    g = simray.remote(one)
    bound = g.options(num_gpus=1.5)  # .options() accepts it too
    with pytest.raises(ValueError, match=r"GPU resource quantities >1 must.*be whole numbers"):
        bound.remote()
    # whole and fractional-below-one quantities are fine
    assert simray.get(g.options(num_gpus=2).remote()) == 1
    assert simray.get(g.options(num_gpus=0.5).remote()) == 1


# -- unknown and misplaced options ---------------------------------------------------------------


def test_unknown_option_in_decorator():
    simray.init(num_cpus=1)
    with pytest.raises(ValueError, match=INVALID_OPTION.format("bogus_option")):
        simray.remote(bogus_option=1)(one)


def test_unknown_option_in_options():
    simray.init(num_cpus=1)
    f = simray.remote(one)
    with pytest.raises(ValueError, match=INVALID_OPTION.format("max_concurrency")):
        f.options(max_concurrency=2)  # an actor option is not a task option


def test_unknown_option_in_chained_options():
    simray.init(num_cpus=1)
    bound = simray.remote(one).options(num_cpus=1)
    with pytest.raises(ValueError, match=INVALID_OPTION.format("typo_cpus")):
        bound.options(typo_cpus=1)


def test_max_calls_not_allowed_in_options():
    simray.init(num_cpus=1)
    f = simray.remote(max_calls=2)(one)  # allowed in the decorator
    with pytest.raises(
        ValueError, match=r"^Setting 'max_calls' is not supported in '\.options\(\)'\.$"
    ):
        f.options(max_calls=2)


def test_retry_exceptions_of_wrong_type():
    simray.init(num_cpus=1)
    with pytest.raises(
        TypeError,
        match=r"^The type of keyword 'retry_exceptions' must be \(<class 'bool'>, <class 'list'>, "
        r"<class 'tuple'>\), but received type <class 'str'>$",
    ):
        simray.remote(retry_exceptions="yes")(one)


def test_retry_exceptions_list_of_non_exceptions():
    simray.init(num_cpus=1)
    with pytest.raises(
        ValueError, match=r"^retry_exceptions must be either a boolean or a list of exceptions$"
    ):
        simray.remote(retry_exceptions=[KeyError, int])(one)
    simray.remote(retry_exceptions=[KeyError, ValueError])(one)  # fine


def test_negative_max_retries():
    simray.init(num_cpus=1)
    with pytest.raises(
        ValueError,
        match=r"^The keyword 'max_retries' only accepts None, 0, -1 or a positive integer, where "
        r"-1 represents infinity\.$",
    ):
        simray.remote(max_retries=-2)(one)


def test_calling_a_remote_function_directly():
    simray.init(num_cpus=1)
    f = simray.remote(one)
    with pytest.raises(
        TypeError,
        match=r"^Remote functions cannot be called directly\. Instead of running 'one\(\)', "
        r"try 'one\.remote\(\)'\.$",
    ):
        f()


# -- get / put -----------------------------------------------------------------------------------


def test_get_of_a_tuple():
    simray.init(num_cpus=1)
    ref = simray.put(1)
    with pytest.raises(
        ValueError,
        match=r"^Invalid type of object refs, <class 'tuple'>, is given\. 'object_refs' must "
        r"either be an ObjectRef or a list of ObjectRefs\.",
    ):
        simray.get((ref,))


def test_put_of_an_object_ref():
    simray.init(num_cpus=1)
    ref = simray.put(1)
    with pytest.raises(
        TypeError,
        match=r"^Calling 'put' on an ray\.ObjectRef is not allowed\. If you really want to do "
        r"this, you can wrap the ray\.ObjectRef in a list and call 'put' on it\.$",
    ):
        simray.put(ref)
    # wrapped in a list, it is fine
    assert simray.get(simray.get(simray.put([ref]))[0]) == 1


# -- wait ----------------------------------------------------------------------------------------


def _refs(n: int) -> list:
    f = simray.remote(identity)
    refs = [f.remote(i) for i in range(n)]
    simray.get(refs)
    return refs


def test_wait_single_ref():
    simray.init(num_cpus=2)
    (ref,) = _refs(1)
    with pytest.raises(
        TypeError,
        match=r"^wait\(\) expected a list of ray\.ObjectRef or ray\.ObjectRefGenerator, got a "
        r"single ray\.ObjectRef or ray\.ObjectRefGenerator ",
    ):
        simray.wait(ref)


def test_wait_tuple():
    simray.init(num_cpus=2)
    refs = _refs(2)
    with pytest.raises(
        TypeError,
        match=r"^wait\(\) expected a list of ray\.ObjectRef or ray\.ObjectRefGenerator, got "
        r"<class 'tuple'>$",
    ):
        simray.wait(tuple(refs))


def test_wait_list_with_a_non_ref():
    simray.init(num_cpus=2)
    refs = _refs(1)
    with pytest.raises(
        TypeError,
        match=r"^wait\(\) expected a list of ray\.ObjectRef or ray\.ObjectRefGenerator, got list "
        r"containing <class 'int'>$",
    ):
        simray.wait([refs[0], 5])


def test_wait_duplicates():
    simray.init(num_cpus=2)
    refs = _refs(1)
    with pytest.raises(ValueError, match=r"^Wait requires a list of unique ray_waitables\.$"):
        simray.wait([refs[0], refs[0]])


@pytest.mark.parametrize("num_returns", [0, -1])
def test_wait_num_returns_not_positive(num_returns):
    simray.init(num_cpus=2)
    refs = _refs(3)
    with pytest.raises(ValueError, match=rf"^Invalid number of objects to return {num_returns}\.$"):
        simray.wait(refs, num_returns=num_returns)


def test_wait_num_returns_greater_than_len():
    simray.init(num_cpus=2)
    refs = _refs(3)
    with pytest.raises(
        ValueError,
        match=r"^num_returns cannot be greater than the number of ray_waitables provided to "
        r"ray\.wait\.$",
    ):
        simray.wait(refs, num_returns=4)


def test_wait_negative_timeout():
    simray.init(num_cpus=2)
    refs = _refs(2)
    with pytest.raises(
        ValueError, match=r"^The 'timeout' argument must be nonnegative\. Received -1$"
    ):
        simray.wait(refs, timeout=-1)


def test_wait_empty_list():
    simray.init(num_cpus=1)
    assert simray.wait([]) == ([], [])
    assert simray.wait([], num_returns=5) == ([], [])


def test_wait_num_returns_equal_len_is_fine():
    simray.init(num_cpus=2)
    refs = _refs(3)
    ready, not_ready = simray.wait(refs, num_returns=3)
    assert ready == refs
    assert not_ready == []


# -- init ----------------------------------------------------------------------------------------


def test_init_twice():
    simray.init(num_cpus=1)
    with pytest.raises(
        RuntimeError,
        match=r"^Maybe you called ray\.init twice by accident\? This error can be suppressed by "
        r"passing in 'ignore_reinit_error=True' or by calling 'ray\.shutdown\(\)' prior to "
        r"'ray\.init\(\)'\.$",
    ):
        simray.init(num_cpus=1)


def test_init_twice_with_ignore_reinit_error_keeps_the_session():
    simray.init(num_cpus=3)
    session = _session.active()
    simray.init(num_cpus=1, ignore_reinit_error=True)
    assert _session.active() is session
    assert simray.cluster_resources()["CPU"] == 3.0


def test_init_after_shutdown_is_fine():
    simray.init(num_cpus=1)
    simray.shutdown()
    assert not simray.is_initialized()
    simray.init(num_cpus=2)
    assert simray.is_initialized()


def test_init_local_mode():
    with pytest.raises(
        RuntimeError,
        match=r"^`local_mode` is no longer supported\. For interactive debugging consider using "
        r"the Ray distributed debugger\.$",
    ):
        simray.init(num_cpus=1, local_mode=True)
    assert not simray.is_initialized()


def test_init_unknown_backend_names_the_available_backends():
    with pytest.raises(
        ValueError, match=r"^unknown backend 'bogus'; choose one of \['local', 'ray', 'sim'\]"
    ):
        simray.init(num_cpus=1, backend="bogus")
    assert not simray.is_initialized()


def test_init_unknown_keyword_argument():
    # Ray 2.60 (`RAY/_private/worker.py` init, ~line 1752): extra keyword arguments outside
    # ray-client mode raise RuntimeError(f"Unknown keyword argument(s): {unknown}").
    with pytest.raises(RuntimeError, match=r"^Unknown keyword argument\(s\): bogus_arg$"):
        simray.init(num_cpus=1, bogus_arg=1)
    assert not simray.is_initialized()


def test_init_accepts_rays_known_arguments():
    simray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, _system_config={})
    assert simray.is_initialized()


# -- copy semantics ------------------------------------------------------------------------------


def mutate(lst):
    lst.append("task")
    lst[0] = "changed"
    return lst


def test_argument_mutated_in_task_does_not_change_callers_list():
    simray.init(num_cpus=2)
    data = ["orig", 1]
    result = simray.get(simray.remote(mutate).remote(data))
    assert result == ["changed", 1, "task"]
    assert data == ["orig", 1]


def test_keyword_argument_is_copied_too():
    simray.init(num_cpus=2)

    def mutate_kw(*, d):
        d["added"] = True
        return d

    d = {"k": 1}
    assert simray.get(simray.remote(mutate_kw).remote(d=d)) == {"k": 1, "added": True}
    assert d == {"k": 1}


def test_argument_is_copied_at_submission():
    # Ray serializes arguments in .remote(): a later change by the caller is not seen.
    simray.init(num_cpus=2)
    data = [1, 2]
    ref = simray.remote(identity).remote(data)
    data.append(3)
    assert simray.get(ref) == [1, 2]


def test_mutating_what_get_returned_does_not_change_the_stored_object():
    simray.init(num_cpus=2)
    ref = simray.put([1, 2, 3])
    got = simray.get(ref)
    got.append("local")
    assert simray.get(ref) == [1, 2, 3]
    task_ref = simray.remote(identity).remote({"a": [1]})
    out = simray.get(task_ref)
    out["a"].append(2)
    assert simray.get(task_ref) == {"a": [1]}


def test_put_snapshots_the_value():
    simray.init(num_cpus=2)
    stored = [1, 2, 3]
    ref = simray.put(stored)
    stored[0] = 100
    assert simray.get(ref) == [1, 2, 3]


def test_each_task_gets_a_fresh_copy_of_a_put_object():
    simray.init(num_cpus=2)
    ref = simray.put(["orig", 1])
    f = simray.remote(mutate)
    assert simray.get(f.remote(ref)) == ["changed", 1, "task"]
    assert simray.get(f.remote(ref)) == ["changed", 1, "task"]
    assert simray.get(ref) == ["orig", 1]


def test_unpicklable_lock_argument_fails_at_remote():
    simray.init(num_cpus=1)
    f = simray.remote(identity)
    with pytest.raises(
        TypeError, match=r"^Could not serialize the argument <unlocked _thread\.lock object at 0x"
    ):
        f.remote(threading.Lock())


def test_unpicklable_generator_argument_fails_at_remote():
    simray.init(num_cpus=1)
    f = simray.remote(identity)
    gen = (i for i in range(3))
    with pytest.raises(
        TypeError, match=r"^Could not serialize the argument <generator object .*genexpr.* at 0x"
    ):
        f.remote(gen)


def test_unpicklable_keyword_argument_fails_at_remote():
    simray.init(num_cpus=1)

    def takes_kw(*, x):
        return 1

    f = simray.remote(takes_kw)
    with pytest.raises(
        TypeError, match=r"^Could not serialize the argument <unlocked _thread\.lock object at 0x"
    ):
        f.remote(x=threading.Lock())


def test_unpicklable_argument_nested_in_a_list_fails_at_remote():
    simray.init(num_cpus=1)
    f = simray.remote(identity)
    with pytest.raises(
        TypeError, match=r"^Could not serialize the argument \[<unlocked _thread\.lock object at 0x"
    ):
        f.remote([threading.Lock()])
