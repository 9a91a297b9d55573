"""`ray.experimental`: the parts ordinary programs use (`tqdm_ray`)."""
