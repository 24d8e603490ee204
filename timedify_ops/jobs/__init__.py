"""Background jobs: the schedule registry, JobRun, run now / pause / resume, sync_schedules."""
