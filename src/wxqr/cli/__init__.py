"""The ``wxqr`` command line: thin adapters over the service layer."""
