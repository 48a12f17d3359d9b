"""Job templates from the network-pruning literature: each expands into a chain of GPU stages.

A stage's work is counted in *reference epochs*: epochs of the profile's reference
workload (ShuffleNetV2 on CIFAR-100, see :mod:`gapa.jobs.profile`) on one GPU.  A
network's epoch costs ``compute(network, dataset) / compute(reference)`` reference
epochs, where compute = forward FLOPs per image × training images
(:data:`NETWORKS`, :data:`DATASETS`).  Scaling by FLOPs is our simplification: it
treats every network as running at the reference's FLOPs per second.

Templates (parameters and defaults in :data:`TEMPLATES`; every default is ours
unless a source is named):

* ``ginp`` — iterative pruning with snapshot ensembles and distillation (Le, Vo,
  Thoai, "Paying more attention to snapshots of iterative pruning", BMVC 2020,
  arXiv 2006.11487, code lehduong/ginp): ``pretrain`` (300 epochs), then
  ``iterations`` × (l1-norm filter pruning + ``retrain`` epochs with a restarted
  large learning rate; each pruned network keeps ``keep`` of its predecessor's
  FLOPs), then knowledge distillation of the last network from the ensemble of
  the ``iterations`` snapshots (``distil`` epochs; each pays a training step of the
  student and a forward pass through every teacher, a forward pass being taken as
  1/3 of a training step — backward ≈ 2 × forward).
* ``partition`` — partition pruning (Shahhosseini, Albaqsami, Jasemi, Bagherzadeh,
  "Partition pruning: parallelization-aware pruning for deep neural networks",
  2019): the pruned network is split across ``gpus`` accelerators and trained as one
  gang stage that needs all of them at once on one host.
* ``gating`` — one-pass pruning with a binary gating module: a single training run
  (``epochs``) with a ``gating_overhead`` share of extra compute, no retraining.

With ``gpus`` > 1 a stage runs data-parallel (or partitioned) on that many GPUs
of one host at ``efficiency`` (work per GPU = work / (gpus × efficiency)).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: forward MFLOPs per 32 × 32 image
NETWORKS: dict[str, tuple[float, str]] = {
    "shufflenetv2": (46.0, ("ours: ShuffleNetV2 1x is 146 MFLOPs at 224 px (Ma et al. 2018); its CIFAR "
                           "variant runs its stages at 16/8/4 px instead of 28/14/7, about 0.33 of that")),
    "resnet56": (125.0, "Li et al., Pruning filters for efficient ConvNets, ICLR 2017, Table 2"),
    "resnet110": (253.0, "Li et al. 2017, Table 2"),
    "vgg16": (313.0, "Li et al. 2017, Table 1 (VGG-16 for CIFAR-10)"),
}
#: training images per epoch
DATASETS: dict[str, int] = {"cifar10": 50_000, "cifar100": 50_000}
REFERENCE_NETWORK, REFERENCE_DATASET = "shufflenetv2", "cifar100"
#: cost of a forward pass as a share of a training step (forward + backward ≈ 3 forward)
FORWARD_SHARE = 1.0 / 3.0


@dataclass(frozen=True)
class StageSpec:
    """One stage of a job before it is placed.

    Attributes:
        name: stage name within the job, e.g. ``"retrain2"``.
        gpus: GPUs it needs at once, on one host.
        work: reference epochs per GPU: on a GPU that takes ``s`` seconds per reference
            epoch at the chosen cap, the stage lasts ``work × s`` seconds.
    """

    name: str
    gpus: int
    work: float


def epoch_cost(network: str, dataset: str) -> float:
    """Reference epochs that one epoch of ``network`` on ``dataset`` costs."""
    ref = NETWORKS[REFERENCE_NETWORK][0] * DATASETS[REFERENCE_DATASET]
    return NETWORKS[network][0] * DATASETS[dataset] / ref


def _per_gpu(work: float, gpus: int, efficiency: float) -> float:
    return work / (gpus * efficiency) if gpus > 1 else work


def _ginp(p: Mapping[str, Any], gpus: int) -> list[StageSpec]:
    base = epoch_cost(p["network"], p["dataset"])
    eff = p["efficiency"]
    stages = []
    if p["pretrain"] > 0:
        stages.append(StageSpec("pretrain", gpus, _per_gpu(p["pretrain"] * base, gpus, eff)))
    sizes = [base * p["keep"] ** i for i in range(1, p["iterations"] + 1)]
    for i, size in enumerate(sizes, start=1):
        stages.append(StageSpec(f"retrain{i}", gpus, _per_gpu(p["retrain"] * size, gpus, eff)))
    if p["distil"] > 0 and sizes:
        per_epoch = sizes[-1] + FORWARD_SHARE * sum(sizes)
        stages.append(StageSpec("distil", gpus, _per_gpu(p["distil"] * per_epoch, gpus, eff)))
    return stages


def _partition(p: Mapping[str, Any], gpus: int) -> list[StageSpec]:
    work = p["epochs"] * epoch_cost(p["network"], p["dataset"]) * p["keep"]
    return [StageSpec("train-partitions", gpus, _per_gpu(work, gpus, p["efficiency"]))]


def _gating(p: Mapping[str, Any], gpus: int) -> list[StageSpec]:
    work = p["epochs"] * epoch_cost(p["network"], p["dataset"]) * (1.0 + p["gating_overhead"])
    return [StageSpec("train-gated", gpus, _per_gpu(work, gpus, p["efficiency"]))]


@dataclass(frozen=True)
class Template:
    """A job template: its parameters with defaults, default GPUs, and how it expands."""

    name: str
    defaults: Mapping[str, Any]
    gpus: int
    expand: Callable[[Mapping[str, Any], int], list[StageSpec]]
    summary: str


TEMPLATES: dict[str, Template] = {
    "ginp": Template("ginp", {"network": "resnet56", "dataset": "cifar100", "pretrain": 300, "iterations": 5,
                              "retrain": 40, "keep": 0.8, "distil": 40, "efficiency": 0.9},
                     1, _ginp, "iterative pruning + snapshot ensemble distillation (BMVC 2020)"),
    "partition": Template("partition", {"network": "vgg16", "dataset": "cifar10", "epochs": 160, "keep": 0.5,
                                        "efficiency": 0.85},
                          4, _partition, "partition pruning: one gang stage on several GPUs (2019)"),
    "gating": Template("gating", {"network": "resnet56", "dataset": "cifar100", "epochs": 200,
                                  "gating_overhead": 0.1, "efficiency": 0.9},
                       1, _gating, "one-pass pruning with a binary gating module"),
}

_LIMITS: dict[str, tuple[float, float]] = {
    "pretrain": (0, 10_000), "iterations": (0, 100), "retrain": (0, 10_000), "keep": (0.01, 1.0),
    "distil": (0, 10_000), "efficiency": (0.05, 1.0), "epochs": (1, 100_000), "gating_overhead": (0.0, 10.0),
}


def parse_params(template: Template, text: str) -> dict[str, Any]:
    """``"key=value;key=value"`` → the template's parameters with defaults filled in.

    Raises:
        ValueError: an unknown key, a bad value, or a value out of range (the message says which).
    """
    params = dict(template.defaults)
    seen: set[str] = set()
    for part in (x.strip() for x in text.split(";")):
        if not part:
            continue
        key, sep, value = (s.strip() for s in part.partition("="))
        if not sep:
            raise ValueError(f"parameter {part!r} is not key=value")
        if key in seen:
            raise ValueError(f"parameter {key!r} is given twice")
        seen.add(key)
        if key not in template.defaults:
            raise ValueError(f"template {template.name!r} has no parameter {key!r} "
                             f"(it has {', '.join(template.defaults)})")
        default = template.defaults[key]
        if isinstance(default, str):
            choices = NETWORKS if key == "network" else DATASETS
            if value.lower() not in choices:
                raise ValueError(f"{key} {value!r} is not one of {', '.join(choices)}")
            params[key] = value.lower()
            continue
        try:
            number = int(value) if isinstance(default, int) else float(value)
        except ValueError:
            kind = "a whole number" if isinstance(default, int) else "a number"
            raise ValueError(f"{key} {value!r} is not {kind}") from None
        low, high = _LIMITS[key]
        if not (math.isfinite(number) and low <= number <= high):
            raise ValueError(f"{key} must be in [{low:g}, {high:g}], got {value}")
        params[key] = number
    return params
