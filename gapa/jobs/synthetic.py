"""Random batches of GPU pruning jobs, for tests, benchmarks and what-if studies."""

from __future__ import annotations

import numpy as np

from gapa.jobs.jobfile import Job, make_job


def random_gpu_jobs(rng: np.random.Generator, n_jobs: int | None = None,
                    slack_h: tuple[float, float] = (20, 48)) -> list[Job]:
    """A random batch of pruning jobs released during a lab day (08:00-18:00), each with a
    deadline ``slack_h`` hours (uniform in that range) after its release: random templates,
    networks, datasets and sizes."""
    n = int(rng.integers(6, 15)) if n_jobs is None else n_jobs
    jobs = []
    for k in range(n):
        template = str(rng.choice(["ginp", "partition", "gating"]))
        network = str(rng.choice(["resnet56", "resnet110", "vgg16"]))
        dataset = str(rng.choice(["cifar10", "cifar100"]))
        params: dict[str, object] = {"network": network, "dataset": dataset}
        if template == "ginp":
            gpus = int(rng.choice([1, 1, 2]))
            params.update(pretrain=int(rng.choice([0, 100, 200, 300])), iterations=int(rng.integers(2, 7)),
                          retrain=int(rng.integers(20, 61)))
        elif template == "partition":
            gpus = int(rng.choice([2, 4]))
            params.update(epochs=int(rng.integers(60, 200)), keep=round(float(rng.uniform(0.3, 0.8)), 2))
        else:
            gpus = 1
            params.update(epochs=int(rng.integers(100, 250)))
        release = int(rng.integers(8 * 3600, 18 * 3600))
        deadline = release + int(rng.uniform(*slack_h) * 3600)
        jobs.append(make_job(f"job{k}", template, release, deadline, gpus, params))
    return jobs
