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

#define NM PW_N_MUSCLES
#define NS PW_N_SEGMENTS

typedef struct {
    double g_ca, v_half_ca, decay_m, inv_tau_ca, g_k, g_nca, g_leak, dt_over_c;
    double gE_const; /* g_nca E_na + g_leak E_leak */
    double g_const;  /* g_nca + g_leak */
    double e_ca, e_k, e_na, e_leak;
    double dt, coupling;
} cell_consts;

static int is_finite_d(double x) { return isfinite(x) != 0; }

static int validate(const pw_pyannow_params *p, const pw_drive *d, const pw_sim_config *c, const pw_sim_output *o) {
    if (!p || !d || !c || !o) return PW_E_INVALID;
    const double vals[] = {p->g_egl19, p->v_half_ca_mV, p->tau_ca_ms, p->g_exp2, p->g_nca, p->g_leak,
                           p->c_m_uF, p->e_ca_mV, p->e_k_mV, p->e_na_mV, p->e_leak_mV, d->amp_uA,
                           d->freq_hz, d->noise_sd_uA, d->phase_rad[0], d->phase_rad[1], d->phase_rad[2],
                           d->phase_rad[3], c->dt_ms, c->coupling_g, c->spike_thresh_mV, c->spike_refractory_ms};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        if (!is_finite_d(vals[i])) return PW_E_INVALID;
    if (p->g_egl19 < 0 || p->g_exp2 < 0 || p->g_nca < 0 || p->g_leak < 0 || p->g_nca + p->g_leak <= 0) return PW_E_INVALID;
    if (p->tau_ca_ms <= 0 || p->c_m_uF <= 0) return PW_E_INVALID;
    if (d->freq_hz < 0 || d->noise_sd_uA < 0) return PW_E_INVALID;
    if (c->dt_ms <= 0 || c->n_steps < 0 || c->record_every < 1 || c->coupling_g < 0 || c->spike_refractory_ms < 0)
        return PW_E_INVALID;
    if (c->integrator != PW_INTEGRATOR_EXPONENTIAL && c->integrator != PW_INTEGRATOR_SEED_EULER) return PW_E_INVALID;
    if ((o->v_out || o->m_out || o->n_out) && o->n_samples < c->n_steps / c->record_every + 1) return PW_E_INVALID;
    if (o->spike_capacity < 0 || (o->spike_capacity > 0 && (!o->spike_step || !o->spike_muscle))) return PW_E_INVALID;
    return PW_OK;
}

static inline double n_inf_of(double v) { return 1.0 / (1.0 + pw_vexp(-(v + 15.0) / 12.0)); }

