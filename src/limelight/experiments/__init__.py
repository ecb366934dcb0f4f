"""Experiments: definitions, assignment, metrics and the statistics that judge them.

The Python API is :class:`limelight.experiments.service.Experiments` (reached from an Engine
with :func:`limelight.experiments.attach.attached`); the HTTP routes and
``limelight experiments ...`` are thin layers over it. One request's story, module by module:

* :mod:`.model`, :mod:`.metrics`, :mod:`.targeting`: experiments, metrics and targeting as data;
* :mod:`.assignment`: deterministic hashing, layers and the global holdout;
* :mod:`.lifecycle`, :mod:`.store`: what may change in each state; the tables;
* :mod:`.measure`: per-unit metric values in SQL over the events table;
* :mod:`.analysis`, :mod:`.timeline`, :mod:`.reporting`: tests, corrections, SRM, devices, days;
* :mod:`.report`, :mod:`.plots`: JSON, text and PNG.

The statistics engine lives in :mod:`limelight.experiments.stats`; it works on sufficient
statistics only, so it never needs the raw events and can be checked against GrowthBook's
``gbstats`` on identical inputs. This package imports nothing at import time, so that the
statistics stay importable without the storage layer.
"""
