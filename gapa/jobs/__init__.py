"""The GPU companion: neural-network pruning and training jobs scheduled on the lab cloud's
GPU hosts, around the lab VMs, energy-aware.

* :mod:`gapa.jobs.profile` — seconds per epoch and watts per GPU model and power cap;
* :mod:`gapa.jobs.templates` — job templates from the pruning literature, expanded into stages;
* :mod:`gapa.jobs.jobfile` — the job CSV;
* :mod:`gapa.jobs.hostload` — one GPU host's items with exact, vectorised capacity and energy;
* :mod:`gapa.jobs.policies` — ``asap``, ``energy-aware`` and two ablations;
* :mod:`gapa.jobs.run` — schedule, simulate with the labs in SimPy, split lab and GPU shares;
* :mod:`gapa.jobs.outputs` — ``--out DIR``.
"""

from gapa.jobs.jobfile import Job, load_jobs, make_job
from gapa.jobs.policies import DEFAULT_POLICIES, POLICIES, make_policy
from gapa.jobs.profile import GpuProfile, load_profile
from gapa.jobs.run import JobsRun, run_jobs

__all__ = ["DEFAULT_POLICIES", "POLICIES", "GpuProfile", "Job", "JobsRun", "load_jobs", "load_profile", "make_job",
           "make_policy", "run_jobs"]
