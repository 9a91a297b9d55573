"""A GPU actor's calls submitted before its constructor ran see CUDA_VISIBLE_DEVICES too."""
import os

import ray

ray.init(num_cpus=2, num_gpus=1, include_dashboard=False)


@ray.remote(num_gpus=1)
class G:
    def cuda(self):
        return os.environ.get("CUDA_VISIBLE_DEVICES")


g = G.remote()
first, second = g.cuda.remote(), g.cuda.remote()
print("early calls", ray.get(first), ray.get(second))
print("later call", ray.get(g.cuda.remote()))
ray.shutdown()
