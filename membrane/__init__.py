"""The membrane: geometry, selective gated pores, the crossing rule, pump agents, the voltage and
the analytic theory shown beside the emergent potential. Never imports Pygame.
"""
