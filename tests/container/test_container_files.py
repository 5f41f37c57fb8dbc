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
    assert ins[:2] == ["ARG BASE_IMAGE=python:3.11-slim-bookworm", "FROM ${BASE_IMAGE}"]
    known = {"ARG", "FROM", "RUN", "ENV", "WORKDIR", "COPY", "ENTRYPOINT", "CMD"}
    assert all(i.split()[0] in known for i in ins)
    assert {"ARG PYANNOW_GPU=0", "ARG MPI4JAX_CUDA_PATH=/usr/local/cuda"} <= set(ins)
    copies = [shlex.split(i)[1:-1] for i in ins if i.startswith("COPY")]
    for srcs in copies:
        for s in srcs:
            assert (ROOT / s).exists(), f"Dockerfile COPY {s}: not in the repo"
    run = " ".join(i for i in ins if i.startswith("RUN"))
    assert "default-jre-headless" in run and "build-essential" in run and "python3 -m venv /opt/venv" in run
    assert "PYANNOW_GPU=${PYANNOW_GPU} MPI4JAX_CUDA_PATH=${MPI4JAX_CUDA_PATH} sh containers/install.sh" in run
    assert 'ENTRYPOINT ["pyannow-hpc"]' in ins
    # the build arguments are documented in the header with a GPU build command
    head = (C / "Dockerfile").read_text().split("ARG BASE_IMAGE")[0]
    assert "--build-arg BASE_IMAGE=nvidia/cuda:12.6.3-devel-ubuntu24.04 --build-arg PYANNOW_GPU=1" in head
    assert all(f"#   {a}" in head for a in ("BASE_IMAGE", "PYANNOW_GPU", "MPI4JAX_CUDA_PATH"))


def test_apptainer_def_matches_the_dockerfile():
    text = (C / "pyannow.def").read_text()
    assert re.search(r"^Bootstrap: docker\nFrom: \{\{ BASE_IMAGE \}\}$", text, re.M)
    args = re.search(r"%arguments\n(.*?)\n\n", text, re.S).group(1).split()
    assert args == ["BASE_IMAGE=python:3.11-slim-bookworm", "PYANNOW_GPU=0", "MPI4JAX_CUDA_PATH=/usr/local/cuda"]
    files = re.search(r"%files\n(.*?)\n\n", text, re.S).group(1)
    for line in files.splitlines():
        src, dst = line.split()
        assert (ROOT / src).exists() and dst.startswith("/opt/pyannow_hpc/")
    assert "PYANNOW_GPU={{ PYANNOW_GPU }} MPI4JAX_CUDA_PATH={{ MPI4JAX_CUDA_PATH }} sh containers/install.sh" in text
    assert "default-jre-headless" in text and "python3 -m venv /opt/venv" in text
    assert "exec pyannow-hpc \"$@\"" in text


