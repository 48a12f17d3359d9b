"""Re-packing a few hosts at once: the best split of their pooled VMs, by enumeration.

A local-search move for grouping problems: pool the VMs of ``m`` hosts (two or
three) and try every way of sharing them out among those hosts again, or, when
there are too many ways, every way that moves one or two VMs.  All candidate
splits are priced together in numpy: the pool's start and end times cut the day
into segments, and for each split a matrix product gives every host's cores,
RAM and CPU utilisation in every segment — so capacity is checked exactly and
power is integrated exactly over busy segments.  Gaps between VMs are costed
one segment at a time (idle through, or shut down and boot again), which can
overestimate a long gap made of several segments; so the best few splits are
then priced exactly with :func:`gapa.evaluator.host_set_costs`, and a split is
taken only when its exact energy is lower.  Among splits of equal energy the
one that loads the hosts most unevenly wins, which leaves a lightly used host
that a later move may empty.
"""

from __future__ import annotations

import itertools

import numpy as np

from gapa.allocators.packing import Packing
from gapa.evaluator import host_set_costs

#: most candidate splits priced in one move
MAX_SPLITS = 4096
#: splits re-priced exactly after the fast ranking
EXACT_CHECKS = 12


def _splits(k: int, m: int, current: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Candidate assignments of ``k`` pooled VMs to ``m`` host slots, (N, k) int8.

    Every assignment when there are at most :data:`MAX_SPLITS`; else the current one
    with one or two VMs moved (a random sample of those when still too many).
    """
    if m ** k <= MAX_SPLITS:
        return np.array(list(itertools.product(range(m), repeat=k)), dtype=np.int8).reshape(-1, k)
    rows = [current]
    for v in range(k):
        for s in range(m):
            if s != current[v]:
                r = current.copy()
                r[v] = s
                rows.append(r)
    pairs = [(v, w, s, t) for v, w in itertools.combinations(range(k), 2)
             for s in range(m) if s != current[v] for t in range(m) if t != current[w]]
    budget = MAX_SPLITS - len(rows)
    if len(pairs) > budget:
        pick = rng.choice(len(pairs), size=budget, replace=False)
        pairs = [pairs[i] for i in np.sort(pick)]
    for v, w, s, t in pairs:
        r = current.copy()
        r[v] = s
        r[w] = t
        rows.append(r)
    return np.stack(rows).astype(np.int8)


def repack(packing: Packing, hosts: list[int], rng: np.random.Generator) -> bool:
    """Share out the VMs of ``hosts`` among them again in the least-energy way found.

    Changes ``packing`` only when the exact energy of ``hosts`` falls; returns whether it did.
    """
    problem = packing.problem
    w = problem.workload
    f = problem.fleet
    policy = problem.policy
    m = len(hosts)
    pool = np.array([v for h in hosts for v in packing.members[h]], dtype=np.intp)
    k = len(pool)
    if k == 0 or m < 2:
        return False
    key = packing.stamps(hosts)
    if key in packing.cache.settled:
        return False
    current = np.array([j for j, h in enumerate(hosts) for _ in packing.members[h]], dtype=np.int8)
    A = _splits(k, m, current, rng)

    start, end = w.start_s[pool], w.end_s[pool]
    cuts = np.unique(np.concatenate([start, end]))
    seg_t, seg_len = cuts[:-1], np.diff(cuts).astype(float)
    active = (start[:, None] <= seg_t[None, :]) & (end[:, None] > seg_t[None, :])  # (k, S)
    act = active.astype(float)
    volume = (w.cores[pool] * w.duration_s[pool]).astype(float)

    n = len(A)
    ok = np.ones(n, dtype=bool)
    cost = np.zeros(n)
    spread = np.zeros(n)
    hosts_arr = np.asarray(hosts)
    for j, h in enumerate(hosts):
        X = (A == j).astype(float)  # (N, k)
        ok &= ~(X[:, ~problem.host_fits[pool, h]] > 0).any(axis=1)
        ok &= ((X @ (w.cores[pool][:, None] * act)) <= f.cores[h]).all(axis=1)
        ok &= ((X @ (w.ram_mb[pool][:, None] * act)) <= f.ram_mb[h]).all(axis=1)
        share = problem.utilisation_share(pool, np.full(k, h))
        u = np.minimum(X @ (share[:, None] * act), 1.0)
        busy = (X @ act) > 0
        used = X.any(axis=1)
        watts = f.watts(np.full(u.shape, h), u)
        cost += (watts * busy) @ seg_len
        # gaps: empty segments between the host's first and last busy segment
        first = np.where(used, busy.argmax(axis=1), 0)
        last = np.where(used, busy.shape[1] - 1 - busy[:, ::-1].argmax(axis=1), -1)
        idx = np.arange(busy.shape[1])
        inside = (idx[None, :] > first[:, None]) & (idx[None, :] < last[:, None]) & ~busy
        idle_seg = np.where(seg_len < problem.idle_threshold_s[h], f.idle_w[h] * seg_len,
                            policy.boot_j + policy.shutdown_j)
        cost += inside.astype(float) @ idle_seg
        cost += used * (policy.boot_j + policy.shutdown_j)
        spread += (X @ volume) ** 2
    feasible = np.flatnonzero(ok)
    if len(feasible) == 0:
        packing.cache.settled.add(key)
        return False
    # fast ranking: energy, then most uneven load
    order = feasible[np.lexsort((-spread[feasible], cost[feasible]))][:EXACT_CHECKS]
    sets = [pool[A[r] == j] for r in order for j in range(m)]
    host_energy, host_on, exact_ok = host_set_costs(problem, np.tile(hosts_arr, len(order)), sets)
    energy = np.where(exact_ok, host_energy, np.inf).reshape(len(order), m).sum(axis=1)
    before = float(packing.host_energies(hosts).sum())
    best = int(np.argmin(energy))
    tol = 1e-9 * max(1.0, before)
    current_spread = sum(float(volume[current == j].sum()) ** 2 for j in range(m))
    better = energy[best] < before - tol
    sideways = energy[best] <= before + tol and spread[order[best]] > current_spread * (1 + 1e-12)
    if not (better or sideways):
        packing.cache.settled.add(key)
        return False
    packing.take_vms(pool.tolist())
    for j, h in enumerate(hosts):
        vms = sets[best * m + j]
        if len(vms):
            packing.put_group(h, vms.tolist(), float(host_energy[best * m + j]), float(host_on[best * m + j]))
    return True


def host_spans(packing: Packing, hosts: list[int]) -> np.ndarray:
    """First start and last end (seconds) of the VMs on each of ``hosts``, shape (len, 2)."""
    w = packing.problem.workload
    return np.array([[w.start_s[packing.members[h]].min(), w.end_s[packing.members[h]].max()]
                     for h in hosts], dtype=float)


def improve(packing: Packing, rng: np.random.Generator, tries: int, triples: float = 0.3) -> int:
    """Re-pack ``tries`` random pairs (sometimes triples) of used hosts whose busy spans
    overlap, starting from poorly filled hosts; return how many moves were taken."""
    taken = 0
    for _ in range(tries):
        used = packing.used_hosts()
        if len(used) < 2:
            break
        fill = packing.host_fill(used)
        weights = (1.0 - fill + 1e-3) ** 2
        first = int(rng.choice(len(used), p=weights / weights.sum()))
        spans = host_spans(packing, used)
        overlap = (spans[:, 0] < spans[first, 1]) & (spans[:, 1] > spans[first, 0])
        overlap[first] = False
        others = np.flatnonzero(overlap)
        if len(others) == 0:
            continue
        m = 2 if len(others) < 2 or rng.random() >= triples else 3
        picked = rng.choice(others, size=m - 1, replace=False)
        hosts = [used[first]] + [used[int(i)] for i in picked]
        taken += repack(packing, hosts, rng)
    return taken
