"""Placement: counts follow mM × area, each compartment starts exactly electroneutral."""
import pytest

from particles.species import Species, charges_array
from particles.state import compartment_counts
from simulation.core.model import Simulation

IN = {"K": 140.0, "Na": 15.0, "Cl": 10.0}
OUT = {"K": 20.0, "Na": 145.0, "Cl": 150.0}


def test_counts_follow_concentration_and_area():
    c = compartment_counts(IN, OUT, -1, True, 1000.0, 3000.0, 100_000)
    # ratio of K inside to K outside = (140 × 1000) / (20 × 3000)
    assert c.inside[Species.K] / c.outside[Species.K] == pytest.approx(140 * 1000 / (20 * 3000), rel=0.01)
    total = c.inside.sum() + c.outside.sum()
    assert abs(total - 100_000) < 10


def test_each_side_is_exactly_neutral_with_A_and_X():
    z = charges_array(-1)
    c = compartment_counts(IN, OUT, -1, True, 1000.0, 3000.0, 50_000)
    assert (c.inside * z).sum() == 0 and (c.outside * z).sum() == 0
    assert c.inside[Species.X] == 0 and c.outside[Species.A] == 0
    assert c.outside[Species.X] > 0  # 20 + 145 > 150: X⁻ fills the outside


def test_divalent_fixed_anions_keep_neutrality():
    z = charges_array(-2)
    c = compartment_counts(IN, OUT, -2, True, 1000.0, 1000.0, 30_001)
    assert (c.inside * z).sum() == 0


def test_without_fixed_anions_chloride_fills_the_inside():
    c = compartment_counts(IN, OUT, -1, False, 1000.0, 1000.0, 30_000)
    assert c.inside[Species.A] == 0
    assert c.inside[Species.Cl] == c.inside[Species.K] + c.inside[Species.Na]


def test_an_excess_of_anions_is_made_up_by_the_impermeant_cation_on_either_side():
    out = {"K": 5.0, "Na": 145.0, "Cl": 200.0}
    c = compartment_counts({"K": 100.0, "Na": 10.0, "Cl": 150.0}, out, -1, True, 1000.0, 1000.0, 60_000)
    z = charges_array(-1)
    assert (c.inside * z).sum() == 0 and (c.outside * z).sum() == 0
    assert c.inside[Species.A] == 0 and c.outside[Species.X] == 0
    per_mM_out = c.outside[Species.Cl] / 200.0
    assert c.outside[Species.Y] == pytest.approx(50.0 * per_mM_out, abs=2)
    assert c.inside[Species.Y] > 0


def test_sea_water_with_divalent_cations_is_placed_as_written():
    """Squid's sea water: 560 Cl⁻ against 440 Na⁺, 20 K⁺, 10 Ca²⁺, 54 Mg²⁺: 28 mM of X⁻ fill it."""
    out = {"K": 20.0, "Na": 440.0, "Cl": 560.0, "Ca": 10.0, "Mg": 54.0}
    c = compartment_counts({"K": 400.0, "Na": 50.0, "Cl": 40.0, "Mg": 10.0}, out, -1, True, 1000.0, 3000.0, 200_000)
    z = charges_array(-1)
    assert (c.inside * z).sum() == 0 and (c.outside * z).sum() == 0
    per_mM = c.outside[Species.Cl] / 560.0
    for ion, mM in out.items():
        assert c.outside[Species[ion]] == pytest.approx(mM * per_mM, abs=1.0)
    assert c.outside[Species.X] == pytest.approx(28.0 * per_mM, abs=3)
    assert c.outside[Species.Y] == 0 and c.inside[Species.Y] == 0


def test_a_neutral_saline_gets_no_filler_from_rounding():
    for n in range(1000, 1040):
        c = compartment_counts(IN, {"K": 5.0, "Na": 145.0, "Cl": 150.0}, -1, True, 700.0, 1100.0, n)
        assert c.outside[Species.X] == 0 and c.outside[Species.Y] == 0 and c.inside[Species.Y] == 0


def test_simulation_starts_at_zero_volts_with_particles_in_their_compartments_or_pores(tiny_config):
    """Every particle starts in its compartment's bulk, or in a leak pore of its own species (the
    pores start at their steady occupancy); the charge those induce is made up by the inside's
    fixed anions, so V starts at 0."""
    from membrane.channels import pore_index
    sim = Simulation(tiny_config, seed=3)
    g = sim.geometry
    assert sim.q_in == pytest.approx(0.0, abs=1e-9) and sim.v_mV == pytest.approx(0.0, abs=1e-9)
    s = sim.state
    pores = sim.channels.pores
    in_band = ((s.x >= g.x_left_nm) & (s.x <= g.x_right_nm)).nonzero()[0]
    assert in_band.size > 0
    for i in in_band:
        j = pore_index(s.y[i], pores.y0, pores.y1)
        assert j >= 0 and pores.species[j] == s.species[i]
    assert (s.species[s.x > g.x_right_nm] != Species.A).all()
    assert (s.species[s.x < g.x_left_nm] != Species.X).all()
    # the compartments' ions as the config asked, counting those now in the pores with the bulk
    # they came from (this tiny cell's K⁺ pores hold a third of its few outside K⁺)
    from particles.state import compartment_counts
    d = tiny_config.data
    asked = compartment_counts(d["inside"], d["outside"], -1, True, g.area_in_nm2, g.area_out_nm2,
                               d["physics"]["particles"])
    counts = sim.region_counts()       # per species: inside bulk, membrane band, outside bulk
    for ion in ("K", "Na", "Cl"):
        k = Species[ion]
        assert counts[k].sum() == asked.inside[k] + asked.outside[k]
        assert counts[k, 1] == int((s.species[in_band] == k).sum())