def _install_stubs(tmp_path, cuda_headers: bool):
    """Run containers/install.sh with stand-in pip, mpicc, pyannow-hpc and python that record their argv/env."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "calls.log"
    rec = f'#!/bin/sh\necho "$(basename "$0") $* | CUDA_PATH=${{CUDA_PATH:-}} MPICC=${{MPI4JAX_BUILD_MPICC:-}}" >> {log}\n'
    for tool in ("pip", "mpicc", "pyannow-hpc", "python"):
        (bin_ / tool).write_text(rec)
        (bin_ / tool).chmod(0o755)
    cuda = tmp_path / "cuda"
    if cuda_headers:
        (cuda / "include").mkdir(parents=True)
        (cuda / "include" / "cuda_runtime_api.h").write_text("")
    src = tmp_path / "src"
    (src / "pyannow_hpc" / "_native").mkdir(parents=True)
    return bin_, log, cuda, src


def _run_install(tmp_path, bin_, src, **env):
    return subprocess.run(["sh", str(C / "install.sh")], cwd=src, capture_output=True, text=True,
                          env={"PATH": f"{bin_}:/usr/bin:/bin", **env})


def test_install_script_cpu_build_gets_an_empty_cuda_path(tmp_path):
    bin_, log, _, src = _install_stubs(tmp_path, cuda_headers=False)
    p = _run_install(tmp_path, bin_, src)
    assert p.returncode == 0, p.stderr
    calls = [c.split(" | ")[0] for c in log.read_text().splitlines()]
    assert calls == ['pip install .[mpi-build]', 'pip install --no-build-isolation --no-binary mpi4jax .[mpi,c302]',
                     "pyannow-hpc --version"]
    build = log.read_text().splitlines()[1]
    assert build.endswith(f" | CUDA_PATH={src}/build/no-cuda MPICC={bin_}/mpicc")
    assert (src / "build" / "no-cuda").is_dir() and not any((src / "build" / "no-cuda").iterdir())


def test_install_script_gpu_build_uses_the_cuda_extra_and_toolkit(tmp_path):
    bin_, log, cuda, src = _install_stubs(tmp_path, cuda_headers=True)
    p = _run_install(tmp_path, bin_, src, PYANNOW_GPU="1", MPI4JAX_CUDA_PATH=str(cuda))
    assert p.returncode == 0, p.stderr
    lines = log.read_text().splitlines()
    assert lines[1] == (f"pip install --no-build-isolation --no-binary mpi4jax .[mpi,c302,cuda] | "
                        f"CUDA_PATH={cuda} MPICC={bin_}/mpicc")
    # and checks that mpi4jax's CUDA bridge was really built
    assert lines[-1].startswith("python -c import importlib.util") and "mpi_xla_bridge_cuda" in lines[-1]
    # no toolkit: one clear line and no build
    log.unlink()
    p = _run_install(tmp_path, bin_, src, PYANNOW_GPU="1", MPI4JAX_CUDA_PATH=str(tmp_path / "none"))
    assert p.returncode == 2 and "needs a CUDA toolkit" in p.stderr and p.stderr.count("\n") == 1
    assert not log.exists()


SLURM = ROOT / "scripts" / "slurm"


def _gpu_stubs(tmp_path, backend="gpu"):
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "argv.txt"
    rec = f'#!/bin/sh\necho "$(basename "$0") $*" >> {log}\n'
    (bin_ / "srun").write_text(rec)
    # the image's python answers the JAX backend question; everything else is recorded
    (bin_ / "apptainer").write_text(rec + f'case "$*" in *"python -c"*) echo {backend};; esac\n')
    (bin_ / "nvidia-smi").write_text('#!/bin/sh\necho "NVIDIA H200, 143771 MiB"\n')
    for f in bin_.iterdir():
        f.chmod(0o755)
    sif = tmp_path / "pyannow-cuda12.sif"
    sif.write_bytes(b"SIF")
    return bin_, log, sif


def _sbatch(script, tmp_path, bin_, *args, **env):
    return subprocess.run(["bash", str(SLURM / script), *args], cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": f"{bin_}:/usr/bin:/bin", "HOME": str(tmp_path), **env}, timeout=30)


def test_gpu_sbatch_scripts_run_in_the_gpu_image(tmp_path):
    bin_, log, sif = _gpu_stubs(tmp_path)
    p = _sbatch("train_gpu.sbatch", tmp_path, bin_, "--ledger", "s.h5", PYANNOW_SIF=str(sif))
    assert p.returncode == 0, p.stderr
    img = ["apptainer", "exec", "--nv", "--bind", str(tmp_path), "--pwd", str(tmp_path), str(sif)]
    check, train = log.read_text().splitlines()
    assert check.split() == [*img, "python", "-c", "import", "jax;", "print(jax.default_backend())"]
    assert train.split() == ["srun", *img, "pyannow-hpc", "train", "--ledger", "s.h5"]
    log.unlink()
    p = _sbatch("optimize_gpu.sbatch", tmp_path, bin_, "opt.toml", PYANNOW_SIF=str(sif))
    assert p.returncode == 0, p.stderr
    opt = log.read_text().splitlines()[-1].split()
    assert opt == ["srun", "--kill-on-bad-exit=1", "--mpi=pmi2", *img, "pyannow-hpc", "optimize", "opt.toml", "--no-progress"]
    headers = re.findall(r"^#SBATCH (\S+)", (SLURM / "optimize_gpu.sbatch").read_text(), re.M)
    assert "--gpus-per-task=1" in headers and "--ntasks=2" in headers


def test_gpu_sbatch_scripts_refuse_cpu_jax_and_a_missing_image(tmp_path):
    bin_, log, sif = _gpu_stubs(tmp_path, backend="cpu")
    p = _sbatch("optimize_gpu.sbatch", tmp_path, bin_, "opt.toml", PYANNOW_SIF=str(sif))
    assert p.returncode == 3 and "JAX sees no GPU" in p.stderr
    assert not any(line.startswith("srun") for line in log.read_text().splitlines())
    p = _sbatch("train_gpu.sbatch", tmp_path, bin_, PYANNOW_SIF=str(tmp_path / "missing.sif"))
    assert p.returncode == 2 and "--build-arg PYANNOW_GPU=1" in p.stderr
    p = _sbatch("optimize_gpu.sbatch", tmp_path, bin_)
    assert p.returncode == 2 and "usage:" in p.stderr


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
    assert 'srun --kill-on-bad-exit=1 --mpi="$PYANNOW_SRUN_MPI" apptainer exec' in body and "pyannow-hpc sweep" in body


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
    assert argv == ["srun", "--kill-on-bad-exit=1", "--mpi=pmi2", "apptainer", "exec", "--bind", str(tmp_path), "--pwd", str(tmp_path),
                    str(tmp_path / "pyannow.sif"), "pyannow-hpc", "sweep", "run.toml", "--no-progress"]


def test_docs_reference_existing_files():
    doc = (C / "README.md").read_text()
    for path in re.findall(r"(containers/[\w./-]+|examples/[\w./-]+|scripts/[\w./-]+)", doc):
        assert (ROOT / path.rstrip(".")).exists(), path
