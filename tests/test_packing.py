"""The editable packing behind GAPA's operators: cached prices stay exact, and
re-packing a few hosts never costs energy or breaks a capacity limit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gapa.allocators.packing import Packing
from gapa.allocators.repack import repack
from gapa.evaluator import evaluate, host_set_costs
from gapa.problem import REJECTED
from tests.generators import problems, random_feasible_allocation


@settings(max_examples=60, deadline=None)
@given(problems(max_vms=20), st.integers(0, 2**32 - 1))
def test_insert_prices_match_a_fresh_pricing(problem, seed):
    """After any sequence of removals and insertions, the cached energy of each host and
    the allocation agree with the exact evaluator."""
    rng = np.random.default_rng(seed)
    p = Packing(problem)
    p.insert(rng.permutation(problem.n_vms).tolist())
    for _ in range(3):
        placed = np.flatnonzero(p.allocation != REJECTED)
        if len(placed) == 0:
            break
        loose = rng.choice(placed, size=min(len(placed), 4), replace=False).tolist()
        p.take_vms(loose)
        p.insert(loose)
    ev = evaluate(problem, p.allocation)
    assert ev.violations == 0
    used = p.used_hosts()
    if used:
        assert np.allclose(p.host_energies(used), ev.host_energy_j[used], rtol=1e-9, atol=1e-6)
        assert np.allclose(p.host_on_s(used), ev.host_on_s[used], rtol=1e-9, atol=1e-6)
        e, _, ok = host_set_costs(problem, np.asarray(used), [np.asarray(p.members[h]) for h in used])
        assert ok.all() and np.allclose(e, ev.host_energy_j[used], rtol=1e-9, atol=1e-6)
    assert np.isclose(p.total_energy(), ev.energy_j, rtol=1e-9, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(problems(max_vms=20), st.integers(0, 2**32 - 1))
def test_repack_never_costs_energy(problem, seed):
    rng = np.random.default_rng(seed)
    alloc = random_feasible_allocation(problem, rng, reject_p=0.0)
    p = Packing(problem, alloc)
    before = evaluate(problem, p.allocation)
    used = p.used_hosts()
    if len(used) < 2:
        return
    hosts = rng.choice(used, size=min(len(used), int(rng.integers(2, 4))), replace=False).tolist()
    pool = sorted(v for h in hosts for v in p.members[h])
    changed = repack(p, hosts, rng)
    after = evaluate(problem, p.allocation)
    assert after.violations == 0
    assert after.rejected == before.rejected
    assert sorted(v for h in hosts for v in p.members[h]) == pool  # same VMs, same hosts
    assert after.energy_j <= before.energy_j * (1 + 1e-9) + 1e-6
    if not changed:
        assert np.array_equal(p.allocation, alloc)
    assert np.isclose(p.total_energy(), after.energy_j, rtol=1e-9, atol=1e-6)
    used = p.used_hosts()
    assert np.allclose(p.host_on_s(used), after.host_on_s[used], rtol=1e-9, atol=1e-6)


def test_splits_enumerate_all_or_one_and_two_vm_moves():
    from gapa.allocators.repack import MAX_SPLITS, _splits

    rng = np.random.default_rng(0)
    full = _splits(5, 2, np.zeros(5, dtype=np.int8), rng)
    assert len({tuple(r) for r in full}) == 2 ** 5
    for k, expected in ((20, 1 + 40 + 190 * 4), (50, MAX_SPLITS)):  # all moves, then a sample
        current = rng.integers(0, 3, k).astype(np.int8)
        rows = _splits(k, 3, current, rng)
        assert len(rows) == expected and (rows[0] == current).all()
        moved = (rows != current).sum(axis=1)
        assert set(moved[1:].tolist()) <= {1, 2} and (moved[1:1 + 2 * k] == 1).all()
        assert len({tuple(r) for r in rows}) == len(rows)  # no split twice
        assert rows.min() >= 0 and rows.max() <= 2
