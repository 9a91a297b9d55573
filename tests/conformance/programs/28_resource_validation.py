"""Resource option validation: too-fine num_gpus precision and negative num_cpus fail at decoration,
CPU inside resources={} is rejected, and num_gpus above 1 that is not whole fails at .remote()."""
import ray

ray.init(num_cpus=2, num_gpus=2, include_dashboard=False)


def attempt(label, fn, phrase=None):
    try:
        fn()
        print(label, "accepted")
    except Exception as e:
        line = [label, type(e).__name__]
        if phrase is not None:
            line.append("%r in message: %s" % (phrase, phrase in str(e)))
        print(*line)


def decorate(**opts):
    @ray.remote(**opts)
    def f():
        return 1

    return f


attempt("num_gpus=0.00001 decoration", lambda: decorate(num_gpus=0.00001), "precision")
attempt("num_cpus=-1 decoration", lambda: decorate(num_cpus=-1))
attempt("resources CPU", lambda: decorate(resources={"CPU": 1}), "num_cpus")
attempt("resources GPU", lambda: decorate(resources={"GPU": 1}), "num_gpus")
attempt("num_gpus=-1 decoration", lambda: decorate(num_gpus=-1))
attempt("custom negative", lambda: decorate(resources={"custom": -1}))
attempt("num_gpus=1.5 decoration", lambda: decorate(num_gpus=1.5))


@ray.remote
def g():
    return 1


attempt("num_gpus=1.5 remote", lambda: g.options(num_gpus=1.5).remote(), "whole")
attempt("num_cpus=1.5 remote", lambda: ray.get(g.options(num_cpus=1.5).remote(), timeout=30))
attempt("num_gpus=0.5 remote", lambda: ray.get(g.options(num_gpus=0.5).remote(), timeout=30))
attempt("num_gpus=2 remote", lambda: ray.get(g.options(num_gpus=2).remote(), timeout=30))
attempt("num_cpus=0.00001 options", lambda: g.options(num_cpus=0.00001).remote(), "precision")
attempt("num_cpus string", lambda: decorate(num_cpus="1"))
attempt("num_returns negative", lambda: decorate(num_returns=-1))
attempt("max_retries negative", lambda: decorate(max_retries=-2))

ray.shutdown()