/* Per-run constants of the drive and the per-step neighbour sums. */
typedef struct {
    double cphi[NM], sphi[NM], nb_count[NM], nb_sum[NM];
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
 * own straight-line, vectorised loop. */
static inline __attribute__((always_inline)) uint64_t
step_cells(const cell_consts *k, const int euler, double sw, double cw, const wave *w, uint64_t base,
           const double *restrict v, const double *restrict m, const double *restrict n, new_state *restrict st) {
    uint64_t bad = 0, any_cross = 0;
    for (int j = 0; j < NM; j++) {
        double V = v[j], M = m[j], N = n[j];
        double sn = sw * w->cphi[j] + cw * w->sphi[j];
        sn = sn > 0.0 ? sn : 0.0;
        double drive = w->amp * sn * sn + w->noise_sd * pw_vnormal(w->key, base + (uint64_t)j);
        double minf = 1.0 / (1.0 + pw_vexp((k->v_half_ca - V) * (1.0 / 6.5)));
        double ninf = 1.0 / (1.0 + pw_vexp((-15.0 - V) * (1.0 / 12.0)));
        double x = (V + 15.0) * (1.0 / 25.0); /* multiplies: a division costs ~10 FMAs */
        double tau_n = 20.0 + 50.0 * pw_vexp(-x * x);
        double Vn, Mn, Nn;
        if (!euler) {
            double gca = k->g_ca * M, gk = k->g_k * N * N;
            double G = gca + gk + k->g_const + k->coupling * w->nb_count[j];
            double I = gca * k->e_ca + gk * k->e_k + k->gE_const + drive + k->coupling * w->nb_sum[j];
            double vinf = I / G;
            Vn = vinf + (V - vinf) * pw_vexp(-k->dt_over_c * G);
            Mn = minf + (M - minf) * k->decay_m;
            Nn = ninf + (N - ninf) * pw_vexp(-k->dt / tau_n);
        } else {
            double i_ion = k->g_ca * M * (V - k->e_ca) + k->g_k * N * N * (V - k->e_k) + k->g_nca * (V - k->e_na) +
                           k->g_leak * (V - k->e_leak);
            double i_cpl = k->coupling * (w->nb_sum[j] - w->nb_count[j] * V);
            Vn = V + k->dt_over_c * (-i_ion + drive + i_cpl);
            Mn = M + k->dt * (minf - M) * k->inv_tau_ca;
            Nn = N + k->dt * (ninf - N) / tau_n;
            Vn = Vn < -90.0 ? -90.0 : (Vn > 80.0 ? 80.0 : Vn);
            Mn = Mn < 0.0 ? 0.0 : (Mn > 1.0 ? 1.0 : Mn);
            Nn = Nn < 0.0 ? 0.0 : (Nn > 1.0 ? 1.0 : Nn);
        }
        st->v[j] = Vn;
        st->m[j] = Mn;
        st->n[j] = Nn;
        bad |= (uint64_t)(((pw_bits(Vn) >> 52) & 0x7ffu) == 0x7ffu);
        st->cross[j] = (uint64_t)((V < w->thresh) & (Vn >= w->thresh));
        any_cross |= st->cross[j];
    }
    st->any_cross = any_cross;
    return bad;
}

/* The hot loop: all n_steps of all 96 cells.  Returns PW_OK or PW_E_NONFINITE. */
PW_CLONES
static int run_kernel(const cell_consts *k, const pw_drive *d, const pw_sim_config *c, pw_sim_output *o,
                      double *restrict v, double *restrict m, double *restrict n) {
    wave w;
    new_state st;
    int64_t last_spike[NM];
    const double two_pi = 6.283185307179586476925286766559;
    pw_wave_phases(d, w.cphi, w.sphi, w.nb_count);
    const double omega = two_pi * d->freq_hz * 1e-3; /* rad/ms */
    w.key = pw_splitmix64(d->seed);
    w.noise_sd = d->noise_sd_uA;
    w.amp = d->amp_uA;
    w.thresh = c->spike_thresh_mV;
    const int euler = c->integrator == PW_INTEGRATOR_SEED_EULER;
    const int coupled = k->coupling != 0.0;
    const int64_t refr_steps = (int64_t)ceil(c->spike_refractory_ms / c->dt_ms);
    const int64_t rec = c->record_every;
    const int do_spikes = o->spike_step != NULL && o->spike_muscle != NULL; /* NULL: spikes not wanted */
    for (int j = 0; j < NM; j++) { last_spike[j] = INT64_MIN / 2; w.nb_sum[j] = 0.0; }
    o->n_spikes = 0;
    o->spikes_needed = 0;
    pw_record_row(o->v_out, c->record_f32, 0, v);
    pw_record_row(o->m_out, c->record_f32, 0, m);
    pw_record_row(o->n_out, c->record_f32, 0, n);

    for (int64_t s = 0; s < c->n_steps; s++) {
        const double t = (double)s * k->dt;
        const double sw = sin(omega * t), cw = cos(omega * t);
        if (coupled) {
            for (int q = 0; q < PW_N_QUADRANTS; q++) {
                const double *vq = v + q * NS;
                w.nb_sum[q * NS] = vq[1];
                for (int i = 1; i < NS - 1; i++) w.nb_sum[q * NS + i] = vq[i - 1] + vq[i + 1];
                w.nb_sum[q * NS + NS - 1] = vq[NS - 2];
            }
        }
        const uint64_t base = (uint64_t)s * NM;
        /* literal 0/1: each call is specialised and vectorised on its own */
        const uint64_t bad = euler ? step_cells(k, 1, sw, cw, &w, base, v, m, n, &st)
                                   : step_cells(k, 0, sw, cw, &w, base, v, m, n, &st);
        if (bad) return PW_E_NONFINITE;
        memcpy(v, st.v, sizeof st.v);
        memcpy(m, st.m, sizeof st.m);
        memcpy(n, st.n, sizeof st.n);
        const int64_t step = s + 1;
        if (st.any_cross && do_spikes) pw_collect_spikes(o, step, st.cross, last_spike, refr_steps);
        if (step % rec == 0) {
            int64_t row = step / rec;
            pw_record_row(o->v_out, c->record_f32, row, v);
            pw_record_row(o->m_out, c->record_f32, row, m);
            pw_record_row(o->n_out, c->record_f32, row, n);
        }
    }
    return o->spikes_needed > o->spike_capacity ? PW_E_CAPACITY : PW_OK;
}

PW_API int pw_simulate_pyannow(const pw_pyannow_params *params, const pw_drive *drive, const pw_sim_config *config,
                               pw_sim_output *out) {
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
    k.dt = config->dt_ms;
    k.coupling = config->coupling_g;
    double v[NM], m[NM], n[NM];
    const double n0 = n_inf_of(-65.0);
    for (int j = 0; j < NM; j++) { v[j] = -65.0; m[j] = 0.0; n[j] = n0; }
    return run_kernel(&k, drive, config, out, v, m, n);
}
