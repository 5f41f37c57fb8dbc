"""A real single-node Slurm for the ``slurm`` tier, started once per session.

Debian's slurm-wlm (scripts/install_system_deps.sh installs it) runs from a
slurm.conf written into a temp dir: no munge (``auth/none``, ``cred/none``),
the node at 127.0.0.1, free TCP ports picked at start so two test sessions
never collide, and every state, spool, pid and log file under the temp dir.
``slurmctld -D`` and ``slurmd -D`` run in the foreground as children of the
test process, so teardown stops exactly them (SIGTERM, wait, SIGKILL).

``SlurmdParameters=config_overrides`` makes slurmd trust the declared CPU
count, so a 2-core CI box can run a 2-rank job next to an array shard.
"""
from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DECLARED_CPUS = 4
START_TIMEOUT_S = 30.0


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def slurm_conf(root: Path, ctld_port: int, slurmd_port: int, user: str) -> str:
    return f"""# written by tests/slurm/conftest.py
ClusterName=pyannowtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/none
CredType=cred/none
SlurmUser={user}
SlurmdUser={user}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
SchedulerType=sched/builtin
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SwitchType=switch/none
MailProg=/bin/true
KillWait=5
MinJobAge=300
EnforcePartLimits=ALL
NodeName=localhost NodeAddr=127.0.0.1 CPUs={DECLARED_CPUS} RealMemory=16000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
"""


TERMINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE"}
TRANSIENT_REASONS = {"None", "Priority", "Resources", "Dependency", "BeginTime", "JobArrayTaskLimit", None}


@dataclass(frozen=True)
class JobResult:
    job_id: str
    states: list[str]  # one per array element (one for a plain job)
    exit_codes: list[int]

    @property
    def ok(self) -> bool:
        return all(s == "COMPLETED" for s in self.states) and not any(self.exit_codes)


