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
 *   - functions return PW_OK (0) or a negative PW_E_* code, never abort();
 *   - every struct has a field table ([fields]); a new field goes into the
 *     struct AND its table (the loader checks sizes and offsets).
 *
 * Sections: [core] [fields] [drive: body wave] [simulation]
 *           [surrogate: pyannow seed cell] [surrogate: boyle2008 cell]
 *           [surrogate: passive cell] [launcher: containers].  Each section is owned by one module of
 *           native/src/; keep edits inside your section.
 */
#ifndef PYANNOW_H
#define PYANNOW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI 2: every struct is described by a field table (section [fields]) and
 * the status codes by PW_STATUS_LIST; the drive gained a phase offset and a
 * fixed-width pulse (the tempo knob); the cells' rate constants and gate tables
 * moved into their parameter structs as PW_FIELD_CONSTANT fields. */
#define PW_ABI_VERSION 2

#if defined(_WIN32)
#define PW_API __declspec(dllexport)
#else
#define PW_API __attribute__((visibility("default")))
#endif

/* ===================================================================== [core] */

/* The status codes, written once: the enum below, pw_strerror and the table
 * that Python reads (pw_status_count / pw_status_at) are all built from it. */
#define PW_STATUS_LIST(X)                                                                   \
    X(PW_OK, 0, "ok")                                                                       \
    X(PW_E_INVALID, -1, "invalid argument")           /* NaN, out of range, NULL buffer */  \
    X(PW_E_CAPACITY, -2, "output buffer too small")   /* see the *_needed out-field */      \
    X(PW_E_NONFINITE, -3, "state became NaN or infinite") /* blew up during integration */  \
    X(PW_E_SYSTEM, -4, "operating-system call failed")    /* fork, exec, mkdtemp, ... */    \
    X(PW_E_TIMEOUT, -5, "child process timed out and was killed")

enum pw_status {
#define PW_STATUS_ENUM_(name, code, message) name = code,
    PW_STATUS_LIST(PW_STATUS_ENUM_)
#undef PW_STATUS_ENUM_
};

typedef struct pw_status_info {
    int32_t code;        /* the enum value */
    const char *name;    /* "PW_E_NONFINITE" */
    const char *message; /* what pw_strerror returns */
} pw_status_info;

/* ABI version the library was built with; compared against PW_ABI_VERSION by
 * the loader. */
PW_API int pw_abi_version(void);
/* Human-readable build description (compiler, flags, SIMD width). */
PW_API const char *pw_build_info(void);
/* Message for a pw_status code. */
PW_API const char *pw_strerror(int status);
/* The status table: pw_status_at(i) for 0 <= i < pw_status_count(), else NULL. */
PW_API int pw_status_count(void);
PW_API const pw_status_info *pw_status_at(int i);

/* Counter-based normal generator shared with the JAX path
 * (pyannow_hpc/worm/rng.py implements the same function bit for bit up to
 * libm rounding): one standard-normal draw for (seed, counter). */
PW_API double pw_normal(uint64_t seed, uint64_t counter);

/* =================================================================== [fields] */
/* Every struct of this ABI describes itself, after arbor's mechanism ABI
 * (arb_field_info): name, unit, default, bounds and offset of each field, and
 * the struct's size.  Python (pyannow_hpc/_native.py) builds its ctypes
 * structs from these tables when it loads the library and checks them against
 * its parameter spaces, so a field added here appears in Python or fails there
 * loudly.  The kernels validate their inputs with the same tables
 * (pw_check_fields in native/src/pw_fields.h). */

enum pw_field_type {
    PW_F64 = 0,     /* double (count > 1: a fixed array of doubles) */
    PW_I64 = 1,     /* int64_t */
    PW_I32 = 2,     /* int32_t */
    PW_U64 = 3,     /* uint64_t (not range-checked) */
    PW_PTR = 4,     /* void * */
    PW_PTR_I64 = 5, /* int64_t * */
    PW_PTR_I32 = 6  /* int32_t * */
};

enum pw_field_flags {
    PW_FIELD_INPUT = 0,          /* the caller sets it; default_value is the reference default (NaN: none) */
    PW_FIELD_CONSTANT = 1,       /* a model constant: default_value is THE value, written nowhere else */
    PW_FIELD_OUTPUT = 2,         /* written by the library */
    PW_FIELD_LOWER_OPEN = 4      /* the value must be > lower (not >= lower) */
};

typedef struct pw_field {
    const char *name;     /* the member's name; a parameter's name in Python's parameter space */
    const char *unit;     /* "mS/cm^2", "mV", "ms", "" */
    double default_value;
    double lower, upper;  /* the kernel rejects values outside [lower, upper], and NaN/inf */
    size_t offset;        /* offsetof(struct, member) */
    int32_t type;         /* enum pw_field_type */
    int32_t count;        /* array length, 1 for a scalar */
    int32_t flags;        /* enum pw_field_flags, or-ed */
    const char *doc;
} pw_field;

typedef struct pw_struct_info {
    const char *name;      /* the C type name, "pw_boyle2008_params" */
    size_t size;           /* sizeof(the struct) */
    int32_t n_fields;
    const pw_field *fields;
} pw_struct_info;

