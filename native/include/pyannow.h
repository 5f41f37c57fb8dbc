/*
 * pyannow.h -- the one C ABI of pyannow_hpc's native library (libpyannow).
 *
 * Rules of this header (read before editing):
 *   - plain C99, plain structs, every exported symbol has the pw_ prefix;
 *   - any change to a struct layout or a function signature bumps
 *     PW_ABI_VERSION; the Python loader (pyannow_hpc/_native.py) refuses a
 *     library whose pw_abi_version() differs from the version it was written for;
 *   - units are in the field names (_ms, _mV, _hz) -- membrane currents are in
 *     uA/cm^2, conductances in mS/cm^2, capacitance in uF/cm^2, so g*dt(ms)/C is
 *     dimensionless;
 *   - functions return PW_OK (0) or a negative PW_E_* code, never abort().
 *
 * Sections: [core] [surrogate: pyannow seed cell] [surrogate: boyle2008 cell]
 *           [launcher: containers].  Each section is owned by one module of
 *           native/src/; keep edits inside your section.
 */
#ifndef PYANNOW_H
#define PYANNOW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PW_ABI_VERSION 1

#if defined(_WIN32)
#define PW_API __declspec(dllexport)
#else
#define PW_API __attribute__((visibility("default")))
#endif

/* ===================================================================== [core] */

enum pw_status {
    PW_OK = 0,
    PW_E_INVALID = -1,    /* bad argument (NaN, out of range, NULL buffer) */
    PW_E_CAPACITY = -2,   /* caller buffer too small; see the *_needed out-field */
    PW_E_NONFINITE = -3,  /* the state blew up to NaN/Inf during integration */
    PW_E_SYSTEM = -4,     /* an OS call failed (fork, exec, mkdtemp, ...) */
    PW_E_TIMEOUT = -5     /* a child process ran past its limit and was killed */
};

/* ABI version the library was built with; compared against PW_ABI_VERSION by
 * the loader. */
PW_API int pw_abi_version(void);
/* Human-readable build description (compiler, flags, SIMD width). */
PW_API const char *pw_build_info(void);
/* Message for a pw_status code. */
PW_API const char *pw_strerror(int status);

/* Counter-based normal generator shared with the JAX path
 * (pyannow_hpc/worm/rng.py implements the same function bit for bit up to
 * libm rounding): one standard-normal draw for (seed, counter). */
PW_API double pw_normal(uint64_t seed, uint64_t counter);

/* ======================================= [surrogate: pyannow seed cell] */

#define PW_N_SEGMENTS 24
#define PW_N_QUADRANTS 4
#define PW_N_MUSCLES 96 /* order: DL 0-23, VL 24-47, DR 48-71, VR 72-95 */

enum pw_integrator {
    PW_INTEGRATOR_EXPONENTIAL = 0, /* Rush-Larsen-type exponential update (default) */
    PW_INTEGRATOR_SEED_EULER = 1   /* the seed's forward Euler with clipping */
};

/* Channel parameters of the seed ("pyannow") Morris-Lecar-style cell. */
typedef struct pw_pyannow_params {
    double g_egl19;      /* EGL-19 L-type Ca conductance, mS/cm^2 */
    double v_half_ca_mV; /* half-activation of m_inf */
    double tau_ca_ms;    /* Ca gate time constant */
    double g_exp2;       /* EXP-2 K conductance */
    double g_nca;        /* NCA Na leak conductance */
    double g_leak;       /* leak conductance */
    double c_m_uF;       /* membrane capacitance */
    double e_ca_mV, e_k_mV, e_na_mV, e_leak_mV;
} pw_pyannow_params;

/* The travelling-wave drive, identical for both cell models:
 * I_j(t) = amp * max(sin(2 pi f t + phi_j), 0)^2 + noise_sd * N(0,1)  per step. */
typedef struct pw_drive {
    double amp_uA;          /* wave amplitude, uA/cm^2 */
    double freq_hz;         /* wave frequency */
    double noise_sd_uA;     /* sd of the per-step Gaussian current */
    double phase_rad[4];    /* phi_DL, phi_VL, phi_DR, phi_VR */
    uint64_t seed;          /* noise stream: pw_normal(seed, step*96 + muscle) */
} pw_drive;

