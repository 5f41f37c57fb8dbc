"""The sweep and optimize config loaders share one reader: same errors, same results."""
import pytest

from pyannow_hpc import config as sweep_config
from pyannow_hpc.errors import ConfigError
from pyannow_hpc.optimize import config as opt_config

LOADERS = [sweep_config, opt_config]


@pytest.mark.parametrize("mod", LOADERS, ids=["sweep", "optimize"])
def test_bad_files_are_one_config_error(mod, tmp_path):
    with pytest.raises(ConfigError, match=r"^config file .*nope.toml does not exist$"):
        mod.load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"^cannot read config file .*: "):
        mod.load_config(tmp_path)  # a folder
    (tmp_path / "latin1.toml").write_bytes(b"model = \"\xe9\"\n")
    with pytest.raises(ConfigError, match=r"^cannot read config file .*latin1.toml: .*codec"):
        mod.load_config(tmp_path / "latin1.toml")
    (tmp_path / "bad.toml").write_text("model = [\n")
    with pytest.raises(ConfigError, match=r"bad.toml: not valid TOML: "):
        mod.load_config(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match=r"^<string>: not valid TOML: "):
        mod.loads_config("= 1")


@pytest.mark.parametrize("mod, example", [(sweep_config, "sweep_small.toml"), (opt_config, "optimize_quick.toml")],
                         ids=["sweep", "optimize"])
def test_file_and_text_load_the_same_config(mod, example, tmp_path):
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "examples" / example
    if not src.is_file():
        pytest.fail(f"example {src} is missing")
    text = src.read_text().replace('ledger = "', f'ledger = "{tmp_path}/')
    (tmp_path / example).write_text(text)
    from_file = mod.load_config(tmp_path / example)
    from_text = mod.loads_config(text, source=str(tmp_path / example))
    assert from_file == from_text and from_file.text == text and from_file.source == str(tmp_path / example)


def test_one_reader_serves_both():
    assert opt_config.loads_toml is sweep_config.loads_toml
    assert opt_config.read_config_text is sweep_config.read_config_text
