/* surrogate.c -- the 96-muscle seed ("pyannow") cell surrogate (SCIENCE.md s1).
 *
 * State is struct-of-arrays over the 96 cells, and every per-step loop runs
 * over the 96 cells with straight-line code (pw_vmath.h replaces libm's
 * scalar exp/log/cos), so GCC vectorises it.  The kernel is compiled three
 * times (AVX-512, AVX2+FMA, baseline x86-64) with target_clones and the
 * loader picks one at run time: the library stays portable without
 * -march=native.
 *
 * Step s (0-based) advances t_s = s*dt to t_{s+1}.  Everything on the right
 * hand side is evaluated at the start of the step (V_s, m_s, n_s, drive at
 * t_s, noise draw pw_normal(seed, s*96 + j)), for both integrators:
 *
 *   exponential (default, Rush-Larsen type): with the gates frozen, dV/dt is
 *     linear in V, C dV/dt = I - G V, so V_{s+1} = V_inf + (V_s - V_inf) e^{-dt G/C},
 *     V_inf = I/G; each gate relaxes exactly to its V_s-dependent target,
 *     x_{s+1} = x_inf + (x_s - x_inf) e^{-dt/tau_x}.  Unconditionally stable.
 *   seed_euler: the seed's explicit Euler, V clipped to [-90, 80] mV, gates to [0, 1].
 *
 * Coupling to segments s-1, s+1 of the same quadrant enters the exponential
 * update semi-implicitly (own V implicit, neighbours' V_s explicit), which
 * keeps the update a weighted average and hence stable at any strength.
 *
 * Recording: sample i is the state after step i*record_every (sample 0 = the
 * initial state), i = 0 .. n_steps/record_every.  Spikes: step index s+1
 * whose end state first has V >= thresh after V_s < thresh, at least
 * ceil(refractory/dt) steps after the previous spike of that muscle.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "pyannow.h"
#include "pw_rng.h"
#include "pw_sim_common.h"
#include "pw_vmath.h"
#include "pw_fields.h"

#define NM PW_N_MUSCLES
#define NS PW_N_SEGMENTS
#define SIG_CAP 350.0 /* exp argument cap of the paired gate sigmoids (step_cells) */

#define T pw_pyannow_params
#define CONST (PW_FIELD_CONSTANT)
/* The seed cell's fields; the CONSTANT rows are the rate constants of
 * SCIENCE.md section 1, written here and nowhere else (Python reads them). */
static const pw_field pyannow_rows[] = {
    PW_F64(T, g_egl19, "mS/cm^2", 8.0, 0.0, INFINITY, PW_FIELD_INPUT, "EGL-19 L-type Ca2+ conductance"),
    PW_F64(T, v_half_ca_mV, "mV", -20.0, -INFINITY, INFINITY, PW_FIELD_INPUT, "half-activation voltage of m"),
    PW_F64(T, tau_ca_ms, "ms", 15.0, 0.0, INFINITY, PW_FIELD_LOWER_OPEN, "time constant of the Ca gate m"),
    PW_F64(T, g_exp2, "mS/cm^2", 5.0, 0.0, INFINITY, PW_FIELD_INPUT, "EXP-2 K+ conductance"),
    PW_F64(T, g_nca, "mS/cm^2", 0.8, 0.0, INFINITY, PW_FIELD_INPUT, "NCA Na+ leak conductance"),
    PW_F64(T, g_leak, "mS/cm^2", 0.05, 0.0, INFINITY, PW_FIELD_INPUT, "passive leak conductance"),
    PW_F64(T, c_m_uF, "uF/cm^2", 1.0, 0.0, INFINITY, PW_FIELD_LOWER_OPEN, "membrane capacitance"),
    PW_F64(T, e_ca_mV, "mV", 60.0, -INFINITY, INFINITY, CONST, "Ca2+ reversal"),
    PW_F64(T, e_k_mV, "mV", -80.0, -INFINITY, INFINITY, CONST, "K+ reversal"),
    PW_F64(T, e_na_mV, "mV", 50.0, -INFINITY, INFINITY, CONST, "Na+ reversal"),
    PW_F64(T, e_leak_mV, "mV", -65.0, -INFINITY, INFINITY, CONST, "leak reversal"),
    PW_F64(T, m_slope_mV, "mV", 6.5, 0.0, INFINITY, CONST | PW_FIELD_LOWER_OPEN, "slope of m_inf"),
    PW_F64(T, n_half_mV, "mV", -15.0, -INFINITY, INFINITY, CONST, "half-activation of n_inf"),
    PW_F64(T, n_slope_mV, "mV", 12.0, 0.0, INFINITY, CONST | PW_FIELD_LOWER_OPEN, "slope of n_inf"),
    PW_F64(T, tau_n_min_ms, "ms", 20.0, 0.0, INFINITY, CONST | PW_FIELD_LOWER_OPEN, "tau_n far from its peak"),
    PW_F64(T, tau_n_amp_ms, "ms", 50.0, 0.0, INFINITY, CONST, "tau_n peak above the minimum"),
    PW_F64(T, tau_n_mid_mV, "mV", -15.0, -INFINITY, INFINITY, CONST, "V of tau_n's peak"),
    PW_F64(T, tau_n_width_mV, "mV", 25.0, 0.0, INFINITY, CONST | PW_FIELD_LOWER_OPEN, "width of tau_n's peak"),
    PW_F64(T, v_init_mV, "mV", -65.0, -INFINITY, INFINITY, CONST, "V at t = 0"),
};
#undef CONST
#undef T
const pw_struct_info pw_info_pyannow_params = PW_STRUCT_INFO(pw_pyannow_params, pyannow_rows);

