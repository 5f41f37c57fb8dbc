"""The PyANNOW learning progression (steps 0–10) on the worm backends' output.

One concept per module: ``features`` (MuscleActivity -> frames, labels),
``splits`` (time-block held-out split), ``decode`` (scores -> onsets),
``svd``, ``procrustes``, ``primitives``, ``ridge``, ``mlp``, ``forest``,
``pinn_ode``, ``pinn_pde``, ``hybrid`` (the steps), ``optim`` (Adam then
L-BFGS with the MPI gradient allreduce), ``steps`` (each step as a function of
the training frames), ``progression`` (the F1 table, step 10's WAVs),
``training`` (jobs for ``pyannow-hpc train``). See docs/learning.md.
"""
