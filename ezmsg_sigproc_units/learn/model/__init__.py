"""ezmsg-learn's ``model``: see ``ezmsg_sigproc_units.learn``."""
