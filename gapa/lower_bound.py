"""Lower bounds on the energy of any allocation of a problem (joules).

Two bounds, both valid for every allocation that places every placeable VM (VMs
that fit no host are rejected by all allocations and ignored); :func:`lower_bound`
reports the higher.

**The simple bound** (:func:`simple_lower_bound`).  At every instant the VMs
running then need hosts: at least enough cores and, separately, enough RAM.  The
cheapest way to have that much capacity switched on is a covering problem over
the fleet's host groups (each host costs its idle power P(0)), solved exactly by
dynamic programming over capacity.  On top of idle power, each VM adds at least
``s × share`` watts on any host, where ``s`` is the least average slope
``(P(u) − P(0)) / u`` of that host's curve.  Boots, MIPS limits and the packing of
VMs into whole hosts are relaxed away.

**The segment bound** (:func:`segment_lower_bound`).  Between two consecutive
events (an *elementary segment*) the set S of running VMs is fixed, and an
allocation has, in group g, some whole number ``n_g ≤ count_g`` of hosts holding
S's VMs, each within its cores and RAM, each VM on a group it fits.  The power of
those hosts is bounded below as follows, for every kind of curve.

1. *A lower curve* (:func:`lower_curve`): a piecewise-linear ``ℓ ≤ P`` on [0, 1]
   with ``ℓ(0) = P(0)``: the points of a table (and SPECpower), the two end points
   of a linear curve, chords of √u (below a concave curve), the upper envelope of
   tangents of u² and u³; for a user's Python curve (or any other model), samples
   ``P(x_k)`` on a grid of 4097 points *shifted one step right*,
   ``ℓ(x_{k+1}) = min_{j ≥ k} P(x_j)``, which is below P **if P is non-decreasing**
   (every real power curve is; that is the one assumption); a user curve whose
   samples decrease gets ``ℓ = 0`` (only ``P ≥ 0`` is assumed then).  Breakpoints
   are lowered where ℓ would rise or fall faster than 1e4 × its peak per unit of
   utilisation (near-vertical steps), which keeps the arithmetic below stable.
2. *Concave + convex*: ``ℓ(u) = ℓ(0) + q(u) + r(u)``, with q concave, q(0) = 0,
   and r convex, non-decreasing, r(0) = 0 (r takes ℓ's upward kinks, q the rest).
3. *One host* of group g holding VMs v (share ``s_v`` of the host's CPU, cores
   ``k_v``, RAM ``m_v``) runs at ``u = Σ s_v``.  Give each VM a fraction
   ``c_v = λ k_v / cores_g + (1 − λ) m_v / ram_g`` of the host (any λ in [0, 1]:
   Σ c_v ≤ 1 on a host within its capacity) and a density ``d_v = s_v / c_v``.
   Jensen's inequality for the concave q (extended past 1 by its last slope) with
   q(0) = 0 gives ``q(u) ≥ Σ c_v q(d_v)``; a tangent of r at t gives
   ``r(u) ≥ a_t + b_t u`` with ``b_t = r'(t) ≥ 0`` and ``a_t = r(t) − t b_t ≤ 0``.
   So the host draws at least ``κ_g + Σ_v β_vg`` watts: ``κ_g = P(0) + a_t`` for
   being on and ``β_vg = c_v q(d_v) + b_t s_v`` for each VM.  (Or, with t = 0,
   ``β_vg = slope_g × s_v``, the simple bound's least average slope.)
4. *The segment*: minimise ``Σ_g n_g κ_g + Σ_v β_{v, g(v)}`` over whole host
   counts and assignments of VMs to groups they fit, within each group's cores and
   RAM.  A Lagrangian relaxation of those capacity constraints, with multipliers
   ``θ κ_g⁺`` per host's worth of cores or of RAM (θ in [0, 1]), splits it into the
   sum over VMs of each VM's cheapest group (``β_vg`` plus its share of the
   multiplier) and a covering problem for the hosts at ``(1 − θ) κ_g`` each (all
   hosts of a group with κ_g < 0 on), keeping only cover constraints every
   allocation meets: for each set T of groups (the VMs' fit sets, and all groups),
   the hosts of T hold the cores, and the RAM, of the VMs that fit only groups in
   T.  Each constraint alone is solved exactly by dynamic programming over capacity
   and the highest taken.  By weak duality every choice of (t, θ, λs) gives a lower
   bound on the segment's least power; each segment takes the best of a grid of
   them (:data:`TANGENT_POINTS` × :data:`THETAS` × the λs: 161 in all).

Hosts that idle through a gap or boot draw ≥ 0 besides, so the sum over segments
of bound × duration is a bound on the energy of busy hosts.  Boots and shutdowns
add what the power policy forces: every host used pays ``boot_j + shutdown_j``
once, and at the start of a busy period that follows a gap of length L with no VM
running at all, every host in use either boots for the first time or ends a gap
at least L long, costing at least ``min(boot_j + shutdown_j, P(0) × L)`` whatever
the policy.  So the ``m_k`` hosts that busy period k needs at its peak (a cover
with unit costs) pay that much at its start.

Cost: the per-VM terms are arrays over VMs and groups, summed over the events in
time order by one cumulative sum per candidate; the covers are lookups in tables
built once per tangent point.  About 0.3 s for 67,000 VMs on 3 groups.

Floating point: per-VM terms are rounded down to a grid (about 1e-12 of the
fleet's peak watts) and summed as integers, so the running sums are exact; each
term's own rounding error is covered by a slack of 1e-11 of its magnitude (so
is each host's cost κ's: it is lowered by 1e-11 of ``|P(0)| + |a|``), and
the bound is reported 1e-9 (relative) below what was computed, which also covers
the evaluator's rounding of utilisation to 2**-40.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from gapa.power import IdleShareModel, OffsetModel, PiecewiseLinearModel, PowerModel, ShapeModel
from gapa.problem import Problem

#: tangent points t of the convex part r (one t for every group of a candidate)
TANGENT_POINTS = np.linspace(0.0, 1.0, 11)
#: share θ of a host's cost κ priced per unit of its capacity (the Lagrange multipliers)
THETAS = (0.0, 0.5, 0.9, 1.0)
#: weight of cores (against RAM) in that price
CORE_WEIGHTS = (1.0, 0.0)
#: weight of cores (against RAM) in the fraction of a host a VM takes, for Jensen's inequality
JENSEN_CORE_WEIGHTS = (1.0, 0.0)
#: samples of a user's curve on [0, 1]
SAMPLES = 4096
#: the segment bound is reported this much (relative) below what was computed
SAFETY = 1e-9
#: relative rounding error allowed for in each term of the segment bound
ROUNDING = 1e-11
#: steepest slope of a lower curve, in units of its largest watts per unit utilisation
MAX_SLOPE = 1e4


@dataclass(frozen=True)
class LowerBound:
    """Lower bounds on energy (joules) and total host on-time (seconds).

    Attributes:
        energy_j: the bound on energy, J: the higher of ``simple_energy_j`` and
            ``segment_energy_j``.
        on_s: a bound on the hosts' total on-time, s (from the simple bound's covering).
        idle_j: the simple bound's idle part, J (hosts' P(0) × time).
        dynamic_j: the simple bound's dynamic part, J.
        simple_energy_j: the simple bound, J (``idle_j + dynamic_j``).
        segment_energy_j: the segment bound, J (``busy_j + boot_j``).
        busy_j: the segment bound's part for hosts holding VMs, J.
        boot_j: boots, shutdowns and gaps the power policy forces, J.
    """

    energy_j: float
    on_s: float
    idle_j: float
    dynamic_j: float
    simple_energy_j: float = 0.0
    segment_energy_j: float = 0.0
    busy_j: float = 0.0
    boot_j: float = 0.0


# ---------------------------------------------------------------------------------------
# lower curves


def min_average_slope(model: PowerModel) -> float:
    """The least ``(P(u) − P(0)) / u`` over u in (0, 1], in watts per unit utilisation
    (so ``P(u) ≥ P(0) + slope · u`` for every u; negative for a curve that dips below P(0)).
    Exact for CloudSim shapes and tables; 0 for other models."""
    if isinstance(model, ShapeModel):
        span = model.max_w - model.idle_w
        return span if model.kind in ("linear", "sqrt") else 0.0
    if isinstance(model, PiecewiseLinearModel):
        u, w = model.points_u[1:], model.points_w[1:]
        # negative when the curve dips below P(0): P(u) ≥ P(0) + slope · u still holds
        return float(np.min((w - model.points_w[0]) / u))
    return 0.0


_CURVES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def lower_curve(model: PowerModel) -> tuple[np.ndarray, np.ndarray]:
    """A piecewise-linear curve below ``model`` on [0, 1]: breakpoints ``u`` (from 0 to 1,
    increasing) and watts ``w`` with ``w(u) ≤ P(u)`` for every u in [0, 1] (between
    breakpoints, linearly interpolated), and ``w[0] = P(0)``.

    Exact for tables, SPECpower and the linear shape; within ~1e-5 of the curve for
    the other shapes; for user curves, valid when the curve is non-decreasing (see the
    module docstring), else 0 W.
    """
    try:
        cached = _CURVES.get(model)
    except TypeError:
        cached = None
    if cached is not None:
        return cached
    u, w = _lower_curve(model)
    u = np.asarray(u, dtype=float)
    w = _cap_slopes(u, np.asarray(w, dtype=float))
    try:
        _CURVES[model] = (u, w)
    except TypeError:
        pass
    return u, w


def _cap_slopes(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Lower breakpoints (never raise them) until every slope is within ±MAX_SLOPE × the
    curve's largest watts: near-vertical jumps would otherwise make the concave and
    convex parts huge and cancel in floating point."""
    cap = MAX_SLOPE * max(1.0, float(np.max(np.abs(w))))
    du = np.diff(u)
    if np.all(np.abs(np.diff(w)) <= cap * du):
        return w
    w = w.copy()
    for i in range(len(du)):  # rises at most cap per unit
        w[i + 1] = min(w[i + 1], w[i] + cap * du[i])
    for i in range(len(du) - 1, -1, -1):  # falls at most cap per unit (lowering w[i] only
        # makes the rise on its right flatter)
        w[i] = min(w[i], w[i + 1] + cap * du[i])
    return w


