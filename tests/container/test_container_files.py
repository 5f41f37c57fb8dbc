"""containers/: what can be checked without a Docker engine or Apptainer --
every path the recipes copy exists, both recipes install the same thing, the
Slurm script is valid bash and fails cleanly, and the docs show real commands."""
import os
import re
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
C = ROOT / "containers"


def _dockerfile_instructions():
    text = (C / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    return [ln.strip() for ln in joined.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def test_dockerfile_copies_existing_paths_and_installs_the_package():
    ins = _dockerfile_instructions()
    assert ins[0].startswith("FROM python:3.11-slim")
    known = {"FROM", "RUN", "ENV", "WORKDIR", "COPY", "ENTRYPOINT", "CMD"}
    assert all(i.split()[0] in known for i in ins)
    copies = [shlex.split(i)[1:-1] for i in ins if i.startswith("COPY")]
    for srcs in copies:
        for s in srcs:
            assert (ROOT / s).exists(), f"Dockerfile COPY {s}: not in the repo"
    run = " ".join(i for i in ins if i.startswith("RUN"))
    assert 'pip install ".[mpi,c302]"' in run and "default-jre-headless" in run and "build-essential" in run
    assert 'ENTRYPOINT ["pyannow-hpc"]' in ins


def test_apptainer_def_matches_the_dockerfile():
    text = (C / "pyannow.def").read_text()
    assert re.search(r"^Bootstrap: docker\nFrom: python:3.11-slim-bookworm$", text, re.M)
    files = re.search(r"%files\n(.*?)\n\n", text, re.S).group(1)
    for line in files.splitlines():
        src, dst = line.split()
        assert (ROOT / src).exists() and dst.startswith("/opt/pyannow_hpc/")
    assert 'pip install ".[mpi,c302]"' in text and "default-jre-headless" in text
    assert "exec pyannow-hpc \"$@\"" in text


def test_recipe_extras_exist_in_pyproject():
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"mpi", "c302"} <= set(extras)


def test_sbatch_script_is_valid_and_fails_cleanly_without_image(tmp_path):
    script = C / "sweep_apptainer.sbatch"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    p = subprocess.run(["bash", str(script), "run.toml"], cwd=tmp_path, capture_output=True, text=True,
                       env=dict(os.environ, PYANNOW_SIF=str(tmp_path / "missing.sif")))
    assert p.returncode == 2 and "apptainer build --fakeroot pyannow.sif containers/pyannow.def" in p.stderr
    body = script.read_text()
    assert 'srun --mpi="$PYANNOW_SRUN_MPI" apptainer exec' in body and "pyannow-hpc sweep" in body


def test_sbatch_script_runs_the_documented_command_line(tmp_path):
    """With stand-in srun/apptainer on PATH, check the exact argv the job would run."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "argv.txt"
    for tool in ("srun", "apptainer"):
        (bin_ / tool).write_text(f'#!/bin/sh\nprintf "%s\\n" "{tool}" "$@" >> {log}\n')
        (bin_ / tool).chmod(0o755)
    (tmp_path / "pyannow.sif").write_bytes(b"SIF")
    p = subprocess.run(["bash", str(C / "sweep_apptainer.sbatch"), "run.toml"], cwd=tmp_path, capture_output=True,
                       text=True, env=dict(os.environ, PATH=f"{bin_}:{os.environ['PATH']}"))
    assert p.returncode == 0, p.stderr
    argv = log.read_text().splitlines()
    assert argv == ["srun", "--mpi=pmi2", "apptainer", "exec", "--bind", str(tmp_path), "--pwd", str(tmp_path),
                    str(tmp_path / "pyannow.sif"), "pyannow-hpc", "sweep", "run.toml", "--no-progress"]


def test_docs_reference_existing_files():
    doc = (C / "README.md").read_text()
    for path in re.findall(r"(containers/[\w./-]+|examples/[\w./-]+|scripts/[\w./-]+)", doc):
        assert (ROOT / path.rstrip(".")).exists(), path
