"""ezmsg-learn's ``dim_reduce``: see ``ezmsg_sigproc_units.learn``."""
