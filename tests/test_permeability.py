"""Requested permeabilities are met exactly (open probability set after rounding the count), a
type with few channels can be spread over more slower ones, and a shortfall is reported."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from membrane.channels import ChannelType, Gating, plan_channels as plan_types
from simulation.headless.run import notes

GATING = {"K": Gating(0.9, 20.0), "Na": Gating(0.66, 10.0), "Cl": Gating(0.78, 10.0), "Ca": Gating(0.5, 5.0)}
D = {"K": 1.96, "Na": 1.33, "Cl": 2.03, "Ca": 0.79}


def plan_channels(rel, gating, d, free_sites, max_per_unit, min_per_type=1, pore_factor=None, gated=()):
    """The plan of leak types named after their ions (and `gated`: declared voltage-gated types)."""
    types = [ChannelType(ion, ion, "leak", rel.get(ion, 0.0), g.open_probability, g.mean_open_time_ns,
                         (pore_factor or {}).get(ion, 1.0), {}, ion in rel) for ion, g in gating.items()]
    return plan_types(types + list(gated), d, free_sites, max_per_unit, min_per_type)


@settings(deadline=None, max_examples=200, derandomize=True)
@given(na=st.floats(0.001, 2.0), cl=st.floats(0.001, 2.0), ca=st.floats(0.0, 0.5))
def test_requested_ratios_are_met_exactly_when_the_sites_allow(na, cl, ca):
    rel = {"K": 1.0, "Na": na, "Cl": cl, "Ca": ca}
    plan = plan_channels(rel, GATING, D, free_sites=10_000, max_per_unit=40)
    for ion, p in rel.items():
        assert plan.effective_permeability[ion] == pytest.approx(p, rel=1e-9, abs=1e-300)
        if p > 0:
            assert 0 < plan.open_probability[ion] <= 1.0
            # the count is the nearest whole number at the asked open probability: p moves by at
            # most half a channel's share (or up to 1 when a single channel is too little)
            n = plan.counts[ion]
            assert n == 1 or abs(plan.open_probability[ion] / GATING[ion].open_probability - 1) <= 0.5 / n + 1e-9


def test_a_type_with_few_channels_gets_more_each_open_less_often_with_the_same_permeability():
    rel = {"K": 1.0, "Na": 0.05, "Cl": 0.45}
    few = plan_channels(rel, GATING, D, free_sites=87, max_per_unit=40)
    many = plan_channels(rel, GATING, D, free_sites=87, max_per_unit=40, min_per_type=16)
    assert few.counts["Na"] == 4 and many.counts["Na"] == 16
    assert many.open_probability["Na"] == pytest.approx(few.open_probability["Na"] / 4, rel=1e-9)
    assert many.pore_factor["Na"] == 1.0 and many.open_probability["K"] == GATING["K"].open_probability
    assert many.effective_permeability["Na"] == pytest.approx(0.05, rel=1e-9)
    tight = plan_channels(rel, GATING, D, free_sites=70, max_per_unit=40, min_per_type=16)
    assert sum(tight.counts.values()) <= 70 and tight.effective_permeability["Na"] == pytest.approx(0.05)


def test_a_slower_pore_type_keeps_its_permeability_with_more_channels():
    rel = {"K": 1.0, "Na": 0.05, "Cl": 0.45}
    slow = plan_channels(rel, GATING, D, free_sites=200, max_per_unit=40, pore_factor={"Na": 0.25})
    assert slow.counts["Na"] == 16 and slow.pore_factor["Na"] == 0.25
    assert slow.effective_permeability["Na"] == pytest.approx(0.05, rel=1e-9)


def test_a_permeability_that_could_not_be_met_is_reported_in_one_line():
    summary = {"channels_placed": {"Na": {"channels": 3, "open_probability_used": 1.0,
                                          "relative_permeability_asked": 0.4, "relative_permeability_achieved": 0.336}}}
    lines = notes(summary)
    assert len(lines) == 1 and "channels.Na.relative_permeability = 0.4 asked, 0.336 placed" in lines[0]
    summary["channels_placed"]["Na"]["relative_permeability_achieved"] = 0.3999
    assert notes(summary) == []


def test_the_jackknife_error_of_a_measured_ratio_sees_bunched_transits():
    """Independent transits: the block jackknife agrees with Poisson. Transits in bunches of 5 (a
    channel's open bout letting several through): it is √5 larger, where Poisson would not move."""
    import numpy as np

    from simulation.core.statistics import permeability_ratio_sem

    rng = np.random.default_rng(3)
    blocks, reps = 12, 400
    den = {"K": np.full(blocks, 1.0), "Na": np.full(blocks, 1.0)}
    for bunch in (1, 5):
        ses, ratios = [], []
        for _ in range(reps):
            counts = {"K": rng.poisson(2000.0, blocks).astype(float),
                      "Na": bunch * rng.poisson(200.0 / bunch, blocks).astype(float)}
            ratios.append(counts["Na"].sum() / counts["K"].sum())
            ses.append(permeability_ratio_sem(counts, den)["Na"])
        true_sd = np.std(ratios)
        poisson = 0.1 * np.sqrt(1 / 2400 + 1 / 24000)
        assert np.mean(ses) == pytest.approx(true_sd, rel=0.1)
        assert true_sd == pytest.approx(poisson * np.sqrt(bunch), rel=0.1)


def test_a_gated_type_gets_whole_channels_all_open_and_is_not_spread():
    """A voltage-gated type's permeability is that of all its channels open: the nearest whole
    number of channels (its open probability is its gates'), never spread over more."""
    kir = ChannelType("Kir", "K", "kir", 0.5, 1.0, 0.0, 1.0, {"v_shift_mV": 10.0, "slope_mV": 8.0,
                                                            "time_constant_ns": 5.0})
    plan = plan_channels({"K": 0.2, "Na": 0.05}, GATING, D, free_sites=1000, max_per_unit=40, min_per_type=16,
                         gated=[kir])
    unit = 40 * 0.9 * 1.96
    assert plan.counts["Kir"] == round(0.5 * unit / 1.96) == 18
    assert plan.open_probability["Kir"] == 1.0
    assert plan.effective_permeability["Kir"] == pytest.approx(18 * 1.96 / unit)
    assert plan.counts["Na"] == 16     # the leak type is spread, the gated one is not
    assert plan.per_ion([kir])["K"] == plan.effective_permeability["Kir"]
