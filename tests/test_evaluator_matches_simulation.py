"""The fast evaluator equals the SimPy simulation on random problems (property tests)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gapa.errors import InfeasibleAllocation
from gapa.evaluator import evaluate, evaluate_batch
from gapa.simulation import simulate
from tests.generators import problems, random_feasible_allocation

RTOL = 1e-9


@settings(max_examples=300, deadline=None)
@given(problem=problems(), seed=st.integers(0, 2**32 - 1))
def test_fast_evaluator_equals_simulation(problem, seed):
    rng = np.random.default_rng(seed)
    alloc = random_feasible_allocation(problem, rng)
    sim = simulate(problem, alloc)
    fast = evaluate(problem, alloc)
    assert fast.violations == 0
    assert fast.energy_j == pytest.approx(sim.energy_j, rel=RTOL, abs=1e-9)
    assert fast.on_s == pytest.approx(sim.on_s, rel=RTOL, abs=1e-9)
    assert fast.hosts_used == sim.hosts_used
    np.testing.assert_allclose(fast.host_energy_j, sim.host_energy_j, rtol=RTOL, atol=1e-9)
    np.testing.assert_allclose(fast.host_on_s, sim.host_on_s, rtol=RTOL, atol=1e-9)
    np.testing.assert_array_equal(fast.host_vms, sim.host_vms)
    assert fast.rejected == int((alloc < 0).sum())


@settings(max_examples=100, deadline=None)
@given(problem=problems(), seed=st.integers(0, 2**32 - 1))
def test_batch_equals_one_by_one(problem, seed):
    rng = np.random.default_rng(seed)
    batch = np.stack([random_feasible_allocation(problem, rng, reject_p=0.2) for _ in range(5)])
    together = evaluate_batch(problem, batch)
    for i, alloc in enumerate(batch):
        alone = evaluate(problem, alloc)
        assert together.energy_j[i] == pytest.approx(alone.energy_j, rel=1e-12, abs=1e-9)
        assert together.on_s[i] == alone.on_s
        assert together.hosts_used[i] == alone.hosts_used
        assert together.rejected[i] == alone.rejected
        assert together.violations[i] == 0


@settings(max_examples=200, deadline=None)
@given(problem=problems(max_vms=15), seed=st.integers(0, 2**32 - 1))
def test_evaluator_flags_exactly_what_the_simulation_refuses(problem, seed):
    rng = np.random.default_rng(seed)
    alloc = rng.integers(-1, problem.n_hosts, size=problem.n_vms)
    fast = evaluate(problem, alloc)
    if fast.violations:
        with pytest.raises(InfeasibleAllocation):
            simulate(problem, alloc)
    else:
        sim = simulate(problem, alloc)
        assert fast.energy_j == pytest.approx(sim.energy_j, rel=RTOL, abs=1e-9)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(problem=problems(max_vms=40), seed=st.integers(0, 2**32 - 1))
def test_fast_evaluator_equals_simulation_many(problem, seed):
    """The same property on many more and larger cases (``pytest -m slow``)."""
    test_fast_evaluator_equals_simulation.hypothesis.inner_test(problem, seed)