typedef struct pw_sim_config {
    double dt_ms;
    int64_t n_steps;          /* integration steps */
    int32_t integrator;       /* enum pw_integrator */
    double coupling_g;        /* gap-junction-like coupling to segment s+-1 in the
                                 same quadrant, mS/cm^2; 0 = the seed's independent cells */
    int32_t record_every;     /* store state every k steps (k >= 1); sample i is
                                 the state after step i*k, sample 0 = the initial state */
    int32_t record_f32;       /* 1: *_out buffers are float, 0: double */
    double spike_thresh_mV;   /* upward crossing of V counts as a spike ... */
    double spike_refractory_ms; /* ... unless within this time of the last one */
} pw_sim_config;

typedef struct pw_sim_output {
    void *v_out;              /* [n_samples][96], or NULL to skip */
    void *m_out;              /* [n_samples][96], or NULL */
    void *n_out;              /* [n_samples][96], or NULL */
    int64_t n_samples;        /* capacity in samples (>= n_steps / record_every + 1) */
    int64_t *spike_step;      /* [spike_capacity] step count s+1 whose end state crossed
                                 (time = spike_step * dt_ms); NULL = no spike detection */
    int32_t *spike_muscle;    /* [spike_capacity] muscle index of each spike */
    int64_t spike_capacity;
    int64_t n_spikes;         /* out: spikes written */
    int64_t spikes_needed;    /* out: spikes found (> capacity means PW_E_CAPACITY) */
} pw_sim_output;

/* Integrate the 96-muscle surrogate with the seed cell (native/src/surrogate.c:
 * step semantics, integrators, coupling).  Spikes are written in step order,
 * muscle order within a step, i.e. time-sorted.  PW_E_INVALID for a NaN/inf or
 * out-of-range argument, PW_E_CAPACITY if spikes_needed > spike_capacity
 * (the first spike_capacity are written), PW_E_NONFINITE if V became NaN/inf. */
PW_API int pw_simulate_pyannow(const pw_pyannow_params *params, const pw_drive *drive,
                               const pw_sim_config *config, pw_sim_output *out);

/* ===================================== [surrogate: boyle2008 cell] */
/* Owned by native/src/boyle2008.c (issue 4).
 *
 * The Boyle & Cohen 2008 body-wall-muscle cell as c302 ships it (cell_C.xml,
 * parameters_C/C1/C2.py), one compartment:
 *   C dV/dt = g_ca e^2 f h (E_ca-V) + g_kf p^4 q (E_k-V) + g_ks n (E_k-V)
 *             + g_leak (E_leak-V) + g_syn s (E_syn-V) + I_stim + I_noise + I_coupling
 *   gates e,f,p,q,n: dx/dt = (x_inf(V) - x)/tau_x, fixed tau (Rush-Larsen update,
 *   then V with the new gates: see native/src/boyle2008.c);
 *   h = 1 + (h_inf([Ca]) - 1) alpha, instantaneous (customHGate);
 *   d[Ca]/dt = rho' g_ca e^2 f h (E_ca-V) - [Ca]/ca_decay,  [Ca] >= 0
 *   (NeuroML fixedFactorConcentrationModel, rho' = ca_rho * 1e-5 converts
 *    mol/(m A s) to mM/ms per uA/cm^2).
 * The drive is c302's graded neuron-to-muscle synapse fed by the body wave:
 *   s_inf_j(t) = max(sin(2 pi f t + phi_j), 0)^2,  ds/dt = (s_inf - s) k / (1 - s_inf).
 * pw_drive.amp_uA is NOT used by this cell (its amplitude is g_syn, a
 * conductance); freq_hz, noise_sd_uA, phase_rad and seed are. */
