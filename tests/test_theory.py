"""The analytic references against textbook values and their limiting cases."""
import math

import pytest

from membrane import theory

C_IN = {"K": 140.0, "Na": 15.0, "Cl": 10.0}
C_OUT = {"K": 5.0, "Na": 145.0, "Cl": 150.0}
P = {"K": 1.0, "Na": 0.05, "Cl": 0.45}


def test_thermal_voltage_at_body_temperature():
    assert theory.thermal_voltage_mV(37.0) == pytest.approx(26.73, abs=0.01)


def test_nernst_textbook_values():
    assert theory.nernst_mV(1, 140, 5, 37) == pytest.approx(-89.07, abs=0.05)
    assert theory.nernst_mV(1, 15, 145, 37) == pytest.approx(60.64, abs=0.05)
    assert theory.nernst_mV(-1, 10, 150, 37) == pytest.approx(-72.39, abs=0.05)


def test_ghk_textbook_value_and_single_ion_limit():
    assert theory.ghk_voltage_mV(P, C_IN, C_OUT, 37) == pytest.approx(-67.40, abs=0.05)
    assert theory.ghk_voltage_mV({"K": 1.0}, C_IN, C_OUT, 37) == pytest.approx(theory.nernst_mV(1, 140, 5, 37))
    assert theory.ghk_voltage_mV({"Cl": 1.0}, C_IN, C_OUT, 37) == pytest.approx(theory.nernst_mV(-1, 10, 150, 37))


def test_mullins_noda_is_their_closed_form_of_potassium_and_sodium_only():
    """V_MN = V_T ln((r P_K [K]o + P_Na [Na]o) / (r P_K [K]i + P_Na [Na]i)), r = 3/2: a Cl⁻ leak
    does not enter it (issue 25: the label once kept the Cl⁻ terms)."""
    vt = theory.thermal_voltage_mV(37)
    closed = vt * math.log((1.5 * C_OUT["K"] + 0.05 * C_OUT["Na"]) / (1.5 * C_IN["K"] + 0.05 * C_IN["Na"]))
    assert theory.mullins_noda_mV(P, C_IN, C_OUT, 37) == pytest.approx(closed, abs=1e-9)
    assert theory.mullins_noda_mV(dict(P, Cl=5.0), C_IN, C_OUT, 37) == pytest.approx(closed, abs=1e-9)
    assert theory.mullins_noda_mV(P, C_IN, C_OUT, 37, r=1.0) == pytest.approx(
        theory.ghk_voltage_mV({"K": 1.0, "Na": 0.05}, C_IN, C_OUT, 37))


def test_pump_zero_current_keeps_every_leak_and_is_mullins_noda_when_chloride_is_at_rest():
    assert theory.pump_zero_current_mV(P, C_IN, C_OUT, 37, r=1.0) == pytest.approx(theory.ghk_voltage_mV(P, C_IN, C_OUT, 37))
    v = theory.pump_zero_current_mV(P, C_IN, C_OUT, 37)
    assert -75 < v < theory.ghk_voltage_mV(P, C_IN, C_OUT, 37)
    # Cl⁻ redistributed to the Mullins–Noda potential: the two agree
    mn = theory.mullins_noda_mV(P, C_IN, C_OUT, 37)
    cl_in = C_OUT["Cl"] * math.exp(mn / theory.thermal_voltage_mV(37))
    assert theory.pump_zero_current_mV(P, dict(C_IN, Cl=cl_in), C_OUT, 37) == pytest.approx(mn, abs=1e-6)


def test_zero_current_is_ghk_without_pump_and_more_negative_with_it():
    v0 = theory.zero_current_mV(P, C_IN, C_OUT, 37)
    assert v0 == pytest.approx(theory.ghk_voltage_mV(P, C_IN, C_OUT, 37), abs=1e-4)
    assert theory.zero_current_mV(P, C_IN, C_OUT, 37, pump_current=5.0) < v0


