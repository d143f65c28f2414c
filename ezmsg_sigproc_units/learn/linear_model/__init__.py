"""ezmsg-learn's ``linear_model``: see ``ezmsg_sigproc_units.learn``."""
