"""Re-packing a few hosts at once: the best split of their pooled VMs, by enumeration.

A local-search move for grouping problems: pool the VMs of ``m`` hosts (two or
three) and try every way of sharing them out among those hosts again, or, when
there are too many ways, every move of one VM and (a sample of) the moves of two.  All candidate
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

import functools

import numpy as np

from gapa.allocators.packing import Packing
from gapa.evaluator import host_set_costs

#: most candidate splits priced in one move
MAX_SPLITS = 4096
#: most host groups remembered as settled (found nothing better) before forgetting them all
MAX_SETTLED = 1 << 20
#: splits re-priced exactly after the fast ranking
EXACT_CHECKS = 12


@functools.lru_cache(maxsize=64)
def _all_splits(k: int, m: int) -> np.ndarray:
    """Every assignment of ``k`` VMs to ``m`` slots, (m**k, k) int8, read-only."""
    digits = (np.arange(m ** k)[:, None] // (m ** np.arange(k - 1, -1, -1))[None, :]) % m
    table = digits.astype(np.int8)
    table.flags.writeable = False
    return table


def _splits(k: int, m: int, current: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Candidate assignments of ``k`` pooled VMs to ``m`` host slots, (N, k) int8.

    Every assignment when there are at most :data:`MAX_SPLITS`; else the current one
    with one or two VMs moved (a random sample of the two-VM moves when too many).
    """
    if m ** k <= MAX_SPLITS:
        return _all_splits(k, m)
    alt = (current[:, None].astype(np.int64) + np.arange(1, m)[None, :]) % m  # other slots, (k, m−1)
    one_vm = np.repeat(np.arange(k), m - 1)
    one_slot = alt.ravel()
    first, second = np.triu_indices(k, 1)
    combos = (m - 1) ** 2
    n_pairs = len(first) * combos
    budget = MAX_SPLITS - 1 - len(one_vm)
    pick = np.arange(n_pairs) if n_pairs <= budget else np.sort(rng.choice(n_pairs, size=budget, replace=False))
    pair, combo = pick // combos, pick % combos
    v, w = first[pair], second[pair]
    s, t = alt[v, combo // (m - 1)], alt[w, combo % (m - 1)]
    rows = np.tile(current.astype(np.int8), (1 + len(one_vm) + len(pick), 1))
    r1 = np.arange(1, 1 + len(one_vm))
    rows[r1, one_vm] = one_slot
    r2 = np.arange(1 + len(one_vm), len(rows))
    rows[r2, v] = s
    rows[r2, w] = t
    return rows


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
    settled = packing.cache.settled
    if key in settled:
        return False
    if len(settled) > MAX_SETTLED:
        settled.clear()
    current = np.array([j for j, h in enumerate(hosts) for _ in packing.members[h]], dtype=np.int8)
    A = _splits(k, m, current, rng)

    start, end = w.start_s[pool], w.end_s[pool]
    cuts = np.unique(np.concatenate([start, end]))
    seg_t, seg_len = cuts[:-1], np.diff(cuts).astype(float)
    active = (start[:, None] <= seg_t[None, :]) & (end[:, None] > seg_t[None, :])  # (k, S)
    act = active.astype(float)
    volume = (w.cores[pool] * w.duration_s[pool]).astype(float)

    S = len(seg_len)
    hosts_arr = np.asarray(hosts)
    # one matrix product per host gives, for every split, cores, RAM, utilisation and
    # running VMs in every segment, plus the host's core-seconds
    loads = []
    ok = np.ones(len(A), dtype=bool)
    for j, h in enumerate(hosts):
        X = (A == j).astype(float)  # (N, k)
        share = problem.utilisation_share(pool, np.full(k, h))
        W = np.hstack([w.cores[pool][:, None] * act, w.ram_mb[pool][:, None] * act,
                       share[:, None] * act, act, volume[:, None]])
        R = X @ W
        ok &= ~(X[:, ~problem.host_fits[pool, h]] > 0).any(axis=1)
        ok &= (R[:, :S] <= f.cores[h]).all(axis=1) & (R[:, S:2 * S] <= f.ram_mb[h]).all(axis=1)
        loads.append(R)
    feasible = np.flatnonzero(ok)
    cost = np.zeros(len(feasible))
    spread = np.zeros(len(feasible))
    for j, h in enumerate(hosts):
        R = loads[j][feasible]
        u = np.minimum(R[:, 2 * S:3 * S], 1.0)
        busy = R[:, 3 * S:4 * S] > 0
        used = busy.any(axis=1)
        cost += (f.watts(np.full(u.shape, h), u) * busy) @ seg_len
        cost += used * (policy.boot_j + policy.shutdown_j)
        spread += R[:, 4 * S] ** 2
        idle_seg = np.where(seg_len < problem.idle_threshold_s[h], f.idle_w[h] * seg_len,
                            policy.boot_j + policy.shutdown_j)
        if idle_seg.any():  # gaps: empty segments between the host's first and last busy one
            first = np.where(used, busy.argmax(axis=1), 0)
            last = np.where(used, S - 1 - busy[:, ::-1].argmax(axis=1), -1)
            idx = np.arange(S)
            inside = (idx[None, :] > first[:, None]) & (idx[None, :] < last[:, None]) & ~busy
            cost += inside.astype(float) @ idle_seg
    if len(feasible) == 0:
        settled.add(key)
        return False
    # fast ranking: energy, then most uneven load
    rank = np.lexsort((-spread, cost))[:EXACT_CHECKS]
    order = feasible[rank]
    sets = [pool[A[r] == j] for r in order for j in range(m)]
    host_energy, host_on, exact_ok = host_set_costs(problem, np.tile(hosts_arr, len(order)), sets)
    energy = np.where(exact_ok, host_energy, np.inf).reshape(len(order), m).sum(axis=1)
    if packing.cache.columns is not None:
        packing.cache.columns.offer(np.tile(hosts_arr, len(order)), sets, host_energy, exact_ok)
    before = float(packing.host_energies(hosts).sum())
    best = int(np.argmin(energy))
    tol = 1e-9 * max(1.0, before)
    current_spread = sum(float(volume[current == j].sum()) ** 2 for j in range(m))
    better = energy[best] < before - tol
    sideways = energy[best] <= before + tol and spread[rank[best]] > current_spread * (1 + 1e-12)
    if not (better or sideways):
        settled.add(key)
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