def test_mullins_noda_is_the_zero_current_when_the_pump_balances_the_leaks():
    """K⁺ and Na⁺ leaks (Mullins & Noda's derivation; a Cl⁻ leak must be at rest for it to hold):
    with pump current = Na⁺ influx / 3 at V_MN, the zero-current V is V_MN."""
    vt = theory.thermal_voltage_mV(37)
    P = {"K": 1.0, "Na": 0.05}
    v = theory.mullins_noda_mV(P, C_IN, C_OUT, 37)
    u = v / vt
    na_in = P["Na"] * (C_OUT["Na"] * theory.ghk_influx_factor(1, u) - C_IN["Na"] * theory.ghk_efflux_factor(1, u))
    k_out = P["K"] * (C_IN["K"] * theory.ghk_efflux_factor(1, u) - C_OUT["K"] * theory.ghk_influx_factor(1, u))
    assert k_out / na_in == pytest.approx(2 / 3, rel=1e-6)  # the leaks are in the pump's ratio there
    assert theory.zero_current_mV(P, C_IN, C_OUT, 37, pump_current=na_in / 3) == pytest.approx(v, abs=1e-4)


def test_ussing_ratio_is_one_at_the_nernst_potential():
    e = theory.nernst_mV(1, 140, 5, 37)
    assert theory.ussing_ratio(1, 140, 5, e, 37) == pytest.approx(1.0)


def test_flux_factors_obey_ussing():
    for z in (1, -1):
        for u in (-3.0, -0.5, 0.0, 0.7, 2.0):
            assert theory.ghk_influx_factor(z, u) / theory.ghk_efflux_factor(z, u) == pytest.approx(math.exp(-z * u))


def test_donnan_with_fixed_anions_and_no_capacitance():
    """Only K⁺ and Cl⁻ permeant, equal areas, A⁻ inside: the classic r² = 1 + A/(Cl_o) relation."""
    # totals: K 200, Cl 100 particles; fixed charge inside -100; equal areas
    v = theory.donnan_mV({"K": 200.0, "Cl": 100.0}, theory.CHARGE, -100.0, 1.0, 1.0, 1e-12, 37)
    r = math.exp(-v / theory.thermal_voltage_mV(37))  # K_in/K_out
    k_out = 200 / (1 + r)
    cl_out = 100 / (1 + 1 / r)
    assert k_out == pytest.approx(cl_out, rel=1e-6)          # outside neutral
    assert 200 - k_out - (100 - cl_out) - 100 == pytest.approx(0, abs=1e-6)  # inside neutral
    assert v < 0


def test_ghk_for_a_divalent_ion_alone_is_its_nernst_potential():
    c_in, c_out = {"Ca": 0.5, "K": 140.0}, {"Ca": 2.0, "K": 5.0}
    assert theory.ghk_voltage_mV({"Ca": 1.0}, c_in, c_out, 37) == pytest.approx(theory.nernst_mV(2, 0.5, 2.0, 37), abs=1e-6)


def test_ghk_with_calcium_is_the_zero_of_the_summed_ghk_currents():
    """K⁺ and Ca²⁺: no closed form; the zero-current potential lies between E_K and E_Ca, the
    currents (with z² for Ca²⁺) cancel there, and it equals the closed form when Ca²⁺ is absent."""
    c_in = {"K": 140.0, "Na": 15.0, "Cl": 10.0, "Ca": 0.1}
    c_out = {"K": 5.0, "Na": 145.0, "Cl": 150.0, "Ca": 2.0}
    p = {"K": 1.0, "Na": 0.05, "Cl": 0.45, "Ca": 0.2}
    v = theory.ghk_voltage_mV(p, c_in, c_out, 37)
    assert theory.net_outward_current(v, p, c_in, c_out, 37) == pytest.approx(0.0, abs=1e-9)
    e = [theory.nernst_mV(theory.CHARGE[i], c_in[i], c_out[i], 37) for i in p]
    assert min(e) < v < max(e)
    assert v > theory.ghk_voltage_mV({i: p[i] for i in ("K", "Na", "Cl")}, c_in, c_out, 37)  # Ca²⁺ depolarises
    vt = theory.thermal_voltage_mV(37)
    u = v / vt
    i_ca = 2 * p["Ca"] * 2 * u * (c_in["Ca"] - c_out["Ca"] * math.exp(-2 * u)) / (1 - math.exp(-2 * u))
    rest = theory.net_outward_current(v, {i: p[i] for i in ("K", "Na", "Cl")}, c_in, c_out, 37)
    assert i_ca + rest == pytest.approx(0.0, abs=1e-9)   # the textbook GHK current with z²


def test_ghk_without_calcium_inside_still_has_a_zero_current_potential():
    c_in = {"K": 140.0, "Ca": 0.0}
    c_out = {"K": 5.0, "Ca": 2.0}
    v = theory.ghk_voltage_mV({"K": 1.0, "Ca": 0.01}, c_in, c_out, 37)
    assert theory.nernst_mV(1, 140, 5, 37) < v < 0