@dataclass
class SlurmCluster:
    root: Path
    conf: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 120, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
        try:
            proc = subprocess.run(list(args), env=self.env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            queue = subprocess.run(["squeue", "-o", "%i %T %r %C %m"], env=self.env, capture_output=True, text=True, timeout=10)
            raise AssertionError(
                f"{' '.join(args)} did not finish in {timeout} s; queue (id state reason cpus mem):\n{queue.stdout}"
                f"slurmctld log tail:\n{self.log_tail('slurmctld')}"
            ) from None
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}\n"
                f"slurmctld log tail:\n{self.log_tail('slurmctld')}\nslurmd log tail:\n{self.log_tail('slurmd')}"
            )
        return proc

    def submit(self, *sbatch_args: str, cwd: Path, timeout: float = 90) -> "JobResult":
        """``sbatch --parsable ARGS`` and wait until the job (every element of an
        array) has ended.

        Polls ``scontrol show job`` every 0.2 s instead of ``sbatch --wait``,
        whose poll interval doubles up to 32 s: that alone added ~30 s per job.
        A job that pends for a reason that never clears (a partition limit, bad
        dependency) fails at once with that reason.
        """
        jid = self.run("sbatch", "--parsable", *sbatch_args, cwd=cwd).stdout.strip().split(";")[0]
        outputs = [Path(cwd, a.split("=", 1)[1]) for a in sbatch_args if a.startswith("--output=")]
        return self.wait(jid, timeout, output=outputs[0] if outputs else None)

    def wait(self, job_id: str, timeout: float = 90, output: Path | None = None) -> "JobResult":
        deadline = time.monotonic() + timeout
        while True:
            out = self.run("scontrol", "-o", "show", "job", job_id, check=False, timeout=10).stdout
            jobs = [dict(f.split("=", 1) for f in line.split() if "=" in f) for line in out.splitlines() if line.strip()]
            states = [j.get("JobState", "?") for j in jobs]
            if jobs and all(s in TERMINAL_STATES for s in states):
                codes = [int(j.get("ExitCode", "0:0").split(":")[0]) for j in jobs]
                return JobResult(job_id, states, codes)
            stuck = [j.get("Reason") for j in jobs if j.get("JobState") == "PENDING" and j.get("Reason") not in TRANSIENT_REASONS]
            if stuck or time.monotonic() > deadline:
                queue = self.run("squeue", "-o", "%i %T %r %C %m", check=False, timeout=10).stdout
                raise AssertionError(
                    f"job {job_id} {'is stuck: ' + ', '.join(stuck) if stuck else f'did not end in {timeout} s'}\n"
                    f"queue (id state reason cpus mem):\n{queue}slurmctld log tail:\n{self.log_tail('slurmctld')}\n"
                    f"slurmd log tail:\n{self.log_tail('slurmd')}\n{self._stacks(job_id, output)}"
                )
            time.sleep(0.2)

    def _stacks(self, job_id: str, output: Path | None) -> str:
        """A job that overran: SIGABRT its steps' tasks (PYTHONFAULTHANDLER=1 makes
        each Python rank print every thread's stack to the job output), then the
        output's tail -- what each rank was doing, not just that it was slow."""
        self.run("scancel", "--signal=ABRT", job_id, check=False, timeout=10)
        time.sleep(3)
        if output is None or not output.exists():
            return "(no job output file)"
        return "job output tail:\n" + "\n".join(output.read_text(errors="replace").splitlines()[-80:])

    def log_tail(self, daemon: str, n: int = 15) -> str:
        p = self.root / "log" / f"{daemon}.log"
        return "\n".join(p.read_text(errors="replace").splitlines()[-n:]) if p.exists() else "(no log)"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def slurm(tmp_path_factory) -> SlurmCluster:
    missing = [t for t in ("slurmctld", "slurmd", "sbatch", "srun", "sinfo") if not shutil.which(t, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")]
    if missing:
        pytest.fail(f"Slurm is not installed (missing {', '.join(missing)}): run scripts/install_system_deps.sh as root")
    root = tmp_path_factory.mktemp("slurm")
    for d in ("state", "spool", "log"):
        (root / d).mkdir()
    ctld_port, slurmd_port = _free_ports(2)
    conf = root / "slurm.conf"
    conf.write_text(slurm_conf(root, ctld_port, slurmd_port, getpass.getuser()))
    env = dict(os.environ)
    venv_bin = str(Path(sys.executable).parent)
    env.update(
        SLURM_CONF=str(conf),
        PATH=f"{venv_bin}:{env.get('PATH', '')}:/usr/sbin:/sbin",
        PYANNOW_VENV=str(Path(sys.executable).parent.parent),
        OMP_NUM_THREADS="1",
        PYTHONFAULTHANDLER="1",  # a job that overruns dumps its ranks' stacks on SIGABRT (SlurmCluster._stacks)
    )
    cluster = SlurmCluster(root, conf, env)
    daemons: list[subprocess.Popen] = []
    logs = []

    def start(name: str, *flags: str) -> None:
        logs.append(open(root / "log" / f"{name}.stdout", "w"))
        exe = shutil.which(name, path=env["PATH"])
        daemons.append(subprocess.Popen([exe, "-D", *flags, "-f", str(conf)], env=env, stdout=logs[-1], stderr=subprocess.STDOUT))

    try:
        start("slurmctld", "-i")  # -i: ignore any saved state
        time.sleep(0.5)
        start("slurmd")
        deadline = time.monotonic() + START_TIMEOUT_S
        state = ""
        while time.monotonic() < deadline:
            for d in daemons:
                if d.poll() is not None:
                    pytest.fail(f"{d.args[0]} exited {d.returncode} at start:\n{cluster.log_tail('slurmctld')}\n{cluster.log_tail('slurmd')}")
            out = cluster.run("sinfo", "-h", "-N", "-o", "%t", check=False, timeout=10)
            state = out.stdout.strip()
            if state.startswith("idle"):
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"Slurm node never became idle (state {state!r}):\n{cluster.log_tail('slurmctld')}\n{cluster.log_tail('slurmd')}")
        yield cluster
    finally:
        for d in reversed(daemons):
            _stop(d)
        for fh in logs:
            fh.close()
