/* launcher.c -- run an external simulator (docker, apptainer, NEURON) safely.
 *
 * Why C and not subprocess: the same launcher serves every rank of an MPI job
 * and must (1) never involve a shell -- argv goes straight to execve, so a
 * parameter value can never be interpreted as shell syntax; (2) put the child
 * in its own process group so a timeout kills docker/apptainer/java and all
 * their children together; (3) do only async-signal-safe work between fork
 * and exec, because the parent (JAX, MPI) is multi-threaded.  PATH is
 * therefore resolved before fork and the child calls execve directly.
 */
#include "pyannow.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

extern char **environ;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_s(double s) {
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL); /* EINTR is fine: the caller's loop re-checks */
}

static int is_executable_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

PW_API int pw_which(const char *name, char *out, size_t out_cap) {
    if (!name || !*name || !out || out_cap == 0) return PW_E_INVALID;
    if (strchr(name, '/')) {
        if (!is_executable_file(name)) return PW_E_INVALID;
        if (strlen(name) + 1 > out_cap) return PW_E_CAPACITY;
        strcpy(out, name);
        return PW_OK;
    }
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    size_t name_len = strlen(name);
    const char *p = path;
    while (1) {
        const char *colon = strchr(p, ':');
        size_t dir_len = colon ? (size_t)(colon - p) : strlen(p);
        char cand[PATH_MAX];
        /* an empty PATH entry means the current directory (POSIX) */
        const char *dir = dir_len ? p : ".";
        size_t dl = dir_len ? dir_len : 1;
        if (dl + 1 + name_len + 1 <= sizeof cand) {
            memcpy(cand, dir, dl);
            cand[dl] = '/';
            memcpy(cand + dl + 1, name, name_len + 1);
            if (is_executable_file(cand)) {
                if (strlen(cand) + 1 > out_cap) return PW_E_CAPACITY;
                strcpy(out, cand);
                return PW_OK;
            }
        }
        if (!colon) break;
        p = colon + 1;
    }
    return PW_E_INVALID;
}

/* ---- the caller's SIGINT / SIGTERM while we wait ---------------------- */

static volatile sig_atomic_t g_caller_signal = 0;

static void on_caller_signal(int sig) { g_caller_signal = sig; }

/* Kill the whole group: polite first, then certain. */
static void kill_group(pid_t pgid, double grace_s, pid_t leader, int *status, int *reaped) {
    kill(-pgid, SIGTERM);
    double until = now_s() + grace_s;
    while (!*reaped && now_s() < until) {
        pid_t r = waitpid(leader, status, WNOHANG);
        if (r == leader) *reaped = 1;
        else sleep_s(0.01);
    }
    kill(-pgid, SIGKILL); /* also takes grandchildren that ignored SIGTERM */
    while (!*reaped) {
        pid_t r = waitpid(leader, status, 0);
        if (r == leader || (r < 0 && errno != EINTR)) *reaped = 1;
    }
}

/* Child side: only async-signal-safe calls from here to execve. */
static void child_exec(const char *exe, const pw_launch_spec *spec, int err_fd, pid_t parent) {
    int e;
#ifdef __linux__
    /* if our caller is SIGKILLed (a sweep's task timeout), the simulator
     * leader dies with it instead of running on as an orphan */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127); /* the caller died before prctl */
#else
    (void)parent;
#endif
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    /* Python ignores SIGPIPE and may have handlers; the simulator gets defaults */
    sigaction(SIGPIPE, &dfl, NULL);
    sigaction(SIGINT, &dfl, NULL);
    sigaction(SIGTERM, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);

    int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0) goto fail;
    const char *outs[2] = {spec->stdout_path, spec->stderr_path};
    for (int k = 0; k < 2; k++) {
        int fd = open(outs[k] ? outs[k] : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, k + 1) < 0) goto fail;
    }
    if (spec->workdir && chdir(spec->workdir) != 0) goto fail;
    execve(exe, (char *const *)spec->argv, (char *const *)(spec->envp ? spec->envp : (const char *const *)environ));
fail:
    e = errno;
    if (write(err_fd, &e, sizeof e) < 0) { /* nothing more we can do */
    }
    _exit(127);
}