typedef struct pw_boyle2008_params {
    double g_ca_boyle;      /* EGL-19-like ca_boyle conductance, mS/cm^2 */
    double g_k_slow;        /* k_slow (n), mS/cm^2 */
    double g_k_fast;        /* k_fast (p^4 q), mS/cm^2 */
    double g_leak;          /* mS/cm^2 */
    double e_ca_mV, e_k_mV, e_leak_mV;
    double c_m_uF;          /* uF/cm^2 */
    double ca_decay_ms;     /* calcium pool decay time */
    double ca_rho;          /* pool factor, mol/(m A s) as in NeuroML */
    double v_init_mV;       /* initial V; gates start at x_inf(v_init), [Ca] at 0 */
    double g_syn;           /* peak conductance of the neuron-to-muscle drive, mS/cm^2 */
    double e_syn_mV;        /* its reversal potential */
    double syn_k_per_ms;    /* graded-synapse rate k (c302 exc_syn_k) */
    double i_step_uA;       /* current step injected into every cell, uA/cm^2 ... */
    double step_start_ms;   /* ... from this time ... */
    double step_stop_ms;    /* ... until this time (an IClamp, for NEURON comparisons) */
} pw_boyle2008_params;

/* Integrate the 96-muscle surrogate with the boyle2008 cell (exponential
 * integrator only: config->integrator must be PW_INTEGRATOR_EXPONENTIAL).
 * out->v_out and the spike buffers as for pw_simulate_pyannow; out->m_out and
 * out->n_out are ignored. ca_out: [n_samples][96] calcium in mM (float or
 * double per config->record_f32), or NULL. */
PW_API int pw_simulate_boyle2008(const pw_boyle2008_params *params, const pw_drive *drive,
                                 const pw_sim_config *config, pw_sim_output *out, void *ca_out);

/* ================================================ [launcher: containers] */
/* Owned by native/src/launcher.c (issue 6).  Runs one external program (docker,
 * apptainer, NEURON) the safe way: fork + execve with no shell, in a new
 * process group that is killed as a whole (SIGTERM, then SIGKILL) on timeout
 * or when the caller gets SIGINT/SIGTERM.  Additive to ABI 1 (new symbols only). */

typedef struct pw_launch_spec {
    const char *const *argv;  /* NULL-terminated; argv[0] is searched on PATH */
    const char *const *envp;  /* NULL-terminated environment, or NULL = inherit */
    const char *workdir;      /* the child chdir()s here; NULL = inherit */
    const char *stdout_path;  /* stdout captured to this file (truncated); NULL = /dev/null */
    const char *stderr_path;  /* same for stderr */
    double timeout_s;         /* wall-clock limit, > 0 */
    double kill_grace_s;      /* SIGTERM -> SIGKILL delay on timeout, >= 0 */
} pw_launch_spec;

typedef struct pw_launch_result {
    int32_t exit_code;     /* the child's exit status; -1 when a signal ended it */
    int32_t term_signal;   /* the signal that ended the child, 0 if none */
    int32_t timed_out;     /* 1 when the limit was hit and the group killed */
    int32_t caller_signal; /* SIGINT/SIGTERM the caller received while waiting, else 0 */
    int32_t exec_errno;    /* errno of a failed chdir/open/execve in the child, else 0 */
    int64_t pid;           /* the child's pid (= its process group id) */
    double wall_s;         /* seconds from fork to reaping */
} pw_launch_result;

/* Run spec->argv to completion.  PW_OK: it ran and exited (any exit code, see
 * result); PW_E_TIMEOUT: killed at the limit; PW_E_SYSTEM: fork/pipe failed,
 * the child could not start (result->exec_errno) or the caller was signalled
 * (result->caller_signal); PW_E_INVALID: bad spec (NULL/empty argv, argv[0]
 * not found on PATH: exec_errno = ENOENT, timeout not finite and > 0). */
PW_API int pw_launch(const pw_launch_spec *spec, pw_launch_result *result);

/* Resolve an executable name on PATH (or check a path with '/') into out.
 * PW_OK, PW_E_INVALID (not found / not executable), PW_E_CAPACITY. */
PW_API int pw_which(const char *name, char *out, size_t out_cap);

/* Create a fresh private directory base/prefixXXXXXX (mode 0700); path in out. */
PW_API int pw_task_dir_create(const char *base, const char *prefix, char *out, size_t out_cap);

/* Remove a directory tree without following symlinks (a link into a shared
 * cache is unlinked, its target kept).  Missing path: PW_OK. */
PW_API int pw_task_dir_remove(const char *path);

#ifdef __cplusplus
}
#endif
#endif /* PYANNOW_H */
