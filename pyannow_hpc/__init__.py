"""pyannow_hpc: can a simulated C. elegans play Chopin? (HPC edition)

Layout: :mod:`pyannow_hpc.params` (the parameter space), :mod:`pyannow_hpc.worm`
(backends), :mod:`pyannow_hpc.music` (targets, metrics, synthesis),
:mod:`pyannow_hpc.parallel` (MPI), :mod:`pyannow_hpc.store` (HDF5 ledger),
:mod:`pyannow_hpc.learn` (the PyANNOW steps), :mod:`pyannow_hpc.report`.
"""
__version__ = "0.1.0"
