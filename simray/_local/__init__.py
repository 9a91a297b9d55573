"""The `local` backend: Ray's API on real worker processes of this machine.

The driver (`backend.LocalBackend`) holds the scheduler, the object table and the resource
accounting; workers (`worker`) are processes forked by a preloaded fork server (`forkserver`)
that talk to the driver over one authenticated Unix socket each (`channel`); values at least
`serialization.SHM_THRESHOLD` bytes large move through POSIX shared memory (`shm`).
"""
