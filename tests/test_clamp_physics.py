"""The voltage clamp against theory (the checks `python main.py validate` prints): a K⁺-only
membrane clamped at E_K carries no net current, and 20 and 40 mV either side the GHK current
(one permeability for all points, from their tracer fluxes); its current reverses at E_K and
rectifies as GHK predicts for 140 : 5 mM; a K⁺/Na⁺/Cl⁻ membrane's channels reverse at V_GHK.
Tolerances: three standard errors of each run's own statistics."""
import pytest

from simulation.checks import validate

pytestmark = pytest.mark.physics


def test_clamped_currents_follow_ghk_reverse_at_e_k_and_v_ghk_and_rectify():
    checks = validate.check_clamp(seed=1)
    names = [c.name for c in checks]
    assert "K+ clamped at E_K: I_K = 0" in names
    assert sum("I_K = GHK" in n for n in names) == 4
    assert any("reversal = E_K" in n for n in names) and any("reverse at V_GHK" in n for n in names)
    assert any("limb steeper" in n for n in names)
    table = validate.format_table(checks)
    assert all(c.passed for c in checks), "\n" + table