typedef struct {
    double g_ca, v_half_ca, decay_m, inv_tau_ca, g_k, g_nca, g_leak, dt_over_c;
    double gE_const; /* g_nca E_na + g_leak E_leak */
    double g_const;  /* g_nca + g_leak */
    double e_ca, e_k, e_na, e_leak;
    double inv_m_slope, n_half, inv_n_slope, tau_n_min, tau_n_amp, tau_n_mid, inv_tau_n_width;
    double dt, coupling;
    int small_n_decay; /* dt/tau_n <= 1/16 for every V: n's decay by pw_vexp_small */
} cell_consts;

static int validate(const pw_pyannow_params *p, const pw_drive *d, const pw_sim_config *c, const pw_sim_output *o) {
    if (!p || pw_check_common(d, c, o) || pw_check_fields(&pw_info_pyannow_params, p)) return PW_E_INVALID;
    if (p->g_nca + p->g_leak <= 0) return PW_E_INVALID; /* G > 0 for V_inf = I/G */
    return PW_OK;
}

/* Per-run constants of the drive and the per-step neighbour sums. */
typedef struct {
    pw_wave wave;
    double nb_sum[NM];
    uint64_t key;
    double noise_sd, amp, thresh;
} wave;

/* The state after a step, and which cells crossed the spike threshold. */
typedef struct {
    double v[NM], m[NM], n[NM];
    uint64_t cross[NM];
    uint64_t any_cross;
} new_state;

/* One step of all 96 cells from (v, m, n) into st; returns nonzero if a V is
 * NaN/inf.  Always inlined with a literal `euler`, so each integrator gets its
 * own straight-line, vectorised loops.
 *
 * Why the exponential update is three loops: as one loop body its exps form
 * a chain ~250 cycles deep per 8 cells (V -> tau_n's Gaussian -> dt/tau_n ->
 * n's decay), longer than the out-of-order window can overlap across
 * iterations, so the core waited on latency (6.6 ns per cell-step).  Phase 1
 * computes the three exps that depend on V_s only, phase 2 the two decays,
 * phase 3 the update: each body holds independent exps whose iterations
 * overlap, and the element-wise arithmetic is unchanged. */
