"""Exact pricing for column generation: the best single host's set of VMs, as a MILP.

Column generation over host groups (see :mod:`gapa.allocators.pool` and
:mod:`gapa.allocators.exact`) needs, given the covering LP's duals, the set of VMs on
one host of a hardware group whose *reduced cost* — its energy minus the duals of
the VMs it holds minus the group's dual — is least.  That set is found here by a
small MILP solved with HiGHS, per group:

* ``x_k`` — how many VMs of kind ``k`` the host holds (integer, at most as many as
  the kind has and as fit the host alone);
* ``y_s`` — whether the host is on during elementary time segment ``s`` (binary);
* capacity: at every segment, the cores and the RAM of the VMs running then are at
  most the host's, and zero unless the host is on (``Σ cores_k x_k ≤ C · y_s``);
  linking: ``x_k ≤ u_k · y_s`` for every segment of kind ``k``'s run;
* cost: ``P(0) · Σ_s len_s · y_s + m · Σ_k share_k · duration_k · x_k`` joules, where
  ``m`` is the least average slope of the host's power curve
  (:func:`gapa.lower_bound.min_average_slope`).

That cost is an *under-estimate* of the host's true energy whatever the power curve
and power policy (the host is on at least while a VM runs, drawing at least
``P(0) + m · u``; idle gaps, boots and shutdowns only add), and it is exact for a
linear curve with hosts switched off at no cost when empty.  So when no group's
MILP finds a negative under-estimated reduced cost, the LP's value is a proven lower
bound on the energy of every allocation of those VMs; and when a MILP stops early,
its dual bound still bounds the reduced cost (see
:meth:`gapa.allocators.exact.ExactSolver`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from gapa.allocators.pool import cost_unit_j  # the MILP sees costs in the covering model's unit
from gapa.highs import CheckLimit, has_solution, new_highs
from gapa.lower_bound import min_average_slope
from gapa.problem import Problem


@dataclass(frozen=True)
class PricedSet:
    """The outcome of one pricing MILP.

    Attributes:
        vms: the VMs of the best set found (one representative VM per unit of each kind).
        reduced_j: its under-estimated reduced cost (joules; negative = worth adding).
        bound_j: a proven lower bound on the least under-estimated reduced cost of any
            set on this group (equal to ``reduced_j`` when the MILP was solved to optimality).
        optimal: whether the MILP was solved to optimality.
        others: other sets of negative reduced cost the MILP met on the way (improving
            solutions), worth pooling too.
        work_limited: whether a check limit (``max_checks``) stopped the MILP.
    """

    vms: np.ndarray
    reduced_j: float
    bound_j: float
    optimal: bool
    others: list[np.ndarray] = field(default_factory=list)
    work_limited: bool = False


def cost_underestimate(problem: Problem, group: int, vms: np.ndarray) -> np.ndarray:
    """Per VM: the joules it costs at least on a host of ``group`` beyond idle power
    (``m · share · duration``, see the module docstring)."""
    host = int(problem.hosts_of_group[group][0])
    slope = min_average_slope(problem.fleet.groups[group].power)
    share = problem.utilisation_share(vms, np.full(len(vms), host))
    return slope * share * problem.workload.duration_s[vms]


def _model(problem: Problem, group: int, kind_vms: list[np.ndarray], value_j: np.ndarray,
           group_dual_j: float):
    """The pricing MILP of ``group`` as a HiGHS model, the kinds it covers (indices into
    ``kind_vms``) and how many of each fit; None when no kind has positive value there."""
    w = problem.workload
    g = problem.fleet.groups[group]
    rep = np.array([int(v[0]) for v in kind_vms], dtype=np.intp)
    count = np.array([len(v) for v in kind_vms], dtype=np.int64)
    usable = problem.group_fits[rep, group] & (value_j > 0) & (count > 0)
    ks = np.flatnonzero(usable)
    if not len(ks):
        return None
    r = rep[ks]
    start, end = w.start_s[r], w.end_s[r]
    cores, ram = w.cores[r].astype(float), w.ram_mb[r].astype(float)
    by_ram = np.where(w.ram_mb[r] > 0, g.ram_mb // np.maximum(w.ram_mb[r], 1), count[ks])
    upper = np.minimum(count[ks], np.minimum(g.cores // w.cores[r], by_ram)).astype(float)
    cuts = np.unique(np.concatenate([start, end]))
    seg_len = np.diff(cuts).astype(float)
    first = np.searchsorted(cuts, start)
    last = np.searchsorted(cuts, end)  # segments first … last−1
    K, S = len(ks), len(seg_len)
    dyn = cost_underestimate(problem, group, r)
    idle = float(g.power.idle_w)
    # columns: x_0 … x_{K−1}, then y_0 … y_{S−1}; costs in cost_unit_j (kWh)
    unit = cost_unit_j(problem)
    cost = np.concatenate([(dyn - value_j[ks]) / unit, idle * seg_len / unit])
    rows_i, rows_j, rows_v, row_up = [], [], [], []
    row = 0
    # capacity rows per segment: Σ cores x − C y ≤ 0 and Σ ram x − R y ≤ 0
    span_k = np.repeat(np.arange(K), last - first)
    span_s = np.concatenate([np.arange(a, b) for a, b in zip(first.tolist(), last.tolist())])
    for weights, cap in ((cores, float(g.cores)), (ram, float(g.ram_mb))):
        rows_i += [row + span_s, row + np.arange(S)]
        rows_j += [span_k, K + np.arange(S)]
        rows_v += [weights[span_k], np.full(S, -cap)]
        row_up.append(np.zeros(S))
        row += S
    # linking rows: x_k − u_k y_s ≤ 0 for every segment s of kind k's run
    n_link = len(span_k)
    link = row + np.arange(n_link)
    rows_i += [link, link]
    rows_j += [span_k, K + span_s]
    rows_v += [np.ones(n_link), -upper[span_k]]
    row_up.append(np.zeros(n_link))
    row += n_link
    ri, rj, rv = np.concatenate(rows_i), np.concatenate(rows_j), np.concatenate(rows_v)
    order = np.lexsort((ri, rj))
    ri, rj, rv = ri[order], rj[order], rv[order]
    lp = highspy.HighsLp()
    lp.num_col_ = K + S
    lp.num_row_ = row
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(K + S)
    lp.col_upper_ = np.concatenate([upper, np.ones(S)])
    lp.row_lower_ = np.full(row, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate(row_up)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(rj, np.arange(K + S + 1)).astype(np.int32)
    lp.a_matrix_.index_ = ri.astype(np.int32)
    lp.a_matrix_.value_ = rv.astype(float)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * (K + S)
    h = new_highs()
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-9)
    h.setOptionValue("mip_improving_solution_save", True)
    h.passModel(lp)
    return h, ks, upper


def _solve(h, ks: np.ndarray, kind_vms: list[np.ndarray], group_dual_j: float,
           time_limit_s: float, max_checks: int | None, unit_j: float) -> PricedSet | None:
    h.setOptionValue("time_limit", max(0.05, float(time_limit_s)))
    checks = CheckLimit(h, max_checks if max_checks is not None else 1 << 62)
    checks.run()
    K = len(ks)
    values = np.asarray(h.getSolution().col_value)
    if not has_solution(h) or len(values) < K or not np.isfinite(values).all():
        return None
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    info = h.getInfo()
    x = np.rint(values[:K]).astype(np.int64)
    picked = [kind_vms[int(k)][: int(c)] for k, c in zip(ks.tolist(), x.tolist()) if c > 0]
    vms = np.sort(np.concatenate(picked)).astype(np.intp) if picked else np.zeros(0, np.intp)
    reduced = float(info.objective_function_value) * unit_j - group_dual_j
    bound = reduced if optimal else float(info.mip_dual_bound) * unit_j - group_dual_j
    # the improving solutions HiGHS met on the way are columns too (negative ones help the LP)
    others = []
    for sol in h.getSavedMipSolutions():
        if sol.objective * unit_j - group_dual_j >= -1e-9:
            continue
        xs = np.rint(np.asarray(sol.col_value)[:K]).astype(np.int64)
        parts = [kind_vms[int(k)][: int(c)] for k, c in zip(ks.tolist(), xs.tolist()) if c > 0]
        if parts:
            others.append(np.sort(np.concatenate(parts)).astype(np.intp))
    return PricedSet(vms, reduced, min(bound, reduced), optimal, others, checks.hit)


def price_group(problem: Problem, group: int, kind_vms: list[np.ndarray], value_j: np.ndarray,
                group_dual_j: float, time_limit_s: float, max_checks: int | None = None) -> PricedSet | None:
    """Solve the pricing MILP of ``group`` (see the module docstring).

    Args:
        kind_vms: per kind (row of the covering model), the VMs of that kind still to cover.
        value_j: per kind, its dual value in joules (≥ 0).
        group_dual_j: the group row's dual in joules (≤ 0).
        time_limit_s: seconds the MILP may take.
        max_checks: if given, a work limit too: HiGHS stops at that many limit checks
            (:class:`gapa.highs.CheckLimit`), the same on any machine.

    Returns None when no kind fits the group or has positive value.
    """
    built = _model(problem, group, kind_vms, value_j, group_dual_j)
    if built is None:
        return None
    h, ks, _ = built
    return _solve(h, ks, kind_vms, group_dual_j, time_limit_s, max_checks, cost_unit_j(problem))


def enumerate_group(problem: Problem, group: int, kind_vms: list[np.ndarray], value_j: np.ndarray,
                    group_dual_j: float, threshold_j: float, deadline: float,
                    max_sets: int = 5000) -> tuple[list[np.ndarray], bool]:
    """Every set of VMs on one host of ``group`` whose under-estimated reduced cost is at
    most ``threshold_j``, best first: solve the pricing MILP, cut that set off with a
    no-good constraint, repeat.  Only when every kind holds one VM (``x`` binary).

    Returns the sets and whether the list is complete (False when time, ``max_sets``
    or a MILP that did not finish stopped it, or ``x`` is not binary).
    """
    built = _model(problem, group, kind_vms, value_j, group_dual_j)
    if built is None:
        return [], True
    h, ks, upper = built
    if np.any(upper > 1):
        return [], False
    found: list[np.ndarray] = []
    pos = {int(kind_vms[int(k)][0]): i for i, k in enumerate(ks.tolist())}
    K = len(ks)
    while len(found) < max_sets:
        left = deadline - time.perf_counter()
        if left <= 0:
            return found, False
        res = _solve(h, ks, kind_vms, group_dual_j, left, None, cost_unit_j(problem))
        if res is None or not res.optimal:
            return found, False
        if res.reduced_j > threshold_j:
            return found, True
        if not len(res.vms):
            return found, True  # the empty set is the best left: nothing else is below it
        found.append(res.vms)
        inside = np.zeros(K)
        inside[[pos[int(v)] for v in res.vms.tolist()]] = 1.0
        coef = np.where(inside > 0, 1.0, -1.0)
        h.addRow(-highspy.kHighsInf, float(inside.sum() - 1), K, np.arange(K, dtype=np.int32), coef)
    return found, False
