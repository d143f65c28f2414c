"""ezmsg-learn's ``collection``: see ``ezmsg_sigproc_units.learn``."""
