"""Properties that hold for any input: placement neutrality and the ordering of the theory."""
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from membrane import theory
from particles.species import charges_array
from particles.state import compartment_counts

conc = st.floats(min_value=0.5, max_value=600.0, allow_nan=False)


@settings(deadline=None, max_examples=200, derandomize=True)
@given(k_in=conc, na_in=conc, k_out=conc, na_out=conc, cl_frac_in=st.floats(0.0, 1.5), cl_frac_out=st.floats(0.0, 1.5),
       ca_out=st.floats(0.0, 20.0), mg=st.floats(0.0, 60.0),
       a_charge=st.sampled_from([-1, -2, -3]), fixed=st.booleans(), area_ratio=st.floats(0.2, 5.0),
       particles=st.integers(2000, 200_000))
def test_every_compartment_starts_exactly_neutral(k_in, na_in, k_out, na_out, cl_frac_in, cl_frac_out, ca_out, mg,
                                                 a_charge, fixed, area_ratio, particles):
    """Any saline, with divalent cations and more anions than cations (Y⁺ fills), is placed neutral."""
    c_in = {"K": k_in, "Na": na_in, "Cl": cl_frac_in * (k_in + na_in), "Mg": mg / 5}
    c_out = {"K": k_out, "Na": na_out, "Cl": cl_frac_out * (k_out + na_out), "Ca": ca_out, "Mg": mg}
    c = compartment_counts(c_in, c_out, a_charge, fixed, 1000.0, 1000.0 * area_ratio, particles)
    z = charges_array(a_charge)
    assert (c.inside * z).sum() == 0 and (c.outside * z).sum() == 0
    assert (c.inside >= 0).all() and (c.outside >= 0).all()
    assert abs(c.inside.sum() + c.outside.sum() - particles) <= 0.02 * particles + 10


@settings(deadline=None, max_examples=300, derandomize=True)
@given(c_in=st.fixed_dictionaries({"K": conc, "Na": conc, "Cl": conc}),
       c_out=st.fixed_dictionaries({"K": conc, "Na": conc, "Cl": conc}),
       p=st.fixed_dictionaries({"K": st.floats(0.01, 10), "Na": st.floats(0.0, 10), "Cl": st.floats(0.0, 10)}),
       t=st.floats(-20.0, 60.0))
def test_ghk_lies_between_the_nernst_potentials_and_is_the_zero_current_potential(c_in, c_out, p, t):
    e = [theory.nernst_mV(theory.CHARGE[i], c_in[i], c_out[i], t) for i in p if p[i] > 0]
    v = theory.ghk_voltage_mV(p, c_in, c_out, t)
    assert min(e) - 1e-6 <= v <= max(e) + 1e-6
    v0 = theory.zero_current_mV(p, c_in, c_out, t)
    assert math.isclose(v, v0, abs_tol=1e-3)
