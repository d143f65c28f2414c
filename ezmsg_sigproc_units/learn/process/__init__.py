"""ezmsg-learn's ``process``: see ``ezmsg_sigproc_units.learn``."""
