"""The live Pygame view: it reads the model's arrays and counters and calls its interventions.
The model never imports anything from here.
"""
