"""The charge of the ions on their way through a pore, which V counts (SPEC: an ion in the band
counts by its depth) and the deterministic cell now counts too (`theory.open_pore_charge_e`):
at the reversal potential an open pore holds the Boltzmann profile of the constant field, and the
count by gate state adds up to the charge of every ion in the band's pores."""
import numpy as np
import pytest

from membrane import theory
from simulation.core.config import load
from simulation.core.model import Simulation
from simulation.core.statistics import mean_and_sem

# a K+-only membrane of the spiking cell's thickness, small and without pumps, with many pores
K_ONLY = ["box.height_nm=200", "box.width_nm=60", "box.membrane_x_nm=25", "box.membrane_thickness_nm=5",
          "physics.particles=30000", "physics.capacitance_e_per_mV=0.5", "pump.count=0",
          "channels.Na.relative_permeability=0", "channels.Cl.relative_permeability=0",
          "membrane.channels_per_unit_permeability=20", "membrane.site_spacing_nm=4"]


def _per_open_pore(sim, steps, every):
    """Samples of (V, mean charge per open K+ pore, inside and outside K+ densities)."""
    from membrane.voltage import IN, OUT
    from particles.species import Species
    g = sim.geometry
    rows = []
    for _ in range(steps // every):
        sim.step(every)
        n_open = sim.channels.open_counts()["K"]
        if n_open:
            c = sim.region_counts()
            rows.append((sim.v_mV, sim.pore_charge_e()["K"][1] / n_open,
                         c[Species["K"], IN] / g.area_in_nm2, c[Species["K"], OUT] / g.area_out_nm2))
    return np.array(rows)


@pytest.mark.parametrize("k_out", [5.0, 40.0])
def test_an_open_pore_at_the_reversal_potential_holds_the_boltzmann_profile(k_out):
    """A K+-only cell settles at E_K, where no net flux runs: the ions in an open pore are then
    distributed as exp(−zφ/V_T) in the linear field whatever the access to the pore, and their
    induced charge is z·w·L·n_in·∫e^(zus)(1 − s)ds. Measured, per open pore, against that at each
    sample's V (the standard error from the spread of 400 samples 1.25 ns apart, ×2 for their
    correlation)."""
    sim = Simulation(load("mammalian", None, K_ONLY + [f"outside.K={k_out}"]), seed=5)
    sim.step(8000)                                  # settle at E_K
    rows = _per_open_pore(sim, 20000, 50)
    k = [t.name for t in sim.channels.types].index("K")
    t = sim.channels.types[k]
    pores = theory.Pores(sim.channels.counts()["K"], sim.geometry.pore_width_nm, sim.geometry.thickness_nm,
                         sim.channels.d_nm2_per_ns["K"] * t.pore_D_factor)
    vt = theory.thermal_voltage_mV(sim.temperature_C)
    # at zero flux the profile is the Boltzmann one however the access limits the channel
    expected = np.array([theory.open_pore_charge_e(1, v / vt, d_in, d_in * np.exp(v / vt), 1e-9, pores)
                         for v, _, d_in, _ in rows])
    measured = rows[:, 1]
    sem = 2.0 * measured.std(ddof=1) / np.sqrt(measured.size)
    field_free = np.array([theory.open_pore_charge_e(1, 0.0, d_in, d_in, 1e-9, pores) for _, _, d_in, _ in rows])
    assert abs(measured.mean() - field_free.mean()) > 10 * sem      # the field shapes it (1.7 against 3.7 e at 5 mM)
    assert measured.mean() == pytest.approx(expected.mean(), abs=3 * sem)
    e_k = sim.theory(donnan=False)["E_K_mV"]
    v, v_sem, _ = mean_and_sem(rows[:, 0])        # V wanders slowly at rest: its own error bar
    assert abs(v - e_k) < max(3.0, 3 * v_sem)      # it was at the reversal potential


def test_the_charge_by_gate_state_adds_up_to_the_ions_in_the_pores():
    """`pore_charge_e` splits the ions in the pores by type and gate state; summed, it is the
    charge of every free ion in the band (the pumps' held ones aside), counted as V counts it."""
    from membrane.voltage import inside_charge
    from particles.state import HELD
    sim = Simulation(load("spiking", None, ["box.height_nm=200", "physics.particles=40000",
                                            "physics.capacitance_e_per_mV=0.25",
                                            "membrane.channels_per_unit_permeability=2"]), seed=3)
    sim.inject(800.0, 5.0)
    sim.step(2000)
    held = sim.pore_charge_e()
    g, s = sim.geometry, sim.state
    m = (s.x >= g.x_left_nm) & (s.x <= g.x_right_nm) & ((s.flags & HELD) == 0)
    band = inside_charge(s.x[m], s.species[m], s.flags[m], sim.kinds.charge, g.x_left_nm, g.x_right_nm)
    assert sum(float(a.sum()) for a in held.values()) == pytest.approx(band, abs=1e-9)
    assert len(held["Nav"]) == 16 and len(held["Kv"]) == 16 and len(held["K"]) == 2
