"""Where the golden cases find the model: the one place to follow when modules move."""
from simulation.config import load  # noqa: F401
from simulation.model import Simulation  # noqa: F401
from simulation.recorders import TimeseriesRecorder  # noqa: F401


def model_arrays(sim) -> dict:
    """The membrane's state arrays (pores, gates, pumps) and the counters."""
    return {"pore_y0": sim.pore_y0, "pore_species": sim.pore_species, "pore_open": sim.pore_open,
            "pump_phase": sim.pump_phase, "pump_slots": sim.pump_slots, "crossings": sim.crossings,
            "pump_totals": sim.pump_totals}
