"""`ray.util.multiprocessing`: Ray's drop-in for `multiprocessing.Pool`, over actors."""

from multiprocessing import JoinableQueue as JoinableQueue
from multiprocessing import TimeoutError as TimeoutError

from simray.util.multiprocessing.pool import Pool as Pool

__all__ = ["JoinableQueue", "Pool", "TimeoutError"]
