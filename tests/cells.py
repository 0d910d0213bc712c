"""Small cells the tests share: the mammalian geometry shrunk so a test runs in seconds."""

TINY = ["box.height_nm=160", "box.width_nm=36", "box.membrane_x_nm=18", "membrane.site_spacing_nm=4",
        "pump.capture_radius_nm=1.5", "membrane.channels_per_unit_permeability=20", "physics.particles=4000",
        "physics.capacitance_e_per_mV=0.5", "pump.count=6"]
