/* boyle2008.c -- the Boyle & Cohen 2008 body-wall-muscle cell (c302's
 * GenericMuscleCell of parameter sets C/C1/C2) for the 96-muscle surrogate.
 *
 * Equations and the meaning of every field: native/include/pyannow.h,
 * section [surrogate: boyle2008 cell]. The JAX twin is
 * pyannow_hpc/worm/boyle2008_jax.py: both perform the same floating-point
 * operations in the same order (agreement test <= 1e-9 relative).
 *
 * Conventions shared with surrogate.c (the seed cell): struct-of-arrays over
 * the 96 cells, straight-line loop bodies with pw_vmath.h so GCC vectorises
 * them, target_clones for AVX-512 / AVX2 / baseline; step s advances t_s =
 * s*dt to t_{s+1}, with the drive at t_s, the noise pw_normal(seed, s*96 + j)
 * and the neighbours' V_s; sample i is the state after step i*record_every
 * (sample 0 = the initial state); a spike is step s+1 whose V first reaches
 * the threshold, at least ceil(refractory/dt) steps after that muscle's
 * previous spike.
 *
 * Integrator: every update solves a linear ODE with frozen coefficients
 * exactly (unconditionally stable), in Gauss-Seidel order:
 *   1. gates   x <- x_inf(V_s) + (x_s - x_inf(V_s)) exp(-dt/tau_x)  (Rush-Larsen;
 *              tau_x are constants of cell_C.xml: exp(-dt/tau_x) is computed once)
 *      synapse s <- s_inf(t_s) + (s_s - s_inf) exp(-dt k/(1 - s_inf))
 *   2. V       <- V_inf + (V_s - V_inf) exp(-G dt/C), G and V_inf from the NEW
 *              gates and h([Ca]_s)
 *   3. [Ca]    <- Ca_inf + ([Ca]_s - Ca_inf) exp(-dt/decay), Ca_inf = decay rho'
 *              I_ca(new gates, V_{s+1}), clamped at 0 like NeuroML's OnCondition.
 * Using the new gates in step 2 matters: the Ca activation gate e has tau
 * 0.1 ms, and a Jacobi update (gates of step s) lags it a whole step behind V,
 * which at dt = 0.5 ms loses half the spikes of a tight LSODA solve; this
 * order keeps them all (tests/boyle/test_boyle_accuracy.py). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "pw_rng.h"
#include "pw_sim_common.h"
#include "pw_vmath.h"
#include "pyannow.h"

#define NM PW_N_MUSCLES
#define NS PW_N_SEGMENTS

/* PW_CLONES (AVX-512 / AVX2 / baseline clones of the hot loop) comes from pw_vmath.h */

/* Gate kinetics from c302/cell_C.xml (ionChannel ca_boyle, k_fast, k_slow;
 * the *_muscle copies in custom_muscle_components.xml used by C2 are
 * identical). x_inf(V) = 1/(1 + exp(-(V - mid)/scale)); tests/boyle checks
 * these numbers against the installed c302 files. */
#define E_TAU_MS 0.100027
#define E_MID_MV (-3.3568)
#define E_SCALE_MV 6.74821
#define F_TAU_MS 150.88
#define F_MID_MV 25.1815
#define F_SCALE_MV (-5.03176)
#define P_TAU_MS 2.25518
#define P_MID_MV (-8.05232)
#define P_SCALE_MV 7.42636
#define Q_TAU_MS 149.963
#define Q_MID_MV (-15.6456)
#define Q_SCALE_MV (-9.97468)
#define N_TAU_MS 25.0007
#define N_MID_MV 19.8741
#define N_SCALE_MV 15.8512
/* customHGate h: h_inf = 1/(1 + exp((ca_half - [Ca])/k)), fcond = 1 + (h_inf - 1) alpha */
#define H_ALPHA 0.282473
#define H_CA_HALF_MM 6.41889e-8
#define H_K_MM (-1.00056e-8)
/* NeuroML rho is mol/(m A s); d[Ca]/dt in mM/ms per uA/cm^2 of current density:
 * 1 uA/cm^2 = 1e-2 A/m^2, 1 mol/m^3 = 1 mM, 1 s = 1e3 ms -> factor 1e-5. */