/* The struct tables: pw_struct_at(i) for 0 <= i < pw_struct_count(), else NULL;
 * pw_struct_find("pw_drive") by name, NULL if unknown. */
PW_API int pw_struct_count(void);
PW_API const pw_struct_info *pw_struct_at(int i);
PW_API const pw_struct_info *pw_struct_find(const char *name);
/* Fill the struct `name` at obj with its fields' default values (inputs with
 * a NaN default and pointers are left as they are).  PW_E_INVALID if unknown. */
PW_API int pw_struct_defaults(const char *name, void *obj);

/* ============================================================ [drive: body wave] */

#define PW_N_SEGMENTS 24
#define PW_N_QUADRANTS 4
#define PW_N_MUSCLES 96 /* order: DL 0-23, VL 24-47, DR 48-71, VR 72-95 */

/* The travelling-wave drive, shared by every cell model (native/src/pw_drive.h).
 * Each muscle j sees the wave profile w_j(t) in [0, 1]:
 *   drive_pulse_ms == 0 (the seed's wave):  w_j = max(sin(2 pi f t + phi_j), 0)^2
 *   drive_pulse_ms  > 0 (the tempo knob):   one raised-cosine pulse of width W per cycle,
 *       w_j = sin^2(pi x),  x = frac(f t + phi_j / 2 pi) / (f W) < 1,  else 0
 *     (at W = 1/(2f) this is the seed's wave; at other f the pulse keeps its
 *      width and shape, so the excitation per cycle does not depend on f);
 *   phi_j = phase_rad[quadrant] + drive_phase_rad + 2 pi segment / 24.
 * The seed cell takes the current drive_amp_uA * w_j + noise; boyle2008 feeds
 * w_j to its graded synapse as s_inf (and ignores drive_amp_uA). */
typedef struct pw_drive {
    double drive_amp_uA;    /* wave amplitude, uA/cm^2 (seed cell only) */
    double drive_freq_hz;   /* wave frequency f */
    double noise_sd_uA;     /* sd of the per-step Gaussian current */
    double phase_rad[4];    /* phi_DL, phi_VL, phi_DR, phi_VR */
    double drive_phase_rad; /* a global phase offset added to every muscle's phase */
    double drive_pulse_ms;  /* 0: the seed's wave; > 0: pulse width W (ms) */
    uint64_t seed;          /* noise stream: pw_normal(seed, step*96 + muscle) */
} pw_drive;

/* ============================================================ [simulation] */

enum pw_integrator {
    PW_INTEGRATOR_EXPONENTIAL = 0, /* Rush-Larsen-type exponential update (default) */
    PW_INTEGRATOR_SEED_EULER = 1   /* the seed's forward Euler with clipping */
};

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

/* ======================================= [surrogate: pyannow seed cell] */

/* Channel parameters of the seed ("pyannow") Morris-Lecar-style cell
 * (SCIENCE.md section 1).  The rate constants are PW_FIELD_CONSTANT fields
 * (their values live in surrogate.c's field table alone):
 *   m_inf = 1/(1 + exp((v_half_ca - V)/m_slope)),  n_inf = 1/(1 + exp((n_half - V)/n_slope)),
 *   tau_n = tau_n_min + tau_n_amp exp(-((V - tau_n_mid)/tau_n_width)^2). */
typedef struct pw_pyannow_params {
    double g_egl19;      /* EGL-19 L-type Ca conductance, mS/cm^2 */
    double v_half_ca_mV; /* half-activation of m_inf */
    double tau_ca_ms;    /* Ca gate time constant */
    double g_exp2;       /* EXP-2 K conductance */
    double g_nca;        /* NCA Na leak conductance */
    double g_leak;       /* leak conductance */
    double c_m_uF;       /* membrane capacitance */
    double e_ca_mV, e_k_mV, e_na_mV, e_leak_mV; /* constants */
    double m_slope_mV, n_half_mV, n_slope_mV;   /* constants */
    double tau_n_min_ms, tau_n_amp_ms, tau_n_mid_mV, tau_n_width_mV; /* constants */
    double v_init_mV;    /* constant: V at t = 0 (m = 0, n = n_inf(v_init)) */
} pw_pyannow_params;

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
 *   x_inf = 1/(1 + exp(-(V - x_mid)/x_scale));
 *   h = 1 + (h_inf([Ca]) - 1) alpha, instantaneous (customHGate);
 *   d[Ca]/dt = rho' g_ca e^2 f h (E_ca-V) - [Ca]/ca_decay,  [Ca] >= 0
 *   (NeuroML fixedFactorConcentrationModel, rho' = ca_rho * rho_unit converts
 *    mol/(m A s) to mM/ms per uA/cm^2).
 * The drive is c302's graded neuron-to-muscle synapse fed by the body wave
 * ([drive]): s_inf_j(t) = w_j(t),  ds/dt = (s_inf - s) k / (1 - s_inf).
 * pw_drive.drive_amp_uA is NOT used by this cell (its amplitude is drive_g_syn,
 * a conductance).  The gate table of cell_C.xml is the PW_FIELD_CONSTANT
 * fields below: their values live in boyle2008.c's field table alone. */
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
    double drive_g_syn;     /* peak conductance of the neuron-to-muscle drive, mS/cm^2 */
    double syn_e_rev_mV;    /* its reversal potential */
    double syn_k_per_ms;    /* graded-synapse rate k (c302 exc_syn_k) */
    double i_step_uA;       /* current step injected into every cell, uA/cm^2 ... */
    double step_start_ms;   /* ... from this time ... */
    double step_stop_ms;    /* ... until this time (an IClamp, for NEURON comparisons) */
    /* constants: gate kinetics of c302/cell_C.xml (tau_ms, mid_mV, scale_mV per gate) */
    double e_tau_ms, e_mid_mV, e_scale_mV;   /* ca_boyle activation (power 2) */
    double f_tau_ms, f_mid_mV, f_scale_mV;   /* ca_boyle voltage inactivation */
    double p_tau_ms, p_mid_mV, p_scale_mV;   /* k_fast activation (power 4) */
    double q_tau_ms, q_mid_mV, q_scale_mV;   /* k_fast inactivation */
    double n_tau_ms, n_mid_mV, n_scale_mV;   /* k_slow activation */
    /* constants: customHGate h_inf = 1/(1 + exp((h_ca_half - [Ca])/h_k)) */
    double h_alpha, h_ca_half_mM, h_k_mM;
    double rho_unit;        /* constant: NeuroML rho, mol/(m A s), to mM/ms per uA/cm^2 */
} pw_boyle2008_params;

