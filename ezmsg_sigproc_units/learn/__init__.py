"""Adaptive decoders on every backend, under ezmsg-learn's submodule paths.

``ezmsg.learn.process.ssr`` becomes ``ezmsg_sigproc_units.learn.process.ssr``: class names,
settings fields and defaults are ezmsg-learn 1.16.2's. Every decoder computes in the input's
array namespace and on its device; nothing here imports scikit-learn, river or pandas, except
``learn.process.sklearn``, the one explicit NumPy boundary that hosts an estimator object.

Importing this package is cheap: it imports no submodule.
"""