#define RHO_TO_MM_PER_MS_PER_UA 1e-5

/* (v - mid) * (-1/scale): a multiplication by a compile-time constant instead
 * of a division (vdivpd is the slowest instruction of the loop); the JAX twin
 * multiplies by the same double constant. */
static inline double sigmoid(double v, double mid, double neg_inv_scale) {
    return 1.0 / (1.0 + pw_vexp((v - mid) * neg_inv_scale));
}

static int validate(const pw_boyle2008_params *p, const pw_drive *d, const pw_sim_config *c,
                    const pw_sim_output *o) {
    if (!p || !d || !c || !o) return PW_E_INVALID;
    const double vals[] = {p->g_ca_boyle, p->g_k_slow, p->g_k_fast, p->g_leak, p->e_ca_mV, p->e_k_mV,
                           p->e_leak_mV, p->c_m_uF, p->ca_decay_ms, p->ca_rho, p->v_init_mV, p->g_syn,
                           p->e_syn_mV, p->syn_k_per_ms, p->i_step_uA, p->step_start_ms, p->step_stop_ms,
                           d->freq_hz, d->noise_sd_uA, d->phase_rad[0], d->phase_rad[1], d->phase_rad[2],
                           d->phase_rad[3], c->dt_ms, c->coupling_g, c->spike_thresh_mV,
                           c->spike_refractory_ms};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        if (!isfinite(vals[i])) return PW_E_INVALID;
    if (p->g_ca_boyle < 0 || p->g_k_slow < 0 || p->g_k_fast < 0 || p->g_leak < 0 || p->g_syn < 0 ||
        p->ca_rho < 0 || p->c_m_uF <= 0 || p->ca_decay_ms <= 0 || p->syn_k_per_ms <= 0)
        return PW_E_INVALID;
    /* G must stay > 0 for V_inf = I/G: the leak is the floor */
    if (p->g_leak <= 0) return PW_E_INVALID;
    if (d->freq_hz < 0 || d->noise_sd_uA < 0) return PW_E_INVALID;
    if (c->dt_ms <= 0 || c->n_steps < 0 || c->record_every < 1 || c->coupling_g < 0 || c->spike_refractory_ms < 0)
        return PW_E_INVALID;
    if (c->integrator != PW_INTEGRATOR_EXPONENTIAL) return PW_E_INVALID;
    if ((o->v_out || o->m_out || o->n_out) && o->n_samples < c->n_steps / c->record_every + 1) return PW_E_INVALID;
    if (o->spike_capacity < 0 || (o->spike_capacity > 0 && (!o->spike_step || !o->spike_muscle))) return PW_E_INVALID;
    return PW_OK;
}

typedef struct {
    double v[NM], e[NM], f[NM], p[NM], q[NM], n[NM], s[NM], ca[NM];
} cell_state;