/* Integrate the 96-muscle surrogate with the boyle2008 cell (exponential
 * integrator only: config->integrator must be PW_INTEGRATOR_EXPONENTIAL).
 * out->v_out and the spike buffers as for pw_simulate_pyannow; out->m_out and
 * out->n_out are ignored. ca_out: [n_samples][96] calcium in mM (float or
 * double per config->record_f32), or NULL. */
PW_API int pw_simulate_boyle2008(const pw_boyle2008_params *params, const pw_drive *drive,
                                 const pw_sim_config *config, pw_sim_output *out, void *ca_out);

/* ===================================== [surrogate: passive cell] */
/* Owned by native/src/passive.c: the worked example of docs/cell_models.md,
 * a passive membrane driven by the body wave (no gates):
 *   C dV/dt = g_leak (E_leak - V) + g_syn w_j(t) (E_syn - V) + I_noise + I_coupling
 * exponential update, V(0) = v_init. */
typedef struct pw_passive_params {
    double g_leak;          /* mS/cm^2 */
    double e_leak_mV;
    double c_m_uF;
    double drive_g_syn;     /* conductance of the wave drive, mS/cm^2 */
    double syn_e_rev_mV;
    double v_init_mV;       /* constant */
} pw_passive_params;

/* V (out->v_out) and spikes as for pw_simulate_pyannow; exponential only. */
PW_API int pw_simulate_passive(const pw_passive_params *params, const pw_drive *drive,
                               const pw_sim_config *config, pw_sim_output *out);

/* ===================================== [batch: many parameter sets per call] */
/* Owned by native/src/batch.c (issue 15).  Runs n_sets simulations of one
 * cell model ("pyannow", "boyle2008" or "passive"): set i is exactly
 * pw_simulate_<model>(params[i], drives[i], configs[i], outs[i][, traces[i]])
 * (traces: boyle2008's ca_out per set, or NULL), so results are bitwise
 * identical to one-at-a-time calls.  Sets that share a seed read one buffer
 * of the run's normals, drawn once per call (at most 64 MiB of buffers per
 * call; past that each set draws its own): the same values, less work.
 * status[i] gets each set's code; the
 * return value is PW_OK or the first set's error in set order (PW_E_INVALID
 * for an unknown model or NULL arrays).  n_threads <= 0: pw_default_threads(). */
PW_API int pw_simulate_batch(const char *model, int64_t n_sets, const void *const *params,
                             const pw_drive *const *drives, const pw_sim_config *const *configs,
                             pw_sim_output *const *outs, void *const *traces, int32_t *status, int32_t n_threads);

/* OMP_NUM_THREADS when a positive integer, else the CPUs of this process's affinity mask. */
PW_API int pw_default_threads(void);

/* Owned by native/src/bench_ops.c (issue 15): CPU nanoseconds per operation per
 * element on this core (op 0 pw_vexp, 1 division, 2 FMA) over n_iter passes of
 * 96 doubles, for the benchmark's roofline; -1 for a bad op or n_iter <= 0. */
PW_API double pw_bench_op_ns(int32_t op, int64_t n_iter);

/* ================================================ [launcher: containers] */
/* Owned by native/src/launcher.c (issue 6).  Runs one external program (docker,
 * apptainer, NEURON) the safe way: fork + execve with no shell, in a new
 * process group that is killed as a whole (SIGTERM, then SIGKILL) on timeout
 * or when the caller gets SIGINT/SIGTERM. */

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
