"""Recombine host groups from many allocations by solving a set-covering problem.

Every used host of an allocation is a *column*: a hardware group and the VMs it holds,
with its exact energy (J) on a host of that group.  VMs of one kind (same times and
demand, :attr:`gapa.problem.Problem.vm_kind`) cost the same anywhere, so a column is
kept as the multiset of its VMs' kinds: lab classes book many alike VMs, and this
turns hundreds of VM rows into a few dozen kind rows.  A column is feasible on its
own, so any choice of columns that holds every VM and uses no more hosts of a group
than the fleet has is a feasible allocation.

:class:`ColumnPool` gathers the columns of every individual a genetic algorithm creates
(and the host groups its local search prices); :meth:`ColumnPool.best` picks the
cheapest choice with the HiGHS MILP solver: each kind covered by at least as many
VMs as it has (surplus places are left empty), each column used on several hosts if
that pays.  The allocation is then priced exactly like any other individual before it
competes.

This is the "set-covering recombination" of matheuristics for bin packing and vehicle
routing: one optimal crossover of all the parents the run has seen at once.
"""

from __future__ import annotations

import math
from collections import Counter

import highspy
import numpy as np

from gapa.allocators.packing import Packing
from gapa.evaluator import host_set_costs
from gapa.highs import CheckLimit, has_solution, new_highs
from gapa.lower_bound import lower_bound
from gapa.problem import REJECTED, Problem

#: joules in a kilowatt-hour (the solver sees costs in kWh, see :func:`cost_unit_j`)
J_PER_KWH = 3.6e6


def cost_unit_j(problem: Problem) -> float:
    """Joules per unit of cost in gapa's HiGHS models (the covering and pricing MILPs).

    A kilowatt-hour, which keeps the models of real fleets well scaled.  On a problem
    whose least possible energy is far below that (power curves in microwatts, say),
    HiGHS's tolerances (about 1e-7 units) would swamp the energies, and a MILP could call
    a solution optimal that is not.  There the unit is the problem's lower bound on
    energy (:func:`gapa.lower_bound.lower_bound`), but at least a millionth of its
    energy scale (the VMs' total duration times the fleet's highest power, plus a boot
    and a shutdown per VM), so that no column costs more than about a million units.
    Cached on the problem.
    """
    unit = problem.__dict__.get("_cost_unit_j")
    if unit is None:
        f, w = problem.fleet, problem.workload
        us = np.linspace(0.0, 1.0, 11)
        peak = max((float(np.max(f.watts(np.full(len(us), int(hosts[0])), us)))
                    for hosts in problem.hosts_of_group if len(hosts)), default=0.0)
        scale = (float(w.duration_s.sum()) * peak
                 + problem.n_vms * (problem.policy.boot_j + problem.policy.shutdown_j))
        reference = max(lower_bound(problem).energy_j, 1e-6 * scale)
        unit = J_PER_KWH if reference >= J_PER_KWH or not 0 < reference < math.inf else float(reference)
        problem.__dict__["_cost_unit_j"] = unit
    return unit


