"""ezmsg-learn's ``nlin_model``: see ``ezmsg_sigproc_units.learn``."""
