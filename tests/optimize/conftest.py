import dataclasses

import pytest

from pyannow_hpc.optimize.config import loads_config

QUICK = """
method = "{method}"
backend = "{backend}"
model = "boyle2008"
[params]
g_ca_boyle = {{ range = [0.3, 1.5], scale = "log" }}
drive_freq_hz = {{ range = [1.2, 1.8] }}
time_offset_s = {{ range = [-0.25, 0.25] }}
[simulation]
duration_s = {duration}
burn_in_s = 0.2
[budget]
max_iterations = {iters}
[cmaes]
popsize = 4
[bo]
batch_size = 2
n_startup = 3
[evaluate]
later_windows = 1
other_seeds = 1
n_shifts = 20
landscape_points = 0
metrics_every = 2
[output]
ledger = "{ledger}"
"""


@pytest.fixture
def make_cfg(tmp_path):
    def make(method="cmaes", backend="native", duration=2.0, iters=3, ledger=None, **loss):
        text = QUICK.format(method=method, backend=backend, duration=duration, iters=iters,
                            ledger=ledger or str(tmp_path / f"{method}.h5"))
        cfg = loads_config(text)
        if loss:
            cfg = dataclasses.replace(cfg, loss=dataclasses.replace(cfg.loss, **loss))
        return cfg
    return make
