"""Table-driven validation check: each bad argument of `init`, `remote`, `.options`, `get`,
`wait`, `put`, `cancel`, `kill`, `get_actor` (and `@method`) that Ray 2.60 rejects, with the
exception type and message captured ONCE from real Ray 2.60, and a few that Ray accepts (the
row's type is None: simray must accept them too).

`test_sim_matches_ray` checks the `sim` backend against the table; `test_table_matches_real_ray`
re-runs the table on the installed Ray in one session so the table cannot drift. To re-capture,
run `python tests/test_validation_table.py` (it prints each row's type and message on real Ray).

Normalisations (`_normalise`), applied to both sides, for text that embeds the machine or the
package: a class's module path (`<class 'ray.actor.ActorHandle'>` vs simray's
`<class 'simray._actor.ActorHandle'>` both become `<class 'ActorHandle'>`); the resource dict in
`init`'s negative-quantity message (it holds the node's IP and memory sizes); and the order of a
printed set of strings (Ray prints a `set`, whose order varies with the hash seed).

Rows already checked word for word in `tests/test_api_validation.py` are not repeated here.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest

# (row id, "pre" = no session yet / "in" = inside a session, code, exception type, message).
# In "in" rows: `f` is a remote function, `C` an actor class, `a` a live actor, `ref` a ref to
# a put value, `ref2` a task's ref, `f0`/`C0` the plain function and class.
ROWS: list[tuple[str, str, str, str | None, str | None]] = [
    (
        "init_negative_num_cpus",
        "pre",
        "ray.init(num_cpus=-1)",
        "ValueError",
        "Resource quantities must be nonnegative. Violated by resource 'CPU' in {'node:192.0.2.2': 1.0, 'node:__internal_head__': 1.0, 'CPU': -1, 'memory': 12764886221, 'object_store_memory': 5470665523}.",
    ),
    (
        "init_negative_num_gpus",
        "pre",
        "ray.init(num_gpus=-1)",
        "ValueError",
        "Resource quantities must be nonnegative. Violated by resource 'GPU' in {'node:192.0.2.2': 1.0, 'node:__internal_head__': 1.0, 'CPU': 2, 'GPU': -1, 'memory': 12476947661, 'object_store_memory': 5347263283}.",
    ),
    (
        "init_negative_custom",
        "pre",
        "ray.init(resources={'custom': -1})",
        "ValueError",
        "Resource quantities must be nonnegative. Violated by resource 'custom' in {'custom': -1, 'node:192.0.2.2': 1.0, 'node:__internal_head__': 1.0, 'CPU': 2, 'memory': 12300907316, 'object_store_memory': 5271817420}.",
    ),
    (
        "init_num_cpus_str",
        "pre",
        "ray.init(num_cpus='2')",
        "AssertionError",
        "CPU (<class 'str'>): 2",
    ),
    (
        "init_cpu_in_resources",
        "pre",
        "ray.init(resources={'CPU': 1})",
        "AssertionError",
        "{'CPU': 1} -> `CPU` cannot be a custom resource because it is one of the default resources ({'CPU', 'object_store_memory', 'memory', 'GPU'}). Use `num_cpus` instead. For example, use `ray start --num-cpus=1` instead of `ray start --resources={'CPU': 1}`",
    ),
    (
        "init_gpu_in_resources",
        "pre",
        "ray.init(resources={'GPU': 1})",
        "AssertionError",
        "{'GPU': 1} -> `GPU` cannot be a custom resource because it is one of the default resources ({'CPU', 'object_store_memory', 'memory', 'GPU'}). Use `num_gpus` instead. For example, use `ray start --num-gpus=1` instead of `ray start --resources={'GPU': 1}`",
    ),
    (
        "init_labels_string",
        "pre",
        "ray.init(labels='zone=us')",
        "AttributeError",
        "'str' object has no attribute 'items'",
    ),
    (
        "init_labels_reserved_prefix_accepted",
        "pre",
        "ray.init(labels={'ray.io/x': '1'})",
        None,
        None,
    ),
    (
        "init_namespace_int",
        "pre",
        "ray.init(namespace=1)",
        "TypeError",
        "namespace must be None or a string.",
    ),
    (
        "init_object_store_negative",
        "pre",
        "ray.init(object_store_memory=-1)",
        "ValueError",
        "Attempting to cap object store memory usage at -1 bytes, but the minimum allowed is 78643200 bytes.",
    ),
    (
        "init_two_unknown",
        "pre",
        "ray.init(bogus_a=1, bogus_b=2)",
        "RuntimeError",
        "Unknown keyword argument(s): bogus_a, bogus_b",
    ),
    (
        "remote_non_callable",
        "in",
        "ray.remote(1)",
        "AssertionError",
        "The @ray.remote decorator must be applied either with no arguments and no parentheses, for example '@ray.remote', or it must be applied using some of the arguments in the list ['max_calls', 'max_retries', 'num_cpus', 'num_returns', 'object_store_memory', 'retry_exceptions', '_generator_backpressure_num_objects', '_num_objects_per_yield', 'concurrency_groups', 'enable_tensor_transport', 'lifetime', 'max_concurrency', 'max_restarts', 'max_task_retries', 'max_pending_calls', 'namespace', 'get_if_exists', 'allow_out_of_order_execution', '_actor_generator_backpressure_num_objects', 'label_selector', 'fallback_strategy', 'accelerator_type', 'memory', 'name', 'num_gpus', 'placement_group', 'placement_group_bundle_index', 'placement_group_capture_child_tasks', 'resources', 'runtime_env', 'scheduling_strategy', 'enable_task_events', '_labels'], for example '@ray.remote(num_returns=2, resources={\"CustomResource\": 1})'.",
    ),
    (
        "remote_function_and_option",
        "in",
        "ray.remote(f0, num_cpus=1)",
        "AssertionError",
        "The @ray.remote decorator must be applied either with no arguments and no parentheses, for example '@ray.remote', or it must be applied using some of the arguments in the list ['max_calls', 'max_retries', 'num_cpus', 'num_returns', 'object_store_memory', 'retry_exceptions', '_generator_backpressure_num_objects', '_num_objects_per_yield', 'concurrency_groups', 'enable_tensor_transport', 'lifetime', 'max_concurrency', 'max_restarts', 'max_task_retries', 'max_pending_calls', 'namespace', 'get_if_exists', 'allow_out_of_order_execution', '_actor_generator_backpressure_num_objects', 'label_selector', 'fallback_strategy', 'accelerator_type', 'memory', 'name', 'num_gpus', 'placement_group', 'placement_group_bundle_index', 'placement_group_capture_child_tasks', 'resources', 'runtime_env', 'scheduling_strategy', 'enable_task_events', '_labels'], for example '@ray.remote(num_returns=2, resources={\"CustomResource\": 1})'.",
    ),
    (
        "remote_no_args",
        "in",
        "ray.remote()",
        "AssertionError",
        "The @ray.remote decorator must be applied either with no arguments and no parentheses, for example '@ray.remote', or it must be applied using some of the arguments in the list ['max_calls', 'max_retries', 'num_cpus', 'num_returns', 'object_store_memory', 'retry_exceptions', '_generator_backpressure_num_objects', '_num_objects_per_yield', 'concurrency_groups', 'enable_tensor_transport', 'lifetime', 'max_concurrency', 'max_restarts', 'max_task_retries', 'max_pending_calls', 'namespace', 'get_if_exists', 'allow_out_of_order_execution', '_actor_generator_backpressure_num_objects', 'label_selector', 'fallback_strategy', 'accelerator_type', 'memory', 'name', 'num_gpus', 'placement_group', 'placement_group_bundle_index', 'placement_group_capture_child_tasks', 'resources', 'runtime_env', 'scheduling_strategy', 'enable_task_events', '_labels'], for example '@ray.remote(num_returns=2, resources={\"CustomResource\": 1})'.",
    ),
    (
        "method_positional",
        "in",
        "ray.method(1, num_returns=1)",
        "AssertionError",
        "The @ray.method decorator must be applied using no arguments or at least one of the arguments in the list ['num_returns', 'concurrency_group', 'max_task_retries', 'retry_exceptions', '_generator_backpressure_num_objects', '_num_objects_per_yield', 'enable_task_events', 'tensor_transport'], for example '@ray.method(num_returns=2)'.",
    ),
    (
        "options_actor_name_and_namespace_empty",
        "in",
        "C.options(name='', namespace='').remote()",
        "ValueError",
        "Actor name cannot be an empty string.",
    ),
    (
        "remote_num_returns_negative",
        "in",
        "ray.remote(num_returns=-1)(f0)",
        "ValueError",
        "Default None. When None is passed, The default value is 1 for a task and actor task, and 'streaming' for generator tasks and generator actor tasks. The keyword 'num_returns' only accepts None, a non-negative integer, 'streaming' (for generators), or 'dynamic'. 'dynamic' flag will be deprecated in the future, and it is recommended to use 'streaming' instead.",
    ),
    (
        "remote_num_returns_float",
        "in",
        "ray.remote(num_returns=1.5)(f0)",
        "TypeError",
        "The type of keyword 'num_returns' must be (<class 'int'>, <class 'str'>, <class 'NoneType'>), but received type <class 'float'>",
    ),
    (
        "remote_memory_negative",
        "in",
        "ray.remote(memory=-1)(f0)",
        "ValueError",
        "The quantity of resource memory cannot be negative",
    ),
    (
        "remote_name_int",
        "in",
        "ray.remote(name=1)(f0)",
        "TypeError",
        "The type of keyword 'name' must be (<class 'str'>, <class 'NoneType'>), but received type <class 'int'>",
    ),
    (
        "remote_scheduling_strategy_bogus",
        "in",
        "ray.remote(scheduling_strategy='BOGUS')(f0)",
        None,
        None,
    ),
    (
        "remote_max_calls_negative",
        "in",
        "ray.remote(max_calls=-1)(f0)",
        "ValueError",
        "The keyword 'max_calls' only accepts None, 0 or a positive integer.",
    ),
    (
        "remote_accelerator_type_int",
        "in",
        "ray.remote(accelerator_type=1)(f0)",
        "TypeError",
        "The type of keyword 'accelerator_type' must be (<class 'str'>, <class 'NoneType'>), but received type <class 'int'>",
    ),
    (
        "remote_actor_option_on_function",
        "in",
        "ray.remote(max_restarts=1)(f0)",
        "ValueError",
        "Invalid option keyword max_restarts for remote functions. Valid ones are ['label_selector', 'fallback_strategy', 'accelerator_type', 'memory', 'name', 'num_cpus', 'num_gpus', 'object_store_memory', 'placement_group', 'placement_group_bundle_index', 'placement_group_capture_child_tasks', 'resources', 'runtime_env', 'scheduling_strategy', 'enable_task_events', '_labels', 'max_calls', 'max_retries', 'num_returns', 'retry_exceptions', '_generator_backpressure_num_objects', '_num_objects_per_yield'].",
    ),
    (
        "remote_task_option_on_actor",
        "in",
        "ray.remote(num_returns=1)(C0)",
        "ValueError",
        "Invalid option keyword num_returns for actors. Valid ones are ['label_selector', 'fallback_strategy', 'accelerator_type', 'memory', 'name', 'num_cpus', 'num_gpus', 'object_store_memory', 'placement_group', 'placement_group_bundle_index', 'placement_group_capture_child_tasks', 'resources', 'runtime_env', 'scheduling_strategy', 'enable_task_events', '_labels', 'concurrency_groups', 'enable_tensor_transport', 'lifetime', 'max_concurrency', 'max_restarts', 'max_task_retries', 'max_pending_calls', 'namespace', 'get_if_exists', 'allow_out_of_order_execution', '_actor_generator_backpressure_num_objects'].",
    ),
    (
        "remote_unknown_option_on_actor",
        "in",
        "ray.remote(bogus=1)(C0)",
        "ValueError",
        "Invalid option keyword bogus for actors. Valid ones are ['label_selector', 'fallback_strategy', 'accelerator_type', 'memory', 'name', 'num_cpus', 'num_gpus', 'object_store_memory', 'placement_group', 'placement_group_bundle_index', 'placement_group_capture_child_tasks', 'resources', 'runtime_env', 'scheduling_strategy', 'enable_task_events', '_labels', 'concurrency_groups', 'enable_tensor_transport', 'lifetime', 'max_concurrency', 'max_restarts', 'max_task_retries', 'max_pending_calls', 'namespace', 'get_if_exists', 'allow_out_of_order_execution', '_actor_generator_backpressure_num_objects'].",
    ),
    (
        "remote_max_restarts_negative",
        "in",
        "ray.remote(max_restarts=-2)(C0)",
        "ValueError",
        "The keyword 'max_restarts' only accepts None, 0, -1 or a positive integer, where -1 represents infinity.",
    ),
    (
        "remote_max_task_retries_negative",
        "in",
        "ray.remote(max_task_retries=-2)(C0)",
        "ValueError",
        "The keyword 'max_task_retries' only accepts None, 0, -1 or a positive integer, where -1 represents infinity.",
    ),
    ("remote_max_concurrency_zero", "in", "ray.remote(max_concurrency=0)(C0)", None, None),
    (
        "remote_max_concurrency_str",
        "in",
        "ray.remote(max_concurrency='2')(C0)",
        "TypeError",
        "The type of keyword 'max_concurrency' must be (<class 'int'>, <class 'NoneType'>), but received type <class 'str'>",
    ),
    (
        "remote_lifetime_bogus",
        "in",
        "ray.remote(lifetime='forever')(C0)",
        "ValueError",
        "actor `lifetime` argument must be one of 'detached', 'non_detached' and 'None'.",
    ),
    (
        "remote_actor_negative_cpus",
        "in",
        "ray.remote(num_cpus=-1)(C0)",
        "ValueError",
        "The quantity of resource num_cpus cannot be negative",
    ),
    (
        "remote_bundle_index_negative",
        "in",
        "ray.remote(placement_group_bundle_index=-2)(f0)",
        None,
        None,
    ),
    (
        "remote_runtime_env_int",
        "in",
        "ray.remote(runtime_env=5)(f0)",
        "TypeError",
        "The type of keyword 'runtime_env' must be (<class 'dict'>, <class 'NoneType'>), but received type <class 'int'>",
    ),
    (
        "options_num_returns_negative",
        "in",
        "f.options(num_returns=-1)",
        "ValueError",
        "Default None. When None is passed, The default value is 1 for a task and actor task, and 'streaming' for generator tasks and generator actor tasks. The keyword 'num_returns' only accepts None, a non-negative integer, 'streaming' (for generators), or 'dynamic'. 'dynamic' flag will be deprecated in the future, and it is recommended to use 'streaming' instead.",
    ),
    (
        "options_name_int",
        "in",
        "f.options(name=5)",
        "TypeError",
        "The type of keyword 'name' must be (<class 'str'>, <class 'NoneType'>), but received type <class 'int'>",
    ),
    (
        "options_actor_name_int",
        "in",
        "C.options(name=5)",
        "TypeError",
        "The type of keyword 'name' must be (<class 'str'>, <class 'NoneType'>), but received type <class 'int'>",
    ),
    (
        "options_actor_namespace_int",
        "in",
        "C.options(namespace=5)",
        "TypeError",
        "The type of keyword 'namespace' must be (<class 'str'>, <class 'NoneType'>), but received type <class 'int'>",
    ),
    (
        "options_actor_lifetime_bogus",
        "in",
        "C.options(lifetime='forever')",
        "ValueError",
        "actor `lifetime` argument must be one of 'detached', 'non_detached' and 'None'.",
    ),
    (
        "options_actor_max_concurrency_negative",
        "in",
        "C.options(max_concurrency=-1)",
        "ValueError",
        "The keyword 'max_concurrency' only accepts None, 0 or a positive integer.",
    ),
    (
        "options_actor_unknown",
        "in",
        "C.options(bogus=1)",
        "ValueError",
        "Invalid option keyword bogus for actors. Valid ones are ['label_selector', 'fallback_strategy', 'accelerator_type', 'memory', 'name', 'num_cpus', 'num_gpus', 'object_store_memory', 'placement_group', 'placement_group_bundle_index', 'placement_group_capture_child_tasks', 'resources', 'runtime_env', 'scheduling_strategy', 'enable_task_events', '_labels', 'concurrency_groups', 'enable_tensor_transport', 'lifetime', 'max_concurrency', 'max_restarts', 'max_task_retries', 'max_pending_calls', 'namespace', 'get_if_exists', 'allow_out_of_order_execution', '_actor_generator_backpressure_num_objects'].",
    ),
    (
        "options_actor_task_option",
        "in",
        "C.options(max_retries=1)",
        "ValueError",
        "Invalid option keyword max_retries for actors. Valid ones are ['label_selector', 'fallback_strategy', 'accelerator_type', 'memory', 'name', 'num_cpus', 'num_gpus', 'object_store_memory', 'placement_group', 'placement_group_bundle_index', 'placement_group_capture_child_tasks', 'resources', 'runtime_env', 'scheduling_strategy', 'enable_task_events', '_labels', 'concurrency_groups', 'enable_tensor_transport', 'lifetime', 'max_concurrency', 'max_restarts', 'max_task_retries', 'max_pending_calls', 'namespace', 'get_if_exists', 'allow_out_of_order_execution', '_actor_generator_backpressure_num_objects'].",
    ),
    (
        "options_actor_get_if_exists_unnamed",
        "in",
        "C.options(get_if_exists=True).remote()",
        "ValueError",
        "The actor name must be specified to use `get_if_exists`.",
    ),
    (
        "options_actor_empty_name",
        "in",
        "C.options(name='').remote()",
        "ValueError",
        "Actor name cannot be an empty string.",
    ),
    (
        "options_actor_empty_namespace",
        "in",
        "C.options(name='x', namespace='').remote()",
        "ValueError",
        '"" is not a valid namespace. Pass None to not specify a namespace.',
    ),
    (
        "options_actor_memory_negative",
        "in",
        "C.options(memory=-1)",
        "ValueError",
        "The quantity of resource memory cannot be negative",
    ),
    (
        "options_scheduling_strategy_int",
        "in",
        "f.options(scheduling_strategy=5)",
        "TypeError",
        "The type of keyword 'scheduling_strategy' must be (<class 'NoneType'>, <class 'str'>, <class 'ray.util.scheduling_strategies.PlacementGroupSchedulingStrategy'>, <class 'ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy'>, <class 'ray.util.scheduling_strategies.NodeLabelSchedulingStrategy'>), but received type <class 'int'>",
    ),
    (
        "options_positional",
        "in",
        "f.options(1)",
        "TypeError",
        "RemoteFunction.options() takes 1 positional argument but 2 were given",
    ),
    (
        "options_method_num_returns_negative",
        "in",
        "a.m.options(num_returns=-1)",
        "ValueError",
        "num_returns must be >= 0, but got -1.",
    ),
    ("options_method_bogus_accepted", "in", "a.m.options(bogus=1)", None, None),
    (
        "options_method_bogus_at_remote",
        "in",
        "a.m.options(bogus=1).remote()",
        "TypeError",
        "ActorMethod._remote() got an unexpected keyword argument 'bogus'",
    ),
    (
        "options_method_num_objects_per_yield",
        "in",
        "a.m.options(_num_objects_per_yield=2)",
        "ValueError",
        "_num_objects_per_yield cannot be overridden per actor method call. Use @ray.method(_num_objects_per_yield=...) instead.",
    ),
    (
        "options_method_max_task_retries_accepted",
        "in",
        "ray.get(a.m.options(max_task_retries=1, enable_task_events=False).remote())",
        None,
        None,
    ),
    (
        "actor_method_called_directly",
        "in",
        "a.m()",
        "TypeError",
        "Actor methods cannot be called directly. Instead of running 'object.m()', try 'object.m.remote()'.",
    ),
    (
        "actor_class_called_directly",
        "in",
        "C()",
        "TypeError",
        "Actors cannot be instantiated directly. Instead of 'C0()', use 'C0.remote()'.",
    ),
    (
        "get_int",
        "in",
        "ray.get(1)",
        "ValueError",
        "Invalid type of object refs, <class 'int'>, is given. 'object_refs' must either be an ObjectRef or a list of ObjectRefs. ",
    ),
    (
        "get_list_with_int",
        "in",
        "ray.get([ref, 1])",
        "TypeError",
        "Attempting to call `get` on the value 1, which is not an ray.ObjectRef.",
    ),
    ("get_negative_timeout", "in", "ray.get(ref, timeout=-1)", None, None),
    (
        "get_actor_handle",
        "in",
        "ray.get(a)",
        "ValueError",
        "Invalid type of object refs, <class 'ray.actor.ActorHandle'>, is given. 'object_refs' must either be an ObjectRef or a list of ObjectRefs. ",
    ),
    (
        "get_dict",
        "in",
        "ray.get({'a': ref})",
        "ValueError",
        "Invalid type of object refs, <class 'dict'>, is given. 'object_refs' must either be an ObjectRef or a list of ObjectRefs. ",
    ),
    ("wait_num_returns_float", "in", "ray.wait([ref], num_returns=1.0)", None, None),
    (
        "wait_int",
        "in",
        "ray.wait(1)",
        "TypeError",
        "wait() expected a list of ray.ObjectRef or ray.ObjectRefGenerator, got <class 'int'>",
    ),
    ("wait_fetch_local_int", "in", "ray.wait([ref], fetch_local=1)", None, None),
    (
        "put_owner_str",
        "in",
        "ray.put(1, _owner='x')",
        "ValueError",
        "The experimental `_owner` argument to `ray.put` has been removed in Ray 2.56.",
    ),
    (
        "put_ref_in_list_ok_but_ref_itself",
        "in",
        "ray.put(ref2)",
        "TypeError",
        "Calling 'put' on an ray.ObjectRef is not allowed. If you really want to do this, you can wrap the ray.ObjectRef in a list and call 'put' on it.",
    ),
    (
        "cancel_int",
        "in",
        "ray.cancel(1)",
        "TypeError",
        "ray.cancel() only supported for object refs. For actors, try ray.kill(). Got: <class 'int'>.",
    ),
    (
        "cancel_actor_handle",
        "in",
        "ray.cancel(a)",
        "TypeError",
        "ray.cancel() only supported for object refs. For actors, try ray.kill(). Got: <class 'ray.actor.ActorHandle'>.",
    ),
    (
        "cancel_list",
        "in",
        "ray.cancel([ref])",
        "TypeError",
        "ray.cancel() only supported for object refs. For actors, try ray.kill(). Got: <class 'list'>.",
    ),
    (
        "cancel_actor_task_recursive_false",
        "in",
        "ray.cancel(a.m.remote(), recursive=False)",
        None,
        None,
    ),
    (
        "kill_int",
        "in",
        "ray.kill(1)",
        "ValueError",
        "ray.kill() only supported for actors. For tasks, try ray.cancel(). Got: <class 'int'>.",
    ),
    (
        "kill_ref",
        "in",
        "ray.kill(ref)",
        "ValueError",
        "ray.kill() only supported for actors. For tasks, try ray.cancel(). Got: <class 'ray.ObjectRef'>.",
    ),
    ("kill_no_restart_str", "in", "ray.kill(a, no_restart='yes')", None, None),
    (
        "get_actor_empty",
        "in",
        "ray.get_actor('')",
        "ValueError",
        "Please supply a non-empty value to get_actor",
    ),
    (
        "get_actor_missing",
        "in",
        "ray.get_actor('missing')",
        "ValueError",
        "Failed to look up actor with name 'missing'. This could because 1. You are trying to look up a named actor you didn't create. 2. The named actor died. 3. You did not use a namespace matching the namespace of the actor.",
    ),
    (
        "get_actor_missing_namespace",
        "in",
        "ray.get_actor('missing', namespace='ns')",
        "ValueError",
        "Failed to look up actor with name 'missing'. This could because 1. You are trying to look up a named actor you didn't create. 2. The named actor died. 3. You did not use a namespace matching the namespace of the actor.",
    ),
    (
        "get_actor_namespace_int",
        "in",
        "ray.get_actor('x', namespace=1)",
        "TypeError",
        "namespace must be None or a string.",
    ),
    (
        "get_actor_namespace_empty",
        "in",
        "ray.get_actor('x', namespace='')",
        "ValueError",
        '"" is not a valid namespace. Pass None to not specify a namespace.',
    ),
    (
        "method_decorator_bogus",
        "in",
        "ray.method(bogus=1)",
        "AssertionError",
        "Unexpected keyword argument to @ray.method: 'bogus'. The supported keyword arguments are ['num_returns', 'concurrency_group', 'max_task_retries', 'retry_exceptions', '_generator_backpressure_num_objects', '_num_objects_per_yield', 'enable_task_events', 'tensor_transport']",
    ),
    ("method_num_returns_negative", "in", "ray.method(num_returns=-1)", None, None),
]


def f0() -> int:
    return 1


class C0:
    def m(self) -> int:
        return 1


def _normalise(text: str) -> str:
    text = re.sub(r"<class '(?:sim)?ray(?:\.\w+)*\.(\w+)'>", r"<class '\1'>", text)
    text = re.sub(r"(Violated by resource '[^']*' in )\{.*\}\.$", r"\1{...}.", text)
    return re.sub(
        r"\{'[^':{}]*'(?:, '[^':{}]*')*\}",
        lambda m: "{" + ", ".join(sorted(m.group(0)[1:-1].split(", "))) + "}",
        text,
    )


def _attempt(code: str, namespace: dict[str, Any]) -> tuple[str, str] | None:
    """Run one row's code; the (type name, normalised message) it raised, or None."""
    try:
        exec(code, namespace)
    except Exception as error:
        return type(error).__name__, _normalise(str(error))
    return None


