"""Where the golden cases find the model: the one place to follow when modules move."""
from particles.species import PERMEANT
from simulation.core.config import load  # noqa: F401
from simulation.core.model import Simulation  # noqa: F401
from simulation.headless.recorders import TimeseriesRecorder  # noqa: F401


def recorded_columns(rec) -> list[str]:
    """The names of a recorder's columns, in the order of its rows."""
    return rec.names


def model_arrays(sim) -> dict:
    """The membrane's state arrays (pores, gates, pumps) and the counters."""
    pores, pumps = sim.channels.pores, sim.transporters.arrays
    return {"pore_y0": pores.y0, "pore_species": pores.species, "pore_open": pores.is_open,
            "pump_phase": pumps.phase, "pump_slots": pumps.slots, "crossings": sim.crossings[:, list(PERMEANT)],
            "pump_totals": sim.pump_totals}
