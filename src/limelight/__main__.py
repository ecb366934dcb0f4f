"""``python -m limelight`` runs the CLI (the same as the ``limelight`` console script)."""

from limelight.cli import main

if __name__ == "__main__":
    main()
