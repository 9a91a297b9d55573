"""`ray.autoscaler.sdk.request_resources`: ask the autoscaler for capacity, in virtual time on sim."""

from __future__ import annotations

from typing import Any

from simray import _session


def request_resources(
    num_cpus: int | None = None,
    bundles: list[dict[str, Any]] | None = None,
    bundle_label_selectors: list[dict[str, str]] | None = None,
) -> None:
    """Scale the cluster so that `num_cpus` one-CPU bundles plus `bundles` fit at once.

    As in Ray, the request is about total capacity (not free capacity), bypasses the upscaling
    speed limit, keeps the nodes it needs from idle termination, and stands until the next call
    replaces it (`request_resources(num_cpus=0)` clears it). On a session without an autoscaler
    (a fixed cluster) it has no effect, as on a Ray cluster started without one.
    """
    if num_cpus is not None and not isinstance(num_cpus, int):
        raise TypeError("num_cpus should be of type int.")
    if bundles is not None:
        if isinstance(bundles, list):
            for bundle in bundles:
                if isinstance(bundle, dict):
                    for key, value in bundle.items():
                        if not isinstance(key, str):
                            raise TypeError("each bundle key should be str.")
                        if isinstance(value, bool) or not isinstance(value, int | float):
                            raise TypeError("each bundle value should be a number (int or float).")
                else:
                    raise TypeError("each bundle should be a Dict.")
        else:
            raise TypeError("bundles should be of type List")
    if bundle_label_selectors is not None:
        if bundles is None:
            raise ValueError(
                "`bundles` must be provided when `bundle_label_selectors` is specified."
            )
        if len(bundle_label_selectors) != len(bundles):
            raise ValueError(
                "`bundle_label_selector` must be a list with length equal to the number of bundles."
            )
    backend = _session.active()
    if backend is None:
        raise RuntimeError("Ray is not initialized yet")
    if backend.name == "ray":
        from ray.autoscaler.sdk import request_resources as ray_request

        ray_request(num_cpus, bundles, bundle_label_selectors)
        return
    to_request = [{"CPU": 1} for _ in range(num_cpus or 0)]
    to_request.extend(dict(b) for b in bundles or [])
    autoscaler = getattr(backend, "autoscaler", None)
    if autoscaler is not None:
        autoscaler.request_resources(to_request)


__all__ = ["request_resources"]
