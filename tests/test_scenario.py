"""Tests for gapa.scenario.load_scenario: the shipped scenario, the TOML shape, every error."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import gapa.power
from gapa.errors import InputError
from gapa.policy import PowerPolicy
from gapa.power import BUILTIN_MODELS, CallableModel, PowerModel, ShapeModel
from gapa.scenario import load_scenario

LAB_TOML = Path(__file__).resolve().parent.parent / "scenarios" / "lab.toml"



ISSUE_EXAMPLE = """\
[power_policy]
idle = "off"
boot_s = 0
boot_j = 0
shutdown_s = 0
shutdown_j = 0

[[hosts]]
name = "ml110g5"
count = 40
cores = 2
mips_per_core = 2660
ram_mb = 4096
power = { model = "specpower", server = "HpProLiantMl110G5Xeon3075" }

[[hosts]]
name = "x3550"
count = 10
cores = 12
mips_per_core = 2933
ram_mb = 16384
power = { model = "linear", idle_w = 66, max_w = 247 }
"""


def host(power: str, name: str = "h", count: int = 1, extra: str = "") -> str:
    """One ``[[hosts]]`` table with ``power = <power>``."""
    return textwrap.dedent(f"""\
        [[hosts]]
        name = "{name}"
        count = {count}
        cores = 4
        mips_per_core = 2000
        ram_mb = 8192
        """) + extra + f"power = {power}\n"


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [i + 1 for i, ln in enumerate(text.splitlines()) if needle in ln]
    return hits[occurrence - 1]


def expect_error(path, line, *fragments) -> InputError:
    with pytest.raises(InputError) as info:
        load_scenario(path)
    err = info.value
    assert err.path == str(path)
    assert err.line == line, str(err)
    for fragment in fragments:
        assert fragment in err.problem, f"{fragment!r} not in {err.problem!r}"
    return err


# --------------------------------------------------------------------------- valid scenarios


def test_lab_toml_loads():
    scenario = load_scenario(LAB_TOML)
    fleet = scenario.fleet
    assert fleet.size == 86
    assert fleet.host_ids[0] == "x3550m3-0"
    assert fleet.host_ids[19] == "x3550m3-19"
    assert fleet.host_ids[20] == "x3550-0"
    assert fleet.host_ids[-1] == "ml110g5-39"
    assert len(set(fleet.host_ids.tolist())) == 86
    assert [g.name for g in fleet.groups] == ["x3550m3", "x3550", "x3250", "ml110g5"]
    assert [g.count for g in fleet.groups] == [20, 10, 16, 40]
    assert int(fleet.cores.sum()) == 504
    assert scenario.policy == PowerPolicy("off", 0, 0.0, 0, 0.0)
    assert scenario.source == str(LAB_TOML)
    assert "86 hosts" in scenario.description
    assert fleet.idle_w[0] == pytest.approx(58.4)
    assert fleet.idle_w[20] == pytest.approx(66)
    assert fleet.max_w[20] == pytest.approx(247)


def test_issue_example(write):
    scenario = load_scenario(write("s.toml", ISSUE_EXAMPLE))
    fleet = scenario.fleet
    assert fleet.size == 50
    assert fleet.host_ids.tolist()[:2] == ["ml110g5-0", "ml110g5-1"]
    assert fleet.host_ids.tolist()[-1] == "x3550-9"
    assert fleet.cores.tolist() == [2] * 40 + [12] * 10
    assert fleet.ram_mb.tolist() == [4096] * 40 + [16384] * 10
    assert fleet.mips_per_core.tolist() == [2660.0] * 40 + [2933.0] * 10
    ml110, x3550 = (g.power for g in fleet.groups)
    assert ml110.kind == "specpower"
    assert ml110.watts(0.05) == pytest.approx((93.7 + 97) / 2)
    assert x3550.kind == "linear"
    assert x3550.watts(0.5) == pytest.approx(66 + 0.5 * (247 - 66))
    assert scenario.policy == PowerPolicy()
    np.testing.assert_allclose(fleet.watts(np.array([0, 45]), np.array([0.0, 1.0])), [93.7, 247.0])


def test_power_policy_defaults_when_absent(write):
    scenario = load_scenario(write("s.toml", host('{ model = "linear", idle_w = 10, max_w = 20 }')))
    p = scenario.policy
    assert (p.idle, p.boot_s, p.boot_j, p.shutdown_s, p.shutdown_j) == ("off", 0, 0.0, 0, 0.0)
    assert scenario.description == ""
    assert scenario.settings == {"gapa": {}}
    assert scenario.fleet.host_ids.tolist() == ["h-0"]


def test_power_policy_partial_keeps_other_defaults(write):
    text = '[power_policy]\nidle = "breakeven"\nboot_j = 1500.5\n\n' + host(
        '{ model = "linear", idle_w = 10, max_w = 20 }')
    p = load_scenario(write("s.toml", text)).policy
    assert p == PowerPolicy("breakeven", 0, 1500.5, 0, 0.0)


def test_power_policy_all_keys_and_gapa_settings(write):
    text = ('description = "d"\n[power_policy]\nidle = "on"\nboot_s = 60\nboot_j = 9000\n'
            'shutdown_s = 30\nshutdown_j = 3000\n\n[gapa]\npopulation = 50\n\n'
            + host('{ model = "linear", idle_w = 10, max_w = 20 }', count=3))
    s = load_scenario(write("s.toml", text))
    assert s.policy == PowerPolicy("on", 60, 9000.0, 30, 3000.0)
    assert s.settings == {"gapa": {"population": 50}}
    assert s.description == "d"
    assert s.fleet.size == 3


@pytest.mark.parametrize("kind", ["linear", "square", "cubic", "sqrt"])
def test_shape_models(write, kind):
    s = load_scenario(write("s.toml", host(f'{{ model = "{kind}", idle_w = 70, max_w = 250 }}')))
    model = s.fleet.groups[0].power
    assert model.kind == kind
    assert model.watts(0.0) == pytest.approx(70)
    assert model.watts(1.0) == pytest.approx(250)


def test_table_points(write):
    s = load_scenario(write("s.toml", host('{ model = "table", points = [[0, 50], [0.5, 80], [1, 100]] }')))
    model = s.fleet.groups[0].power
    assert model.kind == "table"
    assert model.watts(0.25) == pytest.approx(65)
    assert model.watts(0.75) == pytest.approx(90)


def test_table_csv_relative_to_scenario_file(tmp_path, monkeypatch):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "curve.csv").write_text("utilisation,watts\n0,40\n0.5,70\n1,100\n", encoding="utf-8")
    path = conf / "s.toml"
    path.write_text(host('{ model = "table", csv = "curve.csv" }'), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    model = load_scenario(path).fleet.groups[0].power
    assert model.watts(0.25) == pytest.approx(55)
    assert model.watts(1.0) == pytest.approx(100)
    assert "curve.csv" in model.describe()


def test_table_csv_american_spelling_and_absolute_path(tmp_path, write):
    curve = write("abs/curve.csv", "utilization,watts\n1,100\n0,50\n")
    path = write("s.toml", host(f'{{ model = "table", csv = "{curve.as_posix()}" }}'))
    assert load_scenario(path).fleet.groups[0].power.watts(0.5) == pytest.approx(75)


# --------------------------------------------------------------------------- TOML / shape errors


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert info.value.path == str(path)
    assert "cannot read scenario" in info.value.problem


def test_invalid_toml_syntax_line_from_parser(write):
    text = ISSUE_EXAMPLE.replace('count = 10\n', 'count = = 10\n')
    err = expect_error(write("s.toml", text), line_of(text, "count = = 10"), "invalid TOML")
    assert "(at line" not in err.problem  # the position went into .line


def test_invalid_toml_unclosed_table(write):
    text = 'description = "x"\n\n[power_policy\nidle = "off"\n'
    expect_error(write("s.toml", text), 3, "invalid TOML")


def test_unknown_key_in_second_hosts_table(write):
    text = ISSUE_EXAMPLE.replace('name = "x3550"\n', 'name = "x3550"\ncolour = "blue"\n')
    expect_error(write("s.toml", text), line_of(text, "colour"), "hosts[1].colour", "unknown key")


def test_unknown_key_in_second_hosts_table_same_name_as_key_elsewhere(write):
    # the bad key also appears (legally) earlier in the file: the line must be the one in hosts[1]
    text = ('description = "x"\n[gapa]\nspeed = 1\n\n'
            + host('{ model = "linear", idle_w = 1, max_w = 2 }', name="a")
            + "\n" + host('{ model = "linear", idle_w = 1, max_w = 2 }', name="b", extra="speed = 3\n"))
    expect_error(write("s.toml", text), line_of(text, "speed", 2), "hosts[1].speed", "unknown key")


def test_unknown_key_in_power_policy(write):
    text = '[power_policy]\nidle = "off"\nboot_seconds = 5\n\n' + host(
        '{ model = "linear", idle_w = 1, max_w = 2 }')
    expect_error(write("s.toml", text), 3, "power_policy.boot_seconds", "unknown key")


def test_unknown_top_level_key(write):
    text = 'descripton = "typo"\n\n' + host('{ model = "linear", idle_w = 1, max_w = 2 }')
    expect_error(write("s.toml", text), 1, "descripton", "unknown key")


def test_bad_idle_mode(write):
    text = '[power_policy]\nboot_s = 5\nidle = "sometimes"\n\n' + host(
        '{ model = "linear", idle_w = 1, max_w = 2 }')
    expect_error(write("s.toml", text), 3, "power_policy.idle")


def test_negative_policy_value(write):
    text = '[power_policy]\nidle = "off"\nshutdown_j = -5\n\n' + host(
        '{ model = "linear", idle_w = 1, max_w = 2 }')
    expect_error(write("s.toml", text), 3, "power_policy.shutdown_j")


@pytest.mark.parametrize("count", [-3, 0])
def test_non_positive_count(write, count):
    text = ISSUE_EXAMPLE.replace("count = 10\n", f"count = {count}\n")
    expect_error(write("s.toml", text), line_of(text, f"count = {count}"), "hosts[1].count",
                 "greater than or equal to 1")


def test_missing_required_host_key_points_at_its_table(write):
    text = ISSUE_EXAMPLE.replace("cores = 12\n", "")
    expect_error(write("s.toml", text), line_of(text, "[[hosts]]", 2), "hosts[1].cores")


def test_no_hosts(write):
    expect_error(write("s.toml", '[power_policy]\nidle = "on"\n'), None, "hosts")


def test_bad_host_name(write):
    text = host('{ model = "linear", idle_w = 1, max_w = 2 }', name="my host")
    expect_error(write("s.toml", text), 2, "hosts[0].name")


def test_duplicate_group_name(write):
    text = (host('{ model = "linear", idle_w = 1, max_w = 2 }', name="a") + "\n"
            + host('{ model = "linear", idle_w = 1, max_w = 2 }', name="a"))
    expect_error(write("s.toml", text), line_of(text, 'name = "a"'), "'a'", "twice")


# --------------------------------------------------------------------------- power errors


def test_unknown_power_model_lists_known_ones(write):
    text = ISSUE_EXAMPLE.replace('model = "linear"', 'model = "quadratic"')
    err = expect_error(write("s.toml", text), line_of(text, "quadratic"), "hosts[1].power", "x3550",
                       "unknown power model 'quadratic'", "known:")
    for name in BUILTIN_MODELS:
        assert name in err.problem


def test_power_without_model(write):
    text = host("{ idle_w = 1, max_w = 2 }")
    expect_error(write("s.toml", text), line_of(text, "power ="), "model")


def test_shape_missing_parameter(write):
    text = host('{ model = "linear", idle_w = 1 }')
    expect_error(write("s.toml", text), line_of(text, "power ="), "needs max_w")


def test_shape_unknown_parameter(write):
    text = host('{ model = "linear", idle_w = 1, max_w = 2, peak_w = 3 }')
    expect_error(write("s.toml", text), line_of(text, "power ="), "peak_w")


def test_shape_max_below_idle(write):
    text = host('{ model = "cubic", idle_w = 100, max_w = 50 }')
    expect_error(write("s.toml", text), line_of(text, "power ="), "below idle_w")


def test_specpower_unknown_server(write):
    text = ISSUE_EXAMPLE.replace("HpProLiantMl110G5Xeon3075", "DellR740")
    err = expect_error(write("s.toml", text), line_of(text, "DellR740"), "hosts[0].power",
                       "unknown SPECpower server 'DellR740'")
    assert "IbmX3550XeonX5675" in err.problem  # lists the known servers


def test_specpower_without_server(write):
    text = host('{ model = "specpower" }')
    expect_error(write("s.toml", text), line_of(text, "power ="), "server", "IbmX3550XeonX5675")


@pytest.mark.parametrize("points", ["[[0, 50], [1.5, 100]]", "[[-0.1, 50], [0, 50], [1, 100]]"])
def test_table_point_outside_unit_interval(write, points):
    text = host(f'{{ model = "table", points = {points} }}')
    expect_error(write("s.toml", text), line_of(text, "power ="), "outside [0, 1]")


def test_table_negative_watts(write):
    text = host('{ model = "table", points = [[0, 50], [0.5, -1], [1, 100]] }')
    expect_error(write("s.toml", text), line_of(text, "power ="), "negative watts")


@pytest.mark.parametrize("points", ["[[0, 50], [0.9, 100]]", "[[0.1, 50], [1, 100]]", "[[0.2, 50], [0.8, 100]]"])
def test_table_points_must_cover_0_and_1(write, points):
    text = host(f'{{ model = "table", points = {points} }}')
    expect_error(write("s.toml", text), line_of(text, "power ="), "cover utilisation 0 and 1")


def test_table_repeated_utilisation(write):
    text = host('{ model = "table", points = [[0, 50], [0.5, 60], [0.5, 70], [1, 100]] }')
    expect_error(write("s.toml", text), line_of(text, "power ="), "twice")


@pytest.mark.parametrize("points", ['[[0, "a"], [1, 100]]', "[[0, 50, 1], [1, 100]]", "[0, 1]"])
def test_table_malformed_points(write, points):
    text = host(f'{{ model = "table", points = {points} }}')
    expect_error(write("s.toml", text), line_of(text, "power ="), "points")


def test_table_needs_exactly_one_source(write):
    text = host('{ model = "table", points = [[0, 1], [1, 2]], csv = "c.csv" }')
    expect_error(write("s.toml", text), line_of(text, "power ="), "exactly one")


def test_table_missing_csv_file(write):
    text = host('{ model = "table", csv = "missing.csv" }')
    with pytest.raises(InputError) as info:
        load_scenario(write("s.toml", text))
    assert "missing.csv" in str(info.value)
    assert "cannot read power curve" in str(info.value)


BAD_CURVES = [
    ("utilisation,watts\n0,50\n0.5,abc\n1,100\n", 3, "not a number"),
    ("utilisation,watts\n0,50\n\n1.5,90\n1,100\n", 4, "outside [0, 1]"),
    ("utilisation,watts\n0,50\n0.5,-3\n1,100\n", 3, "≥ 0"),
    ("utilisation,watts\n0,50\n0.5\n1,100\n", 3, "two fields"),
    ("u,w\n0,50\n1,100\n", 1, "header"),
    ("", 1, "empty"),
]


@pytest.mark.parametrize("curve,line,problem", BAD_CURVES, ids=[c[2] for c in BAD_CURVES])
def test_malformed_curve_csv_message_names_csv_and_line(tmp_path, write, curve, line, problem):
    csv_path = write("curves/curve.csv", curve)
    scenario = write("curves/s.toml", host('{ model = "table", csv = "curve.csv" }'))
    with pytest.raises(InputError) as info:
        load_scenario(scenario)
    msg = str(info.value)
    assert f"{csv_path}:{line}: " in msg
    assert problem in msg


@pytest.mark.parametrize("curve,line,problem", BAD_CURVES[:2], ids=[c[2] for c in BAD_CURVES[:2]])
def test_malformed_curve_csv_error_points_at_csv(write, curve, line, problem):
    csv_path = write("curves/curve.csv", curve)
    scenario = write("curves/s.toml", host('{ model = "table", csv = "curve.csv" }'))
    with pytest.raises(InputError) as info:
        load_scenario(scenario)
    assert info.value.path == str(csv_path)
    assert info.value.line == line
    assert problem in info.value.problem


def test_malformed_curve_csv_missing_points_after_reading(write):
    write("curve.csv", "utilisation,watts\n0,50\n0.5,80\n")
    text = host('{ model = "table", csv = "curve.csv" }')
    with pytest.raises(InputError) as info:
        load_scenario(write("s.toml", text))
    assert "cover utilisation 0 and 1" in str(info.value)


# --------------------------------------------------------------------------- python models


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """Write a module into tmp_path, importable for this test only; returns its name."""
    made: list[str] = []
    counter = iter(range(1000))

    def _make(source: str) -> str:
        name = f"gapa_test_power_{next(counter)}_{abs(hash(str(tmp_path)))}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        made.append(name)
        return name

    monkeypatch.syspath_prepend(str(tmp_path))
    yield _make
    for name in made:
        sys.modules.pop(name, None)


def test_python_model_math_sqrt(write):
    s = load_scenario(write("s.toml", host('{ model = "python", ref = "math:sqrt" }')))
    model = s.fleet.groups[0].power
    assert isinstance(model, CallableModel)
    assert model.watts(0.25) == pytest.approx(0.5)
    np.testing.assert_allclose(model.watts(np.array([0.0, 0.04, 1.0])), [0.0, 0.2, 1.0])


def test_python_model_vectorised_function(write, user_module):
    mod = user_module("""
        import numpy as np
        def curve(u):
            return 50.0 + 100.0 * np.asarray(u) ** 2
    """)
    s = load_scenario(write("s.toml", host(f'{{ model = "python", ref = "{mod}:curve" }}')))
    model = s.fleet.groups[0].power
    assert model.kind == "python"
    assert model.watts(0.5) == pytest.approx(75.0)
    out = model.watts(np.array([[0.0, 1.0], [0.5, 0.1]]))
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, [[50, 150], [75, 51]])


def test_python_model_nested_attribute(write, user_module):
    mod = user_module("""
        class Curves:
            @staticmethod
            def flat(u):
                return 80.0 + 0.0 * u
    """)
    s = load_scenario(write("s.toml", host(f'{{ model = "python", ref = "{mod}:Curves.flat" }}')))
    assert s.fleet.groups[0].power.watts(0.3) == pytest.approx(80.0)


def test_python_model_scalar_only_function_works(write, user_module):
    mod = user_module("""
        def stepwise(u):
            if u < 0.5:          # raises on arrays: only scalars are supported
                return 50.0 + 60.0 * u
            return 80.0 + 40.0 * (u - 0.5)
    """)
    s = load_scenario(write("s.toml", host(f'{{ model = "python", ref = "{mod}:stepwise" }}')))
    model = s.fleet.groups[0].power
    assert model.watts(0.25) == pytest.approx(65.0)
    assert model.watts(1.0) == pytest.approx(100.0)
    grid = np.array([[0.0, 0.25], [0.75, 1.0]])
    out = model.watts(grid)
    assert out.shape == grid.shape
    np.testing.assert_allclose(out, [[50, 65], [90, 100]])
    assert s.fleet.idle_w[0] == pytest.approx(50.0)


def test_python_model_constant_scalar_function_works(write, user_module):
    mod = user_module("""
        def constant(u):
            return 42
    """)
    s = load_scenario(write("s.toml", host(f'{{ model = "python", ref = "{mod}:constant" }}')))
    model = s.fleet.groups[0].power
    assert model.watts(0.7) == 42.0
    np.testing.assert_allclose(model.watts(np.linspace(0, 1, 4)), [42.0] * 4)


def test_python_model_negative_watts_rejected(write, user_module):
    mod = user_module("""
        def falling(u):
            return 100.0 - 300.0 * u
    """)
    text = host(f'{{ model = "python", ref = "{mod}:falling" }}')
    expect_error(write("s.toml", text), line_of(text, "power ="), "hosts[0].power", "W at utilisation",
                 "≥ 0")


def test_python_model_scalar_only_negative_watts_rejected(write, user_module):
    mod = user_module("""
        import math
        def dips(u):
            return 10.0 * math.cos(4.0 * u)
    """)
    text = host(f'{{ model = "python", ref = "{mod}:dips" }}')
    expect_error(write("s.toml", text), line_of(text, "power ="), "W at utilisation")


def test_python_model_nan_rejected(write, user_module):
    mod = user_module("""
        def broken(u):
            return float("nan")
    """)
    text = host(f'{{ model = "python", ref = "{mod}:broken" }}')
    expect_error(write("s.toml", text), line_of(text, "power ="), "finite")


def test_python_model_raising_function_rejected(write, user_module):
    mod = user_module("""
        def inverse(u):
            return 1.0 / u
    """)
    text = host(f'{{ model = "python", ref = "{mod}:inverse" }}')
    expect_error(write("s.toml", text), line_of(text, "power ="), "ZeroDivisionError")


@pytest.mark.parametrize(
    "ref,fragment",
    [
        ("math", "package.module:function"),
        ("no_such_module_gapa_xyz:f", "cannot import"),
        ("math:no_such_function", "no attribute"),
        ("math:pi", "not callable"),
    ],
)
def test_python_model_bad_ref(write, ref, fragment):
    text = host(f'{{ model = "python", ref = "{ref}" }}')
    expect_error(write("s.toml", text), line_of(text, "power ="), fragment)


def test_python_model_needs_ref(write):
    text = host('{ model = "python" }')
    expect_error(write("s.toml", text), line_of(text, "power ="), "needs ref")


# --------------------------------------------------------------------------- entry-point models


class FakeEntryPoint:
    def __init__(self, obj):
        self.obj = obj
        self.loaded = 0

    def load(self):
        self.loaded += 1
        return self.obj


@pytest.fixture
def register(monkeypatch):
    """Register fake entry-point power models: register(name=factory, ...)."""
    registry: dict[str, FakeEntryPoint] = {}
    monkeypatch.setattr(gapa.power, "_entry_point_factories", lambda: dict(registry))

    def _register(**factories):
        for name, factory in factories.items():
            registry[name] = FakeEntryPoint(factory)
        return registry

    return _register


def test_entry_point_factory_returning_callable(write, register):
    calls = []

    def factory(**kwargs):
        calls.append(kwargs)
        lo, hi = kwargs["low"], kwargs["high"]
        return lambda u: lo + (hi - lo) * u

    register(ramp=factory)
    text = host('{ model = "ramp", low = 30, high = 130.5, tag = "x" }')
    s = load_scenario(write("s.toml", text))
    assert calls == [{"low": 30, "high": 130.5, "tag": "x"}]
    model = s.fleet.groups[0].power
    assert model.kind == "ramp"
    assert model.watts(0.5) == pytest.approx(80.25)
    np.testing.assert_allclose(model.watts(np.array([0.0, 1.0])), [30.0, 130.5])


def test_entry_point_factory_returning_power_model(write, register):
    seen = {}

    def factory(**kwargs):
        seen.update(kwargs)
        return ShapeModel("square", kwargs["idle"], kwargs["peak"])

    register(vendor=factory)
    s = load_scenario(write("s.toml", host('{ model = "vendor", idle = 40, peak = 140 }')))
    model = s.fleet.groups[0].power
    assert seen == {"idle": 40, "peak": 140}
    assert isinstance(model, PowerModel) and model.kind == "square"
    assert model.watts(0.5) == pytest.approx(65.0)


def test_entry_point_factory_without_parameters(write, register):
    class Flat(PowerModel):
        kind = "flat"

        def watts(self, u):
            return 60.0 + 0.0 * np.asarray(u, dtype=float) if np.ndim(u) else 60.0

    register(flat=Flat)
    s = load_scenario(write("s.toml", host('{ model = "flat" }')))
    assert s.fleet.groups[0].power.watts(0.9) == 60.0


def test_entry_point_listed_in_unknown_model_message(write, register):
    register(ramp=lambda **kw: (lambda u: u), vendor=lambda **kw: (lambda u: u))
    text = host('{ model = "nope" }')
    err = expect_error(write("s.toml", text), line_of(text, "power ="), "unknown power model 'nope'")
    assert "ramp" in err.problem and "vendor" in err.problem and "linear" in err.problem


def test_entry_point_factory_error_reported(write, register):
    def factory(*, low, high):
        return lambda u: low + (high - low) * u

    register(ramp=factory)
    text = host('{ model = "ramp", low = 1 }')  # 'high' missing: TypeError in the factory
    expect_error(write("s.toml", text), line_of(text, "power ="), "'ramp'", "could not be built",
                 "TypeError")


def test_entry_point_factory_returning_garbage(write, register):
    register(junk=lambda **kw: 42)
    text = host('{ model = "junk" }')
    expect_error(write("s.toml", text), line_of(text, "power ="), "junk", "not a power model")


def test_entry_point_model_giving_negative_watts_rejected(write, register):
    register(bad=lambda **kw: (lambda u: -1.0 + 0.0 * u))
    text = host('{ model = "bad" }')
    expect_error(write("s.toml", text), line_of(text, "power ="), "W at utilisation")


def test_builtin_names_win_over_entry_points(write, register):
    register(linear=lambda **kw: (lambda u: 999.0))
    s = load_scenario(write("s.toml", host('{ model = "linear", idle_w = 10, max_w = 20 }')))
    assert s.fleet.groups[0].power.watts(0.0) == 10.0