def _lower_curve(model: PowerModel) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(model, ShapeModel):
        idle, peak = model.idle_w, model.max_w
        span = peak - idle
        if model.kind == "linear" or span <= 0:
            return np.array([0.0, 1.0]), np.array([idle, peak])
        if model.kind == "sqrt":  # chords lie below a concave curve; fine steps near 0
            u = np.concatenate([[0.0], np.geomspace(1e-12, 1.0, 2000)])
            u[-1] = 1.0
            return u, idle + span * np.sqrt(u)
        p = {"square": 2, "cubic": 3}[model.kind]  # convex: the upper envelope of tangents
        t = np.linspace(0.0, 1.0, 513)
        slope = p * t ** (p - 1)  # tangents of u**p at t: (1 − p) t**p + slope · u
        icpt = (1 - p) * t ** p
        x = (p - 1) * np.diff(t ** p) / (p * np.diff(t ** (p - 1)))  # where tangents k, k+1 meet
        u = np.concatenate([[0.0], x, [1.0]])
        w = idle + span * np.concatenate([[0.0], icpt[:-1] + slope[:-1] * x, [1.0]])
        return u, w
    if isinstance(model, PiecewiseLinearModel):
        return model.points_u.copy(), model.points_w.copy()
    if isinstance(model, OffsetModel):
        u, w = lower_curve(model.base)
        return u, w + model.offset_w
    if isinstance(model, IdleShareModel):
        u, w = lower_curve(model.base)
        peak, idle = model._peak, model._idle
        span = peak - idle
        if span <= 0:
            return np.array([0.0, 1.0]), np.array([model.share * peak, peak])
        return u, model.share * peak + (1.0 - model.share) * peak * (w - idle) / span
    # any other curve (Python, entry points): samples shifted one step right
    u = np.linspace(0.0, 1.0, SAMPLES + 1)
    try:
        p = np.asarray(model.watts(u), dtype=float).reshape(u.shape)
    except Exception:  # noqa: BLE001 - user code; assume only P ≥ 0
        return np.array([0.0, 1.0]), np.zeros(2)
    if not np.all(np.isfinite(p)):
        return np.array([0.0, 1.0]), np.zeros(2)
    tol = 1e-9 * float(np.max(np.abs(p))) + 1e-12
    if np.any(np.diff(p) < -tol):  # not non-decreasing: nothing above 0 is safe
        return np.array([0.0, 1.0]), np.zeros(2)
    suffix_min = np.minimum.accumulate(p[::-1])[::-1]
    w = np.empty_like(p)
    w[0] = suffix_min[0]
    w[1:] = suffix_min[:-1]
    return u, np.maximum(w, 0.0)


