"""The membrane: geometry, selective gated pores, the crossing rule, pump agents, the voltage and
the analytic theory shown beside the emergent potential. Never imports Pygame.
"""

import particles  # noqa: F401,E402 (first: it chooses where Numba caches the kernels defined here)