def _fixtures(ray: Any) -> dict[str, Any]:
    f = ray.remote(f0)
    C = ray.remote(C0)
    a = C.remote()
    ray.get(a.m.remote())
    return {"ray": ray, "f": f, "C": C, "a": a, "ref": ray.put(1), "ref2": f.remote()}


def _run_all(ray: Any) -> dict[str, tuple[str, str] | None]:
    """Every row on `ray` (simray or Ray): "pre" rows first without a session, then one
    session for the "in" rows."""
    got = {}
    for row_id, phase, code, _, _ in ROWS:
        if phase == "pre":
            got[row_id] = _attempt(code, {"ray": ray})
            if ray.is_initialized():
                ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False)  # the rows need no dashboard (simray: a no-op)
    try:
        namespace = {**_fixtures(ray), "f0": f0, "C0": C0}
        for row_id, phase, code, _, _ in ROWS:
            if phase == "in":
                got[row_id] = _attempt(code, dict(namespace))
    finally:
        ray.shutdown()
    return got


def _expected(row: tuple[str, str, str, str | None, str | None]) -> tuple[str, str] | None:
    _, _, _, kind, message = row
    return None if kind is None else (kind, _normalise(message or ""))


@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_sim_matches_ray(row):
    import simray

    row_id, phase, code, _, _ = row
    namespace: dict[str, Any] = {"ray": simray, "f0": f0, "C0": C0}
    if phase == "in":
        simray.init(num_cpus=2)
        namespace.update(_fixtures(simray))
    assert _attempt(code, namespace) == _expected(row)


def test_table_covers_every_function():
    covered = {row[0].split("_")[0] for row in ROWS}
    assert {"init", "remote", "options", "get", "wait", "put", "cancel", "kill"} <= covered
    assert any(row[2].startswith("ray.get_actor(") for row in ROWS)
    assert len({row[0] for row in ROWS}) == len(ROWS)


@pytest.mark.real_ray
@pytest.mark.xdist_group("real_ray")
def test_table_matches_real_ray(ray_tmpdir, monkeypatch):
    import ray

    monkeypatch.setenv("RAY_TMPDIR", ray_tmpdir)
    got = _run_all(ray)
    drift = {row[0]: got[row[0]] for row in ROWS if got[row[0]] != _expected(row)}
    assert drift == {}


if __name__ == "__main__":  # re-capture: print each row's outcome on real Ray
    import ray as real_ray

    for row_id, outcome in _run_all(real_ray).items():
        print(row_id, repr(outcome), file=sys.stdout)