static inline __attribute__((always_inline)) uint64_t
step_cells(const cell_consts *k, const int euler, const double *restrict root, const wave *w, const double *restrict z,
           const double *restrict v, const double *restrict m, const double *restrict n, new_state *restrict st) {
    uint64_t worst = 0, any_cross = 0; /* worst: the largest |V_{s+1}|'s bits */
    /* exp of m_inf's and n_inf's arguments, each capped at SIG_CAP: the exponential
     * update divides once for both sigmoids, 1/((1 + em)(1 + en)), and the product
     * must stay finite (beyond the cap a sigmoid is < 1e-152 and stays so); tau_n */
    double em[NM], en[NM], tau[NM];
    for (int j = 0; j < NM; j++) {
        const double V = v[j], xm = (k->v_half_ca - V) * k->inv_m_slope, xn = (k->n_half - V) * k->inv_n_slope;
        em[j] = pw_vexp_capped(xm, SIG_CAP);
        en[j] = pw_vexp_capped(xn, SIG_CAP);
        const double x = (V - k->tau_n_mid) * k->inv_tau_n_width; /* multiplies: a division costs ~10 FMAs */
        tau[j] = k->tau_n_min + k->tau_n_amp * pw_vexp_nonpos(-x * x);
    }
    if (!euler) {
        double dv[NM], dn[NM], vinf[NM]; /* V's and n's decay over the step; V_inf = I/G */
        for (int j = 0; j < NM; j++) {
            const double M = m[j], N = n[j], sn = root[j];
            const double drive = w->amp * sn * sn + w->noise_sd * z[j];
            const double gca = k->g_ca * M, gk = k->g_k * N * N;
            const double G = gca + gk + k->g_const + k->coupling * w->wave.nb_count[j];
            const double I = gca * k->e_ca + gk * k->e_k + k->gE_const + drive + k->coupling * w->nb_sum[j];
            /* three divisions stay (m_inf and n_inf's shared one below, I/G, dt/tau_n):
             * sharing one among all four (r = 1/(a b tau_n G), 7 extra multiplies)
             * measured 6% SLOWER on AVX-512, I/G with dt/tau_n no faster, and Newton
             * reciprocals (11 FMAs each) 13% slower -- the FMA ports, not the
             * divider, are the limit */
            vinf[j] = I / G;
            dv[j] = pw_vexp(-k->dt_over_c * G);
            dn[j] = -k->dt / tau[j];
        }
        if (k->small_n_decay) {
            for (int j = 0; j < NM; j++) dn[j] = pw_vexp_small(dn[j]);
        } else {
            for (int j = 0; j < NM; j++) dn[j] = pw_vexp(dn[j]);
        }
        for (int j = 0; j < NM; j++) {
            const double V = v[j], M = m[j], N = n[j];
            const double am = 1.0 + em[j], an = 1.0 + en[j], r = 1.0 / (am * an);
            const double minf = r * an, ninf = r * am;
            const double Vn = vinf[j] + (V - vinf[j]) * dv[j];
            st->v[j] = Vn;
            st->m[j] = minf + (M - minf) * k->decay_m;
            st->n[j] = ninf + (N - ninf) * dn[j];
            worst = pw_max_abs_bits(worst, Vn);
            st->cross[j] = (uint64_t)((V < w->thresh) & (Vn >= w->thresh));
            any_cross |= st->cross[j];
        }
    } else {
        for (int j = 0; j < NM; j++) {
            const double V = v[j], M = m[j], N = n[j], sn = root[j];
            const double drive = w->amp * sn * sn + w->noise_sd * z[j];
            const double minf = 1.0 / (1.0 + em[j]), ninf = 1.0 / (1.0 + en[j]);
            double i_ion = k->g_ca * M * (V - k->e_ca) + k->g_k * N * N * (V - k->e_k) + k->g_nca * (V - k->e_na) +
                           k->g_leak * (V - k->e_leak);
            double i_cpl = k->coupling * (w->nb_sum[j] - w->wave.nb_count[j] * V);
            double Vn = V + k->dt_over_c * (-i_ion + drive + i_cpl);
            double Mn = M + k->dt * (minf - M) * k->inv_tau_ca;
            double Nn = N + k->dt * (ninf - N) / tau[j];
            Vn = Vn < -90.0 ? -90.0 : (Vn > 80.0 ? 80.0 : Vn);
            Mn = Mn < 0.0 ? 0.0 : (Mn > 1.0 ? 1.0 : Mn);
            Nn = Nn < 0.0 ? 0.0 : (Nn > 1.0 ? 1.0 : Nn);
            st->v[j] = Vn;
            st->m[j] = Mn;
            st->n[j] = Nn;
            worst = pw_max_abs_bits(worst, Vn);
            st->cross[j] = (uint64_t)((V < w->thresh) & (Vn >= w->thresh));
            any_cross |= st->cross[j];
        }
    }
    st->any_cross = any_cross;
    return pw_nonfinite_bits(worst);
}

/* The hot loop: all n_steps of all 96 cells.  Returns PW_OK or PW_E_NONFINITE. */
/* What run_kernel keeps across steps. */
typedef struct {
    const cell_consts *k;
    const double *shared_noise;
    wave w;
    pw_wave_block wt; /* the drive's sin, cos of w t for this block of steps */
    pw_run_book book; /* the output, spikes and record countdown (pw_sim_common.h) */
    int euler, coupled;
} run_state;

/* Step s from cur into nxt, its spikes and its recorded row; nonzero if a V is
 * not finite.  Always inlined, twice, with cur and nxt two distinct local
 * states, so the loops see they cannot alias (with pointers into one array of
 * two GCC versioned them for aliasing) and no step copies its new state back. */
static inline __attribute__((always_inline)) int
one_step(run_state *r, int64_t s, const new_state *restrict cur, new_state *restrict nxt) {
    if (s % PW_WAVE_BLOCK == 0) pw_wave_times(&r->w.wave, s, r->k->dt, &r->wt);
    double root[NM];
    pw_wave_roots(&r->w.wave, pw_wave_at(&r->wt, s), root);
    if (r->coupled) pw_neighbour_sum(cur->v, r->w.nb_sum);
    double zbuf[NM];
    const double *z = pw_step_noise(r->shared_noise, r->w.key, s, zbuf);
    /* literal 0/1: each call is specialised and vectorised on its own */
    const uint64_t bad = r->euler ? step_cells(r->k, 1, root, &r->w, z, cur->v, cur->m, cur->n, nxt)
                                  : step_cells(r->k, 0, root, &r->w, z, cur->v, cur->m, cur->n, nxt);
    if (bad) return 1;
    const int64_t step = s + 1;
    pw_run_book *book = &r->book;
    if (pw_book_spikes_due(book, nxt->any_cross)) pw_book_collect(book, step, nxt->cross);
    if (pw_book_row_due(book)) {
        pw_book_record(book, book->o->v_out, nxt->v);
        pw_book_record(book, book->o->m_out, nxt->m);
        pw_book_record(book, book->o->n_out, nxt->n);
    }
    return 0;
}