PW_CLONES
static int run_kernel(const pw_boyle2008_params *P, const pw_drive *d, const pw_sim_config *c,
                      pw_sim_output *o, void *ca_out, cell_state *restrict X) {
    double cphi[NM], sphi[NM], nb_sum[NM], nb_count[NM];
    cell_state Y;
    int64_t last_spike[NM];
    uint64_t cross[NM];
    const double two_pi = 6.283185307179586476925286766559;
    pw_wave_phases(d, cphi, sphi, nb_count);
    const double dt = c->dt_ms;
    const double de = exp(-dt / E_TAU_MS), df = exp(-dt / F_TAU_MS), dp = exp(-dt / P_TAU_MS),
                 dq = exp(-dt / Q_TAU_MS), dn = exp(-dt / N_TAU_MS), dca = exp(-dt / P->ca_decay_ms);
    const double ca_gain = P->ca_decay_ms * P->ca_rho * RHO_TO_MM_PER_MS_PER_UA;
    const double dt_over_c = dt / P->c_m_uF, ksyn_dt = P->syn_k_per_ms * dt;
    const double g_ca = P->g_ca_boyle, g_kf = P->g_k_fast, g_ks = P->g_k_slow, g_l = P->g_leak, g_syn = P->g_syn;
    const double e_ca = P->e_ca_mV, e_k = P->e_k_mV, e_syn = P->e_syn_mV, gl_el = P->g_leak * P->e_leak_mV;
    const double omega = two_pi * d->freq_hz * 1e-3; /* rad/ms */
    const uint64_t key = pw_splitmix64(d->seed);
    const double noise_sd = d->noise_sd_uA, coupling = c->coupling_g, thresh = c->spike_thresh_mV;
    const int coupled = coupling != 0.0;
    const int64_t refr_steps = (int64_t)ceil(c->spike_refractory_ms / dt);
    const int64_t rec = c->record_every;
    const int do_spikes = o->spike_step != NULL && o->spike_muscle != NULL;
    for (int j = 0; j < NM; j++) { last_spike[j] = INT64_MIN / 2; nb_sum[j] = 0.0; }
    o->n_spikes = 0;
    o->spikes_needed = 0;
    pw_record_row(o->v_out, c->record_f32, 0, X->v);
    pw_record_row(ca_out, c->record_f32, 0, X->ca);

    for (int64_t st = 0; st < c->n_steps; st++) {
        const double t = (double)st * dt;
        const double sw = sin(omega * t), cw = cos(omega * t);
        const double i_step = (t >= P->step_start_ms && t < P->step_stop_ms) ? P->i_step_uA : 0.0;
        if (coupled) {
            for (int q = 0; q < PW_N_QUADRANTS; q++) {
                const double *vq = X->v + q * NS;
                nb_sum[q * NS] = vq[1];
                for (int i = 1; i < NS - 1; i++) nb_sum[q * NS + i] = vq[i - 1] + vq[i + 1];
                nb_sum[q * NS + NS - 1] = vq[NS - 2];
            }
        }
        const uint64_t base = (uint64_t)st * NM;
        uint64_t bad = 0, any_cross = 0;
        for (int j = 0; j < NM; j++) {
            const double V = X->v[j], E = X->e[j], F = X->f[j], Pg = X->p[j], Q = X->q[j], N = X->n[j];
            const double S = X->s[j], CA = X->ca[j];
            /* 1. gates (Rush-Larsen at V_s) and the graded synapse (drive at t_s) */
            double xi = sigmoid(V, E_MID_MV, -1.0 / E_SCALE_MV);
            const double En = xi + (E - xi) * de;
            xi = sigmoid(V, F_MID_MV, -1.0 / F_SCALE_MV);
            const double Fn = xi + (F - xi) * df;
            xi = sigmoid(V, P_MID_MV, -1.0 / P_SCALE_MV);
            const double Pn = xi + (Pg - xi) * dp;
            xi = sigmoid(V, Q_MID_MV, -1.0 / Q_SCALE_MV);
            const double Qn = xi + (Q - xi) * dq;
            xi = sigmoid(V, N_MID_MV, -1.0 / N_SCALE_MV);
            const double Nn = xi + (N - xi) * dn;
            double w = sw * cphi[j] + cw * sphi[j];
            w = w > 0.0 ? w * w : 0.0;
            /* graded synapse tau = (1 - s_inf)/k: instantaneous rise at s_inf = 1 */
            const double one_m_w = 1.0 - w;
            const double ds = one_m_w > 0.0 ? pw_vexp(-ksyn_dt / (one_m_w > 1e-300 ? one_m_w : 1e-300)) : 0.0;
            const double Sn = w + (S - w) * ds;
            /* 2. V with the new gates, h([Ca]_s), the noise of step s and the neighbours' V_s */
            const double h = 1.0 + (1.0 / (1.0 + pw_vexp((H_CA_HALF_MM - CA) * (1.0 / H_K_MM))) - 1.0) * H_ALPHA;
            const double p2 = Pn * Pn;
            const double gca = g_ca * En * En * Fn * h, gk = g_kf * p2 * p2 * Qn + g_ks * Nn, gs = g_syn * Sn;
            const double noise = noise_sd > 0.0 ? noise_sd * pw_vnormal(key, base + (uint64_t)j) : 0.0;
            const double G = gca + gk + g_l + gs + coupling * nb_count[j];
            const double I = gca * e_ca + gk * e_k + gl_el + gs * e_syn + i_step + noise + coupling * nb_sum[j];
            const double vinf = I / G;
            const double Vn = vinf + (V - vinf) * pw_vexp(-dt_over_c * G);
            /* 3. the calcium pool, driven by the Ca current at the new V */
            const double ca_inf = ca_gain * gca * (e_ca - Vn);
            const double CAn = ca_inf + (CA - ca_inf) * dca;
            Y.v[j] = Vn; Y.e[j] = En; Y.f[j] = Fn; Y.p[j] = Pn; Y.q[j] = Qn; Y.n[j] = Nn; Y.s[j] = Sn;
            Y.ca[j] = CAn > 0.0 ? CAn : 0.0;
            bad |= (uint64_t)(((pw_bits(Vn) >> 52) & 0x7ffu) == 0x7ffu);
            cross[j] = (uint64_t)((V < thresh) & (Vn >= thresh));
            any_cross |= cross[j];
        }
        if (bad) return PW_E_NONFINITE;
        memcpy(X, &Y, sizeof Y);
        const int64_t step = st + 1;
        if (any_cross && do_spikes) pw_collect_spikes(o, step, cross, last_spike, refr_steps);
        if (step % rec == 0) {
            pw_record_row(o->v_out, c->record_f32, step / rec, X->v);
            pw_record_row(ca_out, c->record_f32, step / rec, X->ca);
        }
    }
    return o->spikes_needed > o->spike_capacity ? PW_E_CAPACITY : PW_OK;
}

