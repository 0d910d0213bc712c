"""The live Pygame view: it reads the model's arrays and counters and calls its interventions.
The model never imports anything from here.
"""

import particles  # noqa: F401,E402 (first: it chooses where Numba caches the kernels defined here)