PW_API int pw_launch(const pw_launch_spec *spec, pw_launch_result *result) {
    if (!spec || !result || !spec->argv || !spec->argv[0] || !spec->argv[0][0]) return PW_E_INVALID;
    memset(result, 0, sizeof *result);
    if (!(spec->timeout_s > 0) || !isfinite(spec->timeout_s) || !(spec->kill_grace_s >= 0) ||
        !isfinite(spec->kill_grace_s))
        return PW_E_INVALID;
    char exe[PATH_MAX];
    if (pw_which(spec->argv[0], exe, sizeof exe) != PW_OK) {
        result->exec_errno = ENOENT;
        return PW_E_INVALID;
    }

    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) return PW_E_SYSTEM;

    /* our handlers for the caller's Ctrl-C / scheduler SIGTERM while waiting;
     * the previous handlers (Python's) are restored before returning */
    struct sigaction ours, old_int, old_term;
    memset(&ours, 0, sizeof ours);
    ours.sa_handler = on_caller_signal;
    sigemptyset(&ours.sa_mask);
    g_caller_signal = 0;
    sigaction(SIGINT, &ours, &old_int);
    sigaction(SIGTERM, &ours, &old_term);

    double t0 = now_s();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        close(pfd[0]);
        close(pfd[1]);
        return PW_E_SYSTEM;
    }
    if (pid == 0) {
        close(pfd[0]);
        child_exec(exe, spec, pfd[1], parent);
    }
    setpgid(pid, pid); /* both sides call it: no race with an early kill */
    close(pfd[1]);
    result->pid = (int64_t)pid;

    /* did the child reach execve? the CLOEXEC pipe closes empty on success */
    int child_errno = 0;
    ssize_t got;
    do {
        got = read(pfd[0], &child_errno, sizeof child_errno);
    } while (got < 0 && errno == EINTR);
    close(pfd[0]);

    int status = 0, reaped = 0, rc = PW_OK;
    if (got == (ssize_t)sizeof child_errno) {
        result->exec_errno = child_errno;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        reaped = 1;
        rc = PW_E_SYSTEM;
    } else {
        double deadline = t0 + spec->timeout_s, nap = 0.002;
        while (!reaped) {
            pid_t r = waitpid(pid, &status, WNOHANG);
            if (r == pid) {
                reaped = 1;
                break;
            }
            if (g_caller_signal) {
                result->caller_signal = g_caller_signal;
                kill_group(pid, spec->kill_grace_s, pid, &status, &reaped);
                rc = PW_E_SYSTEM;
                break;
            }
            if (now_s() >= deadline) {
                result->timed_out = 1;
                kill_group(pid, spec->kill_grace_s, pid, &status, &reaped);
                rc = PW_E_TIMEOUT;
                break;
            }
            sleep_s(nap);
            if (nap < 0.05) nap *= 1.5; /* poll fast for short runs, gently for long ones */
        }
    }
    /* the leader is gone; leftovers in its group (a daemonised helper, a
     * stuck grandchild) must not outlive the task */
    kill(-pid, SIGKILL);
    result->wall_s = now_s() - t0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    if (WIFEXITED(status)) {
        result->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result->exit_code = -1;
        result->term_signal = WTERMSIG(status);
    }
    return rc;
}

/* ---- per-task directories ---------------------------------------------- */

PW_API int pw_task_dir_create(const char *base, const char *prefix, char *out, size_t out_cap) {
    if (!base || !*base || !prefix || !out) return PW_E_INVALID;
    if (strchr(prefix, '/')) return PW_E_INVALID;
    int n = snprintf(out, out_cap, "%s/%sXXXXXX", base, prefix);
    if (n < 0 || (size_t)n >= out_cap) return PW_E_CAPACITY;
    if (!mkdtemp(out)) return PW_E_SYSTEM;
    return PW_OK;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    /* FTW_DP: a directory after its contents; everything else (files, and
     * symlinks, which FTW_PHYS never follows) is unlinked */
    int r = (flag == FTW_DP) ? rmdir(path) : unlink(path);
    return (r == 0 || errno == ENOENT) ? 0 : -1;
}

PW_API int pw_task_dir_remove(const char *path) {
    if (!path || !*path || strcmp(path, "/") == 0) return PW_E_INVALID;
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? PW_OK : PW_E_SYSTEM;
    if (!S_ISDIR(st.st_mode)) return unlink(path) == 0 ? PW_OK : PW_E_SYSTEM;
    return nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS) == 0 ? PW_OK : PW_E_SYSTEM;
}