@dataclass(frozen=True)
class _Split:
    """``ℓ(u) = idle + q(u) + r(u)`` on the breakpoints ``u``: q concave, r convex and
    non-decreasing, q(0) = r(0) = 0; ``r_slope[i]`` is r's slope on ``[u[i], u[i+1]]``."""

    u: np.ndarray
    idle: float
    q: np.ndarray
    r: np.ndarray
    r_slope: np.ndarray

    def tangent(self, t: float) -> tuple[float, float]:
        """Intercept a ≤ 0 (W) and slope b ≥ 0 (W per unit utilisation) of r's tangent at t."""
        i = min(int(np.searchsorted(self.u, t, side="right")) - 1, len(self.r_slope) - 1)
        b = float(self.r_slope[max(i, 0)])
        a = float(np.interp(t, self.u, self.r)) - t * b
        return min(a, 0.0), b


    def weighted_q(self, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        """``c · q(s / c)`` (W) for VMs of share ``s`` and weight ``c`` ≥ 0, with q extended
        beyond 1 by its last slope (still concave); ``s · q'(∞)`` where c = 0."""
        s = np.asarray(s, dtype=float)
        c = np.asarray(c, dtype=float)
        last = (self.q[-1] - self.q[-2]) / (self.u[-1] - self.u[-2])
        safe_c = np.where(c > 0, c, 1.0)
        d = s / safe_c
        inside = safe_c * np.interp(np.minimum(d, 1.0), self.u, self.q)
        beyond = safe_c * self.q[-1] + last * (s - safe_c)
        return np.where(c > 0, np.where(d <= 1.0, inside, beyond), last * s)


def split_curve(u: np.ndarray, w: np.ndarray) -> _Split:
    """Split a piecewise-linear curve into idle + concave + convex parts (see :class:`_Split`)."""
    du = np.diff(u)
    slope = np.diff(w) / du
    up = np.maximum(np.diff(slope), 0.0)  # upward kinks go to r
    r_slope = np.concatenate([[0.0], np.cumsum(up)])
    q_slope = slope - r_slope  # non-increasing: its kinks are the downward ones
    q = np.concatenate([[0.0], np.cumsum(q_slope * du)])
    r = np.concatenate([[0.0], np.cumsum(r_slope * du)])
    return _Split(u, float(w[0]), q, r, r_slope)


# ---------------------------------------------------------------------------------------
# the simple bound


def _cover_cost(counts: list[int], sizes: list[int], costs: list[float], need: np.ndarray) -> np.ndarray:
    """Least total cost of hosts (``counts[g]`` hosts of ``sizes[g]`` capacity and ``costs[g]``
    each, costs ≥ 0) whose capacity is at least each value of ``need``; +inf where impossible."""
    need = np.asarray(need, dtype=np.int64)
    top = int(need.max()) if need.size else 0
    best = np.full(top + 1, np.inf)
    best[0] = 0.0
    for count, size, cost in zip(counts, sizes, costs):
        if size <= 0:
            continue
        k = 1
        while count > 0:  # bounded knapsack cover: items of 1, 2, 4, … hosts
            take = min(k, count)
            count -= take
            k *= 2
            step = take * size
            shifted = np.full(top + 1, best[0])
            if step <= top:
                shifted[step:] = best[: top + 1 - step]
            best = np.minimum(best, shifted + take * cost)
    # best[c] = least cost for capacity ≥ c: make it non-increasing from the top
    best = np.minimum.accumulate(best[::-1])[::-1]
    return best[np.minimum(need, top)]


def _ram_unit(problem: Problem) -> int:
    """A unit of RAM (MB) that divides every host's RAM, to keep covering tables small."""
    return max(1, int(np.gcd.reduce([g.ram_mb for g in problem.fleet.groups] + [1024])))


def simple_lower_bound(problem: Problem) -> LowerBound:
    """The simple bound (see the module docstring): energy, idle and dynamic parts in J,
    host on-time in s."""
    w = problem.workload
    f = problem.fleet
    if w.n == 0:
        return LowerBound(0.0, 0.0, 0.0, 0.0)
    # VMs that fit no host are always rejected: they load no host
    keep = problem.group_fits.any(axis=1)[problem.event_vm]
    times = problem.event_time_s[keep]
    sign = problem.event_sign[keep]
    ev = problem.event_vm[keep]
    if not len(ev):
        return LowerBound(0.0, 0.0, 0.0, 0.0)
    cores_now = np.cumsum(sign * w.cores[ev])
    ram_now = np.cumsum(sign * w.ram_mb[ev])
    dt = np.diff(times)
    cores_now, ram_now = cores_now[:-1], ram_now[:-1]
    groups = f.groups
    counts = [g.count for g in groups]
    curves = [lower_curve(g.power) for g in groups]
    idle = [float(c[1][0]) for c in curves]  # P(0), or 0 for a user curve that is not monotone
    # cores: capacity in cores; RAM: in MB, scaled down to keep the table small
    core_sizes = [g.cores for g in groups]
    ram_unit = _ram_unit(problem)
    ram_sizes = [g.ram_mb // ram_unit for g in groups]
    ram_need = -(-ram_now // ram_unit)
    core_cost = _cover_cost(counts, core_sizes, idle, cores_now)
    ram_cost = _cover_cost(counts, ram_sizes, idle, ram_need)
    power_idle = np.maximum(core_cost, ram_cost)
    power_idle = np.where(np.isfinite(power_idle), power_idle, 0.0)  # overload: relax (VMs get rejected)
    idle_j = float((power_idle * dt).sum())
    ones = [1.0] * len(groups)
    hosts_on = np.maximum(_cover_cost(counts, core_sizes, ones, cores_now),
                          _cover_cost(counts, ram_sizes, ones, ram_need))
    on_s = float((np.where(np.isfinite(hosts_on), hosts_on, 0.0) * dt).sum())
    # dynamic: each VM on the group where it adds the least, at the least average slope
    slopes = []
    for g, (u, lw) in zip(groups, curves):
        if isinstance(g.power, (ShapeModel, PiecewiseLinearModel)):
            slopes.append(min_average_slope(g.power))
        else:  # of the lower curve: P(u) ≥ ℓ(u) ≥ ℓ(0) + slope · u
            slopes.append(float(np.min((lw[1:] - lw[0]) / u[1:])))
    per_vm = np.full(w.n, np.inf)
    for gi in range(len(groups)):
        share = _shares(problem, gi)
        cost = np.where(problem.group_fits[:, gi], slopes[gi] * share, np.inf)
        per_vm = np.minimum(per_vm, cost)
    per_vm = np.where(np.isfinite(per_vm), per_vm, 0.0)  # unplaceable VMs are rejected anyway
    dynamic_j = float((per_vm * w.duration_s).sum())
    energy = idle_j + dynamic_j
    return LowerBound(energy, on_s, idle_j, dynamic_j, simple_energy_j=energy)


def _shares(problem: Problem, group: int) -> np.ndarray:
    """Utilisation share (fraction of one host) each VM adds to a host of ``group``."""
    n = problem.n_vms
    host = int(problem.hosts_of_group[group][0])
    return problem.utilisation_share(np.arange(n), np.full(n, host))


# ---------------------------------------------------------------------------------------
# the segment bound


@dataclass(frozen=True)
class SegmentBound:
    """The segment bound's parts: ``energy_j = busy_j + boot_j`` (J), and the bound on the
    power of the hosts holding VMs, ``power_w[i]`` (W), on ``[time_s[i], time_s[i + 1])``."""

    energy_j: float
    busy_j: float
    boot_j: float
    time_s: np.ndarray
    power_w: np.ndarray


class _Segments:
    """The placeable VMs' events in time order, and per elementary segment the demand on
    each set of groups (cores, MB of RAM) that the VMs fitting only those groups make."""

    def __init__(self, problem: Problem):
        w = problem.workload
        G = len(problem.fleet.groups)
        fits = problem.group_fits
        placeable = fits.any(axis=1)
        keep = placeable[problem.event_vm]
        self.ev = problem.event_vm[keep]
        self.sign = problem.event_sign[keep]
        self.time_s = problem.event_time_s[keep]
        self.dt = np.diff(self.time_s).astype(float)
        self.running = np.cumsum(self.sign)[:-1]
        masks = (fits * (1 << np.arange(G))).sum(axis=1)
        #: sets of groups (bit masks): the fit sets of the VMs, and all groups
        self.sets = sorted(set(masks[placeable].tolist()) | {(1 << G) - 1})
        self.demand = {}
        for T in self.sets:
            inside = (masks[self.ev] & ~T) == 0
            cores = np.cumsum(self.sign * w.cores[self.ev] * inside)[:-1]
            ram = np.cumsum(self.sign * w.ram_mb[self.ev] * inside)[:-1]
            self.demand[T] = (cores, ram)

    def running_sum(self, per_vm: np.ndarray) -> np.ndarray:
        """Σ of ``per_vm`` over the VMs running in each segment (float cumulative sum)."""
        return np.cumsum(self.sign * per_vm[self.ev])[:-1]


def _cover(problem: Problem, seg: _Segments, cost_w: np.ndarray,
           ram_unit: int) -> tuple[np.ndarray, float]:
    """Per segment, a lower bound on ``min Σ_g n_g cost_w[g]`` (W) over whole host counts
    ``0 ≤ n_g ≤ count_g`` whose cores and RAM hold the demand of every set of groups
    (each constraint alone, solved exactly; the highest), split in two: what the groups
    of cost ≥ 0 add (an array, 0 where the fleet cannot hold the demand: no allocation
    places every VM then), and the constant cost of the groups of negative cost, all of
    whose hosts are on."""
    groups = problem.fleet.groups
    G = len(groups)
    counts = np.array([g.count for g in groups], dtype=np.int64)
    C = np.array([g.cores for g in groups], dtype=np.int64)
    R = np.array([g.ram_mb for g in groups], dtype=np.int64)
    neg = cost_w < 0
    forced = float((counts * np.where(neg, cost_w, 0.0)).sum())
    out = np.zeros(len(seg.dt))
    for T in seg.sets:
        in_t = np.array([(T >> g) & 1 == 1 for g in range(G)])
        cores, ram = seg.demand[T]
        need_c = np.maximum(cores - int((counts * C)[neg & in_t].sum()), 0)
        need_r = -(-np.maximum(ram - int((counts * R)[neg & in_t].sum()), 0) // ram_unit)
        pos = [g for g in range(G) if in_t[g] and not neg[g]]
        args = ([int(counts[g]) for g in pos], [float(cost_w[g]) for g in pos])
        cc = _cover_cost(args[0], [int(C[g]) for g in pos], args[1], need_c)
        cr = _cover_cost(args[0], [int(R[g]) // ram_unit for g in pos], args[1], need_r)
        out = np.maximum(out, np.maximum(cc, cr))
    return np.where(np.isfinite(out), out, 0.0), forced


def segment_lower_bound(problem: Problem) -> SegmentBound:
    """The segment bound (see the module docstring): energy in J, with its per-segment
    power in W."""
    w = problem.workload
    groups = problem.fleet.groups
    G = len(groups)
    if w.n == 0 or not problem.group_fits.any():
        return SegmentBound(0.0, 0.0, 0.0, np.zeros(1), np.zeros(0))
    seg = _Segments(problem)
    fits = problem.group_fits
    C = np.array([g.cores for g in groups], dtype=float)
    R = np.array([g.ram_mb for g in groups], dtype=float)
    splits = [split_curve(*lower_curve(g.power)) for g in groups]
    idle = np.array([sp.idle for sp in splits])
    ram_unit = _ram_unit(problem)
    share = [_shares(problem, g) for g in range(G)]  # per group: (n,) shares
    cores_v = w.cores.astype(float)
    ram_v = w.ram_mb.astype(float)
    # c·q(s / c) per group and VM (W), for each weighting of the host fraction c; +inf where
    # the VM does not fit the group
    cqs = []
    for jw in JENSEN_CORE_WEIGHTS:
        fraction = [jw * cores_v / C[g] + (1.0 - jw) * ram_v / R[g] for g in range(G)]
        cqs.append([np.where(fits[:, g], splits[g].weighted_q(share[g], fraction[g]), np.inf)
                    for g in range(G)])
    # the simple bound's per-VM term, least average slope × share: valid with the tangent at
    # t = 0 only (a = b = 0), as it stands for q and r together
    slopes = [float(np.min((sp.q[1:] + sp.r[1:]) / sp.u[1:])) for sp in splits]
    linear = [np.where(fits[:, g], slopes[g] * share[g], np.inf) for g in range(G)]
    tangents = [[sp.tangent(float(t)) for sp in splits] for t in TANGENT_POINTS]

    # floating-point care: per-VM terms are rounded down to a grid of `quantum` watts and
    # summed as integers (exact whatever the order of events); what is left (each term's
    # own rounding) is covered by `slack` per segment and tangent.
    top = max(float(np.max(np.abs(lower_curve(g.power)[1]))) for g in groups) or 1.0
    terms = []  # per group: the largest |term| a VM's cost can hold, but for the tangent's
    for g in range(G):
        finite = [np.where(np.isfinite(cq[g]), np.abs(cq[g]), 0.0) for cq in [*cqs, linear]]
        terms.append(np.where(fits[:, g], np.maximum.reduce(finite)
                              + max(idle[g], 0.0) * (cores_v / C[g] + ram_v / R[g]), -np.inf))
    b_max = np.max([[b for _, b in row] for row in tangents], axis=0)
    magnitude = np.maximum.reduce([terms[g] + b_max[g] * share[g] for g in range(G)])
    quantum = max(top * 2.0**-40, float(magnitude[np.isfinite(magnitude)].sum()) * 2.0**-60)

    best = np.zeros(len(seg.dt))
    for row in tangents:
        a = np.array([x[0] for x in row])
        b = np.array([x[1] for x in row])
        kappa = idle + a - ROUNDING * (np.abs(idle) + np.abs(a))  # W per host on
        row_magnitude = np.maximum.reduce([terms[g] + b[g] * share[g] for g in range(G)])
        slack = ROUNDING * seg.running_sum(np.where(np.isfinite(row_magnitude), row_magnitude, 0.0))
        kpos = np.maximum(kappa, 0.0)
        # the cover with costs κ⁺ (hosts of κ < 0 groups all on, at κ): (1 − θ) × its
        # positive part + the negative part
        cover_pos, cover_neg = _cover(problem, seg, kappa, ram_unit)
        cover_slack = ROUNDING * (cover_pos + abs(cover_neg))
        for theta in THETAS:
            cover = (1.0 - theta) * cover_pos + cover_neg
            for cq in cqs + ([linear] if not a.any() and not b.any() else []):
                base = [cq[g] + b[g] * share[g] for g in range(G)]
                for lam in CORE_WEIGHTS if theta > 0 else (1.0,):
                    per_vm = None
                    for g in range(G):
                        beta = base[g]
                        if theta > 0 and kpos[g] > 0:
                            price = theta * kpos[g]  # W per host's worth of cores or RAM
                            beta = beta + price * (lam / C[g] * cores_v + (1.0 - lam) / R[g] * ram_v)
                        per_vm = beta if per_vm is None else np.minimum(per_vm, beta)
                    per_vm = np.where(np.isfinite(per_vm), per_vm, 0.0)
                    ticks = np.floor(per_vm / quantum).astype(np.int64)
                    vm_part = np.cumsum(seg.sign * ticks[seg.ev])[:-1] * quantum
                    np.maximum(best, vm_part + cover - slack - cover_slack, out=best)
    power = np.where(seg.running > 0, np.maximum(best, 0.0), 0.0) * (1.0 - SAFETY)
    busy_j = float((power * seg.dt).sum())
    boot_j = _forced_boots_j(problem, seg, splits, ram_unit)
    return SegmentBound(busy_j + boot_j, busy_j, boot_j, seg.time_s, power)


def _forced_boots_j(problem: Problem, seg: _Segments, splits: list[_Split], ram_unit: int) -> float:
    """Boot, shutdown and gap energy (J) the power policy forces (module docstring)."""
    policy = problem.policy
    switch_j = max(0.0, policy.boot_j) + max(0.0, policy.shutdown_j)
    busy = np.flatnonzero(seg.running > 0)
    if switch_j <= 0 or not len(busy):
        return 0.0
    hosts = _cover(problem, seg, np.ones(len(splits)), ram_unit)[0][busy]  # hosts on at least
    # busy periods: runs of segments with VMs running, split by a gap of positive length
    gap_s = np.zeros(len(busy))
    gap_s[1:] = seg.time_s[busy[1:]] - seg.time_s[busy[:-1] + 1]
    first = np.flatnonzero(gap_s > 0)
    starts = np.concatenate([[0], first])
    peak = np.maximum.reduceat(hosts, starts)
    idle_min = max(0.0, min(sp.idle for sp in splits))
    per_host = np.concatenate([[switch_j], np.minimum(switch_j, idle_min * gap_s[first])])
    return float((peak * per_host).sum())


def lower_bound(problem: Problem) -> LowerBound:
    """Lower bounds on energy (J) and host on-time (s) for ``problem``: the higher of the
    simple and the segment bound (see the module docstring)."""
    simple = simple_lower_bound(problem)
    seg = segment_lower_bound(problem)
    energy = max(simple.energy_j, seg.energy_j)
    return LowerBound(energy, simple.on_s, simple.idle_j, simple.dynamic_j,
                      simple_energy_j=simple.energy_j, segment_energy_j=seg.energy_j,
                      busy_j=seg.busy_j, boot_j=seg.boot_j)
