"""timedify-ops' own measurements: the tables every process adds to, the in-memory recorder
(measure), and the database query telemetry (queries)."""
