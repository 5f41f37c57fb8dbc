import pytest

from sweep_config import sweep_toml
from pyannow_hpc.config import load_config, loads_config
from pyannow_hpc.errors import ConfigError

BASE = sweep_toml("out/x.h5", n_samples=8,
                  params={"g_egl19": {"range": [1.0, 20.0], "scale": "log"}, "tau_ca_ms": [5, 40]})


def test_valid_config_parses_with_units_and_defaults():
    cfg = loads_config(BASE)
    assert cfg.param_names == ("g_egl19", "tau_ca_ms")
    assert cfg.params[0].scale == "log" and cfg.params[0].lower == 1.0
    # tau_ca_ms takes the parameter space's own scale (log) when none is given
    assert cfg.params[1].scale == "log"
    assert cfg.simulation.duration_s == 10.0 and cfg.sampler.n_samples == 8
    assert cfg.report_dir == "out/x_report"
    assert not cfg.isolate_tasks


def test_default_model_and_onsets_follow_the_evidence():
    cfg = loads_config('[params]\ndrive_g_syn = [0.07, 0.12]\n')
    assert cfg.model == "boyle2008" and cfg.simulation.onset_method == "threshold"
    seed = loads_config(BASE)
    assert seed.simulation.onset_method == "crest"  # the seed cell keeps the seed's detector
    assert loads_config(BASE.replace("[output]", "[simulation]\nonset_method = \"threshold\"\n[output]")
                        ).simulation.onset_method == "threshold"


@pytest.mark.parametrize(
    "edit, message",
    [
        (("[sampler]", "[sampler]\nn_sample = 3"), "unknown key 'n_sample' (did you mean 'n_samples'?)"),
        (('backend = "native"', 'backend = "native"\nbakend = 1'), "did you mean 'backend'"),
        (("tau_ca_ms = [5, 40]", "tau_ca = [5, 40]"), "unknown parameter 'tau_ca'"),
        (("tau_ca_ms = [5, 40]", "tau_ca_ms = [40, 5]"), "empty or inverted"),
        (("tau_ca_ms = [5, 40]", "tau_ca_ms = [5, 5]"), "empty or inverted"),
        (("tau_ca_ms = [5, 40]", "tau_ca_ms = [5, 400]"), "leaves the model's bounds [1, 80]"),
        (("tau_ca_ms = [5, 40]", 'tau_ca_ms = { range = [5, 40], scale = "cubic" }'), "scale must be"),
        (("tau_ca_ms = [5, 40]", 'g_nca = { range = [0, 1], scale = "log" }'), "log range needs lower > 0"),
        (('method = "sobol"', 'method = "halton"'), "sobol, lhs, grid, random"),
        (("n_samples = 8", "n_samples = 0"), "n_samples must be >= 1"),
        (("n_samples = 8", 'n_samples = "8"'), "must be int"),
        (('backend = "native"', 'backend = "gpu"'), "unknown backend 'gpu'"),
        (("[output]", "[output]\nflush_every_s = nan"), "finite number"),
        (("[output]", "[fixed]\ng_egl19 = 3\n[output]"), "both varied"),
        (("[output]", "[fixed]\ng_exp2 = 99\n[output]"), "outside its bounds"),
        (("[output]", "[shard]\nindex = 2\ncount = 2\n[output]"), "shard 2/2 is invalid"),
        (("[sampler]", "[sampler]\n[sampler]"), "not valid TOML"),
    ],
)
def test_bad_configs_fail_with_one_clear_line(edit, message):
    old, new = edit
    assert old in BASE
    with pytest.raises(ConfigError) as err:
        loads_config(BASE.replace(old, new, 1), source="run.toml")
    text = str(err.value)
    assert message in text and "\n" not in text
    assert text.startswith("run.toml") or "run.toml" in text or "TOML" in text


def test_no_params_is_an_error():
    with pytest.raises(ConfigError, match="at least one parameter"):
        loads_config('backend = "native"')


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_hash_tracks_science_not_outputs():
    a = loads_config(BASE)
    b = loads_config(BASE.replace('ledger = "out/x.h5"', 'ledger = "elsewhere.h5"\ntop_k = 3'))
    c = loads_config(BASE.replace("n_samples = 8", "n_samples = 9"))
    d = loads_config(BASE.replace("[output]", "[simulation]\ndt_ms = 0.25\n[output]"))
    assert a.config_hash() == b.config_hash()
    assert len({a.config_hash(), c.config_hash(), d.config_hash()}) == 3


def test_crash_prone_backends_are_isolated_by_default():
    # BASE varies tau_ca_ms, which C302 cannot apply: allowed only with ignore_unmapped
    assert loads_config("ignore_unmapped = true\n" + BASE.replace('"native"', '"c302"')).isolate_tasks
    assert loads_config(BASE + "[scheduler]\nisolate = true\n").isolate_tasks


def test_example_configs_are_valid():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "examples"
    files = sorted(root.glob("sweep_*.toml"))
    assert len(files) >= 2
    for f in files:
        cfg = load_config(f)
        assert cfg.params and cfg.output.ledger