class ColumnPool:
    """Distinct host groups (hardware group, VM kinds) seen in a run, with their energies (J)."""

    #: most columns kept; later ones are ignored (bounds memory and the LP)
    MAX_COLUMNS = 200_000
    #: most columns the MILP sees (those of least reduced cost, plus the incumbent's)
    MAX_MIP_COLUMNS = 1500
    #: most (rows × columns) of the LP: beyond it, the columns of the current population
    #: are kept and the rest filled with the least energy per VM-second
    MAX_LP_CELLS = 2_000_000
    #: rounds of heuristic column generation before each MILP, and seeds per round
    PRICING_ROUNDS = 5
    PRICING_SEEDS = 20
    #: most limit checks of one MILP (:class:`gapa.highs.CheckLimit`): a work limit that
    #: does not depend on the machine's speed.  On a1's 50-job instances GAPA's MILPs
    #: made at most 384 checks (1.00 s) on our machine, with restarts (437 MILPs)
    MAX_MILP_CHECKS = 600
    #: seconds after which a MILP stops whatever it has done: a safety net against a
    #: MILP whose checks are far apart, far above what :data:`MAX_MILP_CHECKS` allows
    #: on our machine, so that it does not decide results (see :meth:`best`)
    SAFETY_TIME_S = 10.0
    #: most kind rows worth a MILP; above this, :meth:`best` declines (returns None).  On
    #: oneday (638 kinds) a MILP took 0.5–10 s, even its root node, and the run tripled.
    MAX_ROWS = 200

    def __init__(self, problem: Problem):
        self.problem = problem
        self._index: dict[tuple[int, tuple[int, ...]], int] = {}
        self._group: list[int] = []
        self._kinds: list[tuple[int, ...]] = []  # sorted kinds, with repeats
        self._energy: list[float] = []
        self._seen_stamps: set[int] = set()
        self.timed_out = 0  # MILPs stopped by the safety time limit
        self.work_limited = 0  # MILPs stopped by MAX_MILP_CHECKS

    @classmethod
    def suits(cls, problem: Problem) -> bool:
        """Whether the problem has few enough kinds of VM for the MILP (see :data:`MAX_ROWS`),
        counting each kind once per host group (columns are per group): on oneday's
        evening block (81 kinds, 4 groups) the MILPs took 2-5 s each and a 100-generation
        run 40 s instead of 9 s, for 0.3 % less energy on that block."""
        kinds = int(problem.vm_kind.max()) + 1 if problem.n_vms else 0
        return problem.n_vms > 0 and kinds * len(problem.fleet.groups) <= cls.MAX_ROWS

    def __len__(self) -> int:
        return len(self._kinds)

    def add(self, packing: Packing) -> None:
        """Add the used hosts of ``packing`` not seen before (a host's stamp names its set)."""
        fresh = [h for h in packing.used_hosts() if int(packing._stamp[h]) not in self._seen_stamps]
        if not fresh:
            return
        self._seen_stamps.update(int(packing._stamp[h]) for h in fresh)
        energies = packing.host_energies(fresh)
        for h, e in zip(fresh, energies.tolist()):
            self._add(h, packing.members[h], e)

    def offer(self, hosts: np.ndarray, vm_sets: list[np.ndarray], energy_j: np.ndarray,
              feasible: np.ndarray) -> None:
        """Add host groups priced elsewhere: VMs ``vm_sets[i]`` on host ``hosts[i]`` cost
        ``energy_j[i]`` joules; groups not ``feasible`` or empty are ignored."""
        for h, vms, e, ok in zip(hosts.tolist(), vm_sets, energy_j.tolist(), feasible.tolist()):
            if ok and len(vms):
                self._add(h, vms, e)

    def columns(self) -> list[tuple[int, tuple[int, ...], float]]:
        """Every pooled column as (hardware group, sorted VM kinds, joules), in pooling order."""
        return list(zip(self._group, self._kinds, self._energy))

    def absorb(self, columns: list[tuple[int, tuple[int, ...], float]]) -> None:
        """Add columns of another pool (from :meth:`columns`) not pooled here yet, in their order."""
        for group, kinds, energy_j in columns:
            self._add_key((int(group), tuple(kinds)), float(energy_j))

    def _key(self, host: int, vms) -> tuple[int, tuple[int, ...]]:
        kinds = self.problem.vm_kind[np.asarray(vms, dtype=np.intp)]
        return int(self.problem.fleet.group_of_host[host]), tuple(sorted(kinds.tolist()))

    def _add(self, host: int, vms, energy_j: float) -> None:
        self._add_key(self._key(host, vms), energy_j)

    def _add_key(self, key: tuple[int, tuple[int, ...]], energy_j: float) -> None:
        """Pool the column ``key`` (group, sorted kinds) at ``energy_j`` joules, unless pooled or full."""
        if key not in self._index and len(self._kinds) < self.MAX_COLUMNS:
            self._index[key] = len(self._kinds)
            self._group.append(key[0])
            self._kinds.append(key[1])
            self._energy.append(energy_j)

    def best(self, incumbent: Packing, population: list[Packing] = (), max_nodes: int = 40,
             time_left_s: float | None = None) -> np.ndarray | None:
        """The cheapest allocation made of pooled columns that places the VMs ``incumbent``
        places (whose own columns are always in the pool, so there is one), or None if the
        problem has more than :data:`MAX_ROWS` kinds of VM.

        First the LP relaxation gives a lower bound and every column's reduced cost; a
        column whose reduced cost exceeds the incumbent's energy minus that bound is in no
        better solution, so the MILP sees only the others (at most :data:`MAX_MIP_COLUMNS`,
        least reduced cost first).  The MILP starts from the incumbent and stops after
        ``max_nodes`` branch-and-bound nodes or :data:`MAX_MILP_CHECKS` limit checks,
        limits that do not depend on the machine's speed, so runs stay reproducible
        (:attr:`work_limited` counts the MILPs the checks stopped).  A safety limit of
        :data:`SAFETY_TIME_S` seconds stops a MILP that runs far longer than that allows;
        then the result may depend on the machine's speed, and :attr:`timed_out` counts it.
        ``time_left_s`` (the caller's own time budget, if it has one) shortens that limit.
        HiGHS's sub-MIP heuristics (RINS, RENS, root reduced cost) and strong branching
        are off: on these small covering models they cost more time than they save.
        """
        p = self.problem
        placed = np.flatnonzero(incumbent.allocation != REJECTED)
        demand = Counter(p.vm_kind[placed].tolist())
        if len(demand) > self.MAX_ROWS:
            return None
        if not demand:
            return incumbent.allocation.copy()
        self.add(incumbent)
        row_of_kind = {k: i for i, k in enumerate(sorted(demand))}
        cols = [j for j, kinds in enumerate(self._kinds) if all(k in row_of_kind for k in kinds)]
        start = Counter(self._index[self._key(h, incumbent.members[h])] for h in incumbent.used_hosts())
        most = self.MAX_LP_CELLS // max(1, len(demand) + len(p.fleet.groups))
        if len(cols) > most:
            cols = self._trim(cols, most, set(start), population)
        upper = sum(self._energy[j] * n for j, n in start.items()) / cost_unit_j(p)
        rows = (row_of_kind, np.array([demand[k] for k in sorted(demand)], dtype=float))
        for _ in range(self.PRICING_ROUNDS + 1):
            h = self._solver(cols, rows, integer=False)
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            if _ == self.PRICING_ROUNDS:
                break
            duals = np.asarray(h.getSolution().row_dual)
            new = self._priced_columns(placed, row_of_kind, duals)
            if not new:
                break
            cols = sorted(set(cols) | set(new))
        lower = h.getInfo().objective_function_value
        reduced = np.asarray(h.getSolution().col_dual)
        slack = upper - lower + 1e-9 * max(1.0, abs(upper))
        keep = np.flatnonzero(reduced <= slack)
        if len(keep) > self.MAX_MIP_COLUMNS:
            keep = keep[np.argsort(reduced[keep], kind="stable")[:self.MAX_MIP_COLUMNS]]
        cols = sorted({cols[k] for k in keep.tolist()} | set(start))
        h = self._solver(cols, rows, integer=True)
        h.setOptionValue("mip_max_nodes", int(max_nodes))
        h.setOptionValue("time_limit", self.SAFETY_TIME_S if time_left_s is None
                         else max(0.1, min(self.SAFETY_TIME_S, float(time_left_s))))
        for option in ("mip_heuristic_run_rins", "mip_heuristic_run_rens",
                       "mip_heuristic_run_root_reduced_cost"):
            h.setOptionValue(option, False)
        h.setOptionValue("mip_pscost_minreliable", 0)
        checks = CheckLimit(h, self.MAX_MILP_CHECKS)
        solution = highspy.HighsSolution()
        solution.col_value = [float(start.get(j, 0)) for j in cols]
        h.setSolution(solution)
        checks.run()
        timed_out = h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
        self.timed_out += timed_out
        self.work_limited += checks.hit and not timed_out
        values = np.asarray(h.getSolution().col_value)
        if not has_solution(h) or len(values) != len(cols) or not np.isfinite(values).all():
            return None
        picked = {cols[k]: round(v) for k, v in enumerate(values.tolist()) if v > 0.5}
        return self._allocation(picked, placed)

    def _priced_columns(self, placed: np.ndarray, row_of_kind: dict[int, int], duals: np.ndarray) -> list[int]:
        """New columns that the LP's duals say could pay (heuristic column generation).

        For each hardware group, from each of the :data:`PRICING_SEEDS` VMs of highest dual
        value, grow one host's set greedily: add the VM whose dual value exceeds its
        marginal cost (idle power over the stretch it switches on, plus its share of the
        chord slope of the power curve over its run) by most, while any does and fits.
        That cost is exact for linear curves with hosts off at no cost when empty;
        otherwise it is an estimate.  Each set found is priced exactly and pooled; returns
        the indices of those not pooled before.
        """
        p = self.problem
        w, f = p.workload, p.fleet
        n_kinds = len(row_of_kind)
        kind_row = np.array([row_of_kind[int(k)] for k in p.vm_kind[placed]])
        unit = cost_unit_j(p)
        value = duals[kind_row] * unit  # joules a VM is worth
        found: list[int] = []
        for g, hosts in enumerate(p.hosts_of_group):
            if not len(hosts):
                continue
            h0 = int(hosts[0])
            vms = placed[p.group_fits[placed, g] & (value > 0)]
            if not len(vms):
                continue
            val = value[np.searchsorted(placed, vms)]
            cuts = np.unique(np.concatenate([w.start_s[vms], w.end_s[vms]]))
            seg_t, seg_len = cuts[:-1], np.diff(cuts).astype(float)
            act = (w.start_s[vms][:, None] <= seg_t[None, :]) & (w.end_s[vms][:, None] > seg_t[None, :])
            cores = w.cores[vms][:, None] * act
            ram = w.ram_mb[vms][:, None] * act
            idle = float(f.idle_w[h0])
            slope = float(f.watts(np.array([h0]), np.array([1.0]))[0]) - idle
            dyn = slope * p.utilisation_share(vms, np.full(len(vms), h0)) * w.duration_s[vms]
            group_dual = float(duals[n_kinds + g]) * unit
            sets = []
            for seed in np.argsort(-val, kind="stable")[: self.PRICING_SEEDS].tolist():
                taken = np.zeros(len(vms), dtype=bool)
                used_c, used_r = np.zeros(len(seg_len)), np.zeros(len(seg_len))
                on = np.zeros(len(seg_len), dtype=bool)
                pick, gain_sum = seed, 0.0
                while pick >= 0:
                    taken[pick] = True
                    gain_sum += val[pick] - dyn[pick] - idle * float(seg_len[act[pick] & ~on].sum())
                    used_c += cores[pick]
                    used_r += ram[pick]
                    on |= act[pick]
                    fits = (~taken & ((used_c + cores) <= f.cores[h0]).all(axis=1)
                            & ((used_r + ram) <= f.ram_mb[h0]).all(axis=1))
                    gain = val - dyn - idle * ((act & ~on) @ seg_len)
                    gain[~fits] = -np.inf
                    pick = int(np.argmax(gain)) if gain.max() > 0 else -1
                if gain_sum + group_dual > 1e-9 * max(1.0, gain_sum):
                    sets.append(np.sort(vms[taken]))
            if sets:
                energy, _, ok = host_set_costs(p, np.full(len(sets), h0), sets)
                before = len(self._kinds)
                for vm_set, e, good in zip(sets, energy.tolist(), ok.tolist()):
                    if good:
                        self._add(h0, vm_set, e)
                found.extend(range(before, len(self._kinds)))
        return found

    def _trim(self, cols: list[int], most: int, must: set[int], population: list[Packing]) -> list[int]:
        """At most ``most`` of ``cols``: ``must``, then the columns of ``population``, then
        those of least energy per VM-second."""
        keep = set(must)
        for packing in population:
            keep.update(self._index.get(self._key(h, packing.members[h]), -1) for h in packing.used_hosts())
        keep.discard(-1)
        keep &= set(cols) | must
        rest = [j for j in cols if j not in keep]
        if len(keep) < most and rest:
            w = self.problem.workload
            seconds = np.zeros(int(self.problem.vm_kind.max()) + 1)
            seconds[self.problem.vm_kind] = w.duration_s  # one VM of each kind
            density = np.array([self._energy[j] / max(float(seconds[list(self._kinds[j])].sum()), 1.0)
                                for j in rest])
            order = np.argsort(density, kind="stable")[: most - len(keep)]
            keep.update(rest[k] for k in order.tolist())
        return sorted(keep)

    def _solver(self, cols: list[int], rows: tuple[dict[int, int], np.ndarray], integer: bool) -> highspy.Highs:
        """HiGHS holding the covering model over ``cols``: one row per VM kind (covered at
        least as often as it has placed VMs) and one per hardware group (at most as many
        hosts as the fleet has); costs in units of :func:`cost_unit_j` (kWh on real
        fleets), which keeps the model well scaled."""
        p = self.problem
        row_of_kind, demand = rows
        n_kinds, n_groups = len(demand), len(p.fleet.groups)
        hosts_in_group = np.array([len(h) for h in p.hosts_of_group], dtype=float)
        starts, index, value = [0], [], []
        for j in cols:
            for kind, count in Counter(self._kinds[j]).items():
                index.append(row_of_kind[kind])
                value.append(float(count))
            index.append(n_kinds + self._group[j])
            value.append(1.0)
            starts.append(len(index))
        lp = highspy.HighsLp()
        lp.num_col_ = len(cols)
        lp.num_row_ = n_kinds + n_groups
        lp.col_cost_ = np.asarray([self._energy[j] for j in cols]) / cost_unit_j(p)
        lp.col_lower_ = np.zeros(len(cols))
        lp.col_upper_ = hosts_in_group[[self._group[j] for j in cols]]
        lp.row_lower_ = np.concatenate([demand, np.zeros(n_groups)])
        lp.row_upper_ = np.concatenate([np.full(n_kinds, highspy.kHighsInf), hosts_in_group])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.asarray(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.asarray(value)
        if integer:
            lp.integrality_ = [highspy.HighsVarType.kInteger] * len(cols)
        h = new_highs()
        h.passModel(lp)
        return h

    def _allocation(self, picked: dict[int, int], placed: np.ndarray) -> np.ndarray | None:
        """Turn chosen columns (column → how many hosts) into an allocation of the VMs
        ``placed``: each host takes VMs of its column's kinds while any are left."""
        p = self.problem
        alloc = np.full(p.n_vms, REJECTED, dtype=np.int64)
        left: dict[int, list[int]] = {}
        for vm in placed.tolist():
            left.setdefault(int(p.vm_kind[vm]), []).append(vm)
        free = [list(hosts) for hosts in p.hosts_of_group]
        for j in sorted(picked, key=lambda j: (self._energy[j], j)):
            for _ in range(picked[j]):
                vms = [left[k].pop() for k in self._kinds[j] if left[k]]
                if vms:
                    if not free[self._group[j]]:
                        return None
                    alloc[vms] = int(free[self._group[j]].pop(0))
        if any(left.values()):
            return None
        return alloc