/* The hot loop: all n_steps of all 96 cells.  Returns PW_OK or PW_E_NONFINITE. */
PW_CLONES
static int run_kernel(const cell_consts *k, const pw_drive *d, const pw_sim_config *c, pw_sim_output *o,
                      const double *restrict v, const double *restrict m, const double *restrict n,
                      const double *shared_noise) {
    run_state r;
    new_state a, b; /* the states of even and odd steps, in turn */
    r.k = k;
    r.shared_noise = shared_noise;
    pw_wave_init(&r.w.wave, d);
    r.w.key = pw_splitmix64(d->seed);
    r.w.noise_sd = d->noise_sd_uA;
    r.w.amp = d->drive_amp_uA;
    r.w.thresh = c->spike_thresh_mV;
    r.euler = c->integrator == PW_INTEGRATOR_SEED_EULER;
    r.coupled = k->coupling != 0.0;
    pw_book_init(&r.book, c, o);
    for (int j = 0; j < NM; j++) r.w.nb_sum[j] = 0.0;
    memcpy(a.v, v, sizeof a.v);
    memcpy(a.m, m, sizeof a.m);
    memcpy(a.n, n, sizeof a.n);
    pw_book_record(&r.book, o->v_out, a.v);
    pw_book_record(&r.book, o->m_out, a.m);
    pw_book_record(&r.book, o->n_out, a.n);

    const int64_t n_steps = c->n_steps;
    int64_t s = 0;
    for (; s + 1 < n_steps; s += 2) {
        if (one_step(&r, s, &a, &b) || one_step(&r, s + 1, &b, &a)) return PW_E_NONFINITE;
    }
    if (s < n_steps && one_step(&r, s, &a, &b)) return PW_E_NONFINITE;
    return pw_book_status(&r.book);
}

PW_API int pw_simulate_pyannow(const pw_pyannow_params *params, const pw_drive *drive, const pw_sim_config *config,
                               pw_sim_output *out) {
    return pw_run_pyannow(params, drive, config, out, NULL);
}

int pw_run_pyannow(const pw_pyannow_params *params, const pw_drive *drive, const pw_sim_config *config,
                   pw_sim_output *out, const double *shared_noise) {
    int st = validate(params, drive, config, out);
    if (st != PW_OK) return st;
    cell_consts k;
    k.g_ca = params->g_egl19;
    k.v_half_ca = params->v_half_ca_mV;
    k.decay_m = exp(-config->dt_ms / params->tau_ca_ms);
    k.inv_tau_ca = 1.0 / params->tau_ca_ms;
    k.g_k = params->g_exp2;
    k.g_nca = params->g_nca;
    k.g_leak = params->g_leak;
    k.dt_over_c = config->dt_ms / params->c_m_uF;
    k.gE_const = params->g_nca * params->e_na_mV + params->g_leak * params->e_leak_mV;
    k.g_const = params->g_nca + params->g_leak;
    k.e_ca = params->e_ca_mV;
    k.e_k = params->e_k_mV;
    k.e_na = params->e_na_mV;
    k.e_leak = params->e_leak_mV;
    k.inv_m_slope = 1.0 / params->m_slope_mV;
    k.n_half = params->n_half_mV;
    k.inv_n_slope = 1.0 / params->n_slope_mV;
    k.tau_n_min = params->tau_n_min_ms;
    k.tau_n_amp = params->tau_n_amp_ms;
    k.tau_n_mid = params->tau_n_mid_mV;
    k.inv_tau_n_width = 1.0 / params->tau_n_width_mV;
    k.dt = config->dt_ms;
    k.coupling = config->coupling_g;
    k.small_n_decay = config->dt_ms / params->tau_n_min_ms <= 0.0625; /* tau_n >= tau_n_min (amp >= 0) */
    double v[NM], m[NM], n[NM];
    const double v0 = params->v_init_mV;
    const double n0 = 1.0 / (1.0 + pw_vexp(-(v0 - params->n_half_mV) / params->n_slope_mV));
    for (int j = 0; j < NM; j++) { v[j] = v0; m[j] = 0.0; n[j] = n0; }
    return run_kernel(&k, drive, config, out, v, m, n, shared_noise);
}
