"""Random values thrown at every config key: each is either refused at load time with one line
(a ConfigError, which the command line prints and exits 2 on) or runs to a finite voltage. Nothing
in between: no crash after the run, no NaN, no silent nonsense (issue 11)."""
import math

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from particles.species import PERMEANT_NAMES
from simulation.core.config import ConfigError, flatten, load, toml_string
from simulation.headless.run import run
from tests.cells import TINY


DEFAULTS = flatten(load("mammalian", None, TINY).data)
KEYS = sorted(set(DEFAULTS) | {f"channels.{ion}.{k}" for ion in PERMEANT_NAMES
                               for k in ("relative_permeability", "open_probability", "mean_open_time_ns",
                                         "pore_D_factor")})

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e3, max_value=1e3),
    st.sampled_from([0.0, -0.0, 1e-300, -1e-300, 1e300, 5e-324, 0.5, 2.0, 10.0]),
    st.integers(min_value=-10 ** 30, max_value=10 ** 30),
    st.integers(min_value=-20, max_value=200),
)


def _literal(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    return str(v)


VALUES = st.one_of(NUMBERS, st.booleans(), st.text(max_size=12))
FACTORS = st.floats(min_value=-2.0, max_value=2.0).map(lambda e: 10.0 ** e)   # 0.01 to 100 times


@st.composite
def settings_of_every_key(draw):
    """A key, and either any value at all or its default scaled by 0.01 to 100 (so that many
    examples pass validation and run, not only the absurd ones)."""
    key = draw(st.sampled_from(KEYS))
    default = DEFAULTS.get(key, 0.5)
    if isinstance(default, bool) or not isinstance(default, (int, float)) or draw(st.booleans()):
        return key, draw(VALUES)
    scaled = default * draw(FACTORS) if default else draw(FACTORS) / 10
    return key, int(round(scaled)) if isinstance(default, int) else scaled


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kv=settings_of_every_key())
@example(kv=("physics.particles", 10))
@example(kv=("fixed_anions.charge", -10 ** 20))
@example(kv=("box.height_nm", 1e12))
@example(kv=("membrane.channels_per_unit_permeability", 10 ** 29))   # once looped for ever
def test_every_key_is_refused_in_one_line_or_runs_to_a_finite_voltage(tmp_path_factory, kv):
    key, value = kv
    setting = f"{key}={_literal(value)}"
    try:
        cfg = load("mammalian", None, TINY + [setting])
    except ConfigError as e:
        assert "\n" not in str(e) and str(e).strip(), setting
        return
    s = run(cfg, 60, tmp_path_factory.mktemp("fuzz"), sample_every=10, progress=False)
    assert s["V_mean_mV"] is not None and math.isfinite(s["V_mean_mV"]), setting
    assert abs(s["V_mean_mV"]) < 1000, setting
