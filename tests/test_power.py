"""Tests for the power models' formulas, SPECpower interpolation and vectorisation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gapa.power import (
    CallableModel,
    PiecewiseLinearModel,
    ShapeModel,
    build_power_model,
    specpower_model,
    specpower_servers,
)

IDLE, MAX = 66.0, 247.0
SPAN = MAX - IDLE


@pytest.mark.parametrize(
    "kind,shape",
    [
        ("linear", lambda u: u),
        ("square", lambda u: u**2),
        ("cubic", lambda u: u**3),
        ("sqrt", math.sqrt),
    ],
)
@pytest.mark.parametrize("u", [0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
def test_shape_formulas(kind, shape, u):
    model = build_power_model({"model": kind, "idle_w": IDLE, "max_w": MAX})
    assert model.kind == kind
    assert model.watts(u) == pytest.approx(IDLE + SPAN * shape(u), rel=1e-12)


@pytest.mark.parametrize("kind", ["linear", "square", "cubic", "sqrt"])
def test_on_host_at_zero_utilisation_draws_idle(kind):
    model = ShapeModel(kind, IDLE, MAX)
    assert model.watts(0.0) == IDLE
    assert model.watts(0) == IDLE
    assert model.idle_w == IDLE
    assert model.max_w == MAX
    assert model.watts(1.0) == MAX


def test_known_values():
    assert ShapeModel("linear", 100, 200).watts(0.3) == pytest.approx(130.0)
    assert ShapeModel("square", 100, 200).watts(0.5) == pytest.approx(125.0)
    assert ShapeModel("cubic", 100, 200).watts(0.5) == pytest.approx(112.5)
    assert ShapeModel("sqrt", 100, 200).watts(0.25) == pytest.approx(150.0)


def test_constant_model_when_idle_equals_max():
    model = ShapeModel("cubic", 80, 80)
    assert model.watts(np.linspace(0, 1, 5)).tolist() == [80.0] * 5


@pytest.mark.parametrize(
    "idle,max_,what",
    [(-1, 100, "idle_w"), (10, -1, "max_w"), (200, 100, "below idle_w"), (math.nan, 100, "idle_w"),
     (10, math.inf, "max_w"), ("10", 100, "idle_w")],
)
def test_shape_rejects_bad_parameters(idle, max_, what):
    with pytest.raises(ValueError, match=what):
        ShapeModel("linear", idle, max_)


def test_specpower_at_measured_points():
    watts = specpower_servers()["IbmX3550XeonX5675"]["watts"]
    assert watts == [58.4, 98, 109, 118, 128, 140, 153, 170, 189, 205, 222]
    model = specpower_model("IbmX3550XeonX5675")
    for i, w in enumerate(watts):
        assert model.watts(i / 10) == pytest.approx(w)
    assert model.idle_w == pytest.approx(58.4)
    assert model.max_w == pytest.approx(222)


def test_specpower_interpolates_linearly_between_10_percent_points():
    model = specpower_model("IbmX3550XeonX5675")
    assert model.watts(0.05) == pytest.approx((58.4 + 98) / 2)
    assert model.watts(0.95) == pytest.approx((205 + 222) / 2)
    assert model.watts(0.125) == pytest.approx(98 + 0.25 * (109 - 98))
    ml110 = specpower_model("HpProLiantMl110G5Xeon3075")
    assert ml110.watts(0.55) == pytest.approx((116 + 121) / 2)


def test_specpower_via_build_power_model():
    model = build_power_model({"model": "specpower", "server": "IbmX3250XeonX3480"})
    assert model.kind == "specpower"
    assert model.watts(0.0) == pytest.approx(42.3)
    assert model.watts(0.45) == pytest.approx((61.8 + 69.3) / 2)
    assert "IbmX3250XeonX3480" in model.describe()


def test_specpower_ships_seven_servers():
    servers = specpower_servers()
    assert len(servers) == 7
    for s in servers.values():
        assert len(s["watts"]) == 11
        assert s["watts"] == sorted(s["watts"])


def test_specpower_unknown_server():
    with pytest.raises(ValueError, match="unknown SPECpower server 'Nope'.*IbmX3550XeonX5675"):
        specpower_model("Nope")


def test_table_model_interpolates_and_sorts():
    model = PiecewiseLinearModel([1.0, 0.0, 0.5], [200.0, 100.0, 180.0])
    assert model.watts(0.25) == pytest.approx(140.0)
    assert model.watts(0.75) == pytest.approx(190.0)
    assert model.idle_w == 100.0


GRIDS = [
    np.linspace(0.0, 1.0, 7),
    np.array([[0.0, 0.05, 0.5], [0.7, 0.95, 1.0]]),
    np.zeros((2, 0)),
    np.array([0.3]),
]


def _models():
    yield ShapeModel("linear", IDLE, MAX)
    yield ShapeModel("square", IDLE, MAX)
    yield ShapeModel("cubic", IDLE, MAX)
    yield ShapeModel("sqrt", IDLE, MAX)
    yield specpower_model("IbmX3550XeonX5675")
    yield PiecewiseLinearModel([0, 0.5, 1], [10, 20, 40])
    yield CallableModel(lambda u: 5.0 + 10.0 * u, "vectorised")
    yield CallableModel(lambda u: 5.0 + 10.0 * math.sqrt(u), "scalar-only")


@pytest.mark.parametrize("grid", GRIDS, ids=["1d", "2d", "empty", "one"])
@pytest.mark.parametrize("model", list(_models()), ids=lambda m: m.describe())
def test_vectorised_same_shape_and_values(model, grid):
    out = np.asarray(model.watts(grid))
    assert out.shape == grid.shape
    expected = np.array([float(model.watts(float(u))) for u in grid.ravel()]).reshape(grid.shape)
    np.testing.assert_allclose(out, expected, rtol=1e-12)


@pytest.mark.parametrize("model", list(_models()), ids=lambda m: m.describe())
def test_scalar_in_scalar_out(model):
    out = model.watts(0.4)
    assert np.ndim(out) == 0
    assert math.isfinite(float(out))


def test_vectorised_specpower_example():
    model = specpower_model("IbmX3550XeonX5675")
    out = model.watts(np.array([0.0, 0.05, 1.0]))
    np.testing.assert_allclose(out, [58.4, (58.4 + 98) / 2, 222.0])
