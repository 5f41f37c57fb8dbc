"""The ion-channel learning loop (``pyannow-hpc optimize``), one concept per module:

config      the TOML schema            space       unit cube <-> parameters (log, per-muscle)
simulators  the JAX cells, one seam    loss        1 - soft Dice of onset densities (+ offset)
objective   windows, one evaluation    scores      F1s beside their nulls (music.nulls)
gradient    optax Adam / L-BFGS, MPI   cmaes       pycma + IPOP
nelder_mead scipy, by replay           bo          Optuna ask/tell
prior       lambda_s Mahalanobis^2     ledger      HDF5, atomic per-iteration flush
runner      the loop, resume, ranks    result      before/after on unseen time, ablation
landscape   loss along each parameter  report      what a run writes at the end
"""
