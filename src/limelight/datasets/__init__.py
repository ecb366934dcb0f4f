"""Data sets and event files: MovieLens-100K (``movielens``), artwork variants for titles that
have none (``artwork``), and imports of JSON Lines, CSV and Parquet event files (``importer``).

Nothing is imported here, so ``import limelight.datasets`` stays cheap; import the module you
need. Data is fetched by our own code and never committed (DESIGN.md §7).
"""