PW_API int pw_simulate_boyle2008(const pw_boyle2008_params *params, const pw_drive *drive,
                                 const pw_sim_config *config, pw_sim_output *out, void *ca_out) {
    int st = validate(params, drive, config, out);
    if (st != PW_OK) return st;
    if (ca_out && out->n_samples < config->n_steps / config->record_every + 1) return PW_E_INVALID;
    cell_state X;
    const double v0 = params->v_init_mV;
    /* NeuroML starts every gate at its steady state and the pool at 0 mM */
    const double e0 = 1.0 / (1.0 + exp((v0 - E_MID_MV) * (-1.0 / E_SCALE_MV)));
    const double f0 = 1.0 / (1.0 + exp((v0 - F_MID_MV) * (-1.0 / F_SCALE_MV)));
    const double p0 = 1.0 / (1.0 + exp((v0 - P_MID_MV) * (-1.0 / P_SCALE_MV)));
    const double q0 = 1.0 / (1.0 + exp((v0 - Q_MID_MV) * (-1.0 / Q_SCALE_MV)));
    const double n0 = 1.0 / (1.0 + exp((v0 - N_MID_MV) * (-1.0 / N_SCALE_MV)));
    for (int j = 0; j < NM; j++) {
        X.v[j] = v0; X.e[j] = e0; X.f[j] = f0; X.p[j] = p0; X.q[j] = q0; X.n[j] = n0;
        X.s[j] = 0.0; X.ca[j] = 0.0;
    }
    return run_kernel(params, drive, config, out, ca_out, &X);
}
