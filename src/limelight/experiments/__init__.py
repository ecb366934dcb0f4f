"""Experiments: definitions, assignment, metrics and the statistics that judge them.

The statistics engine lives in :mod:`limelight.experiments.stats`; it works on sufficient
statistics only, so it never needs the raw events and can be checked against GrowthBook's
``gbstats`` on identical inputs.
"""
