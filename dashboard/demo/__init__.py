"""`manage.py seed_demo`: a realistic week of history for a demo (see seed.py).

plan.py invents the week's traffic in memory (no database, deterministic for a seed);
seed.py writes it, and everything that follows from it, through the project's own services.
"""
