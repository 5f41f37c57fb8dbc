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
#include "pw_fields.h"

#define NM PW_N_MUSCLES
#define NS PW_N_SEGMENTS

/* PW_CLONES (AVX-512 / AVX2 / baseline clones of the hot loop) comes from pw_vmath.h */

#define T pw_boyle2008_params
#define IN PW_FIELD_INPUT
#define CONST PW_FIELD_CONSTANT
#define POS PW_FIELD_LOWER_OPEN
/* The cell's fields.  The CONSTANT rows are the gate kinetics of
 * c302/cell_C.xml (ionChannel ca_boyle, k_fast, k_slow; the *_muscle copies in
 * custom_muscle_components.xml used by C2 are identical), written here and
 * nowhere else: x_inf(V) = 1/(1 + exp(-(V - mid)/scale));
 * tests/boyle/test_boyle_space.py checks them against the installed c302 files.
 * The inputs' defaults are c302's C1 muscle (Python's parameter space has the
 * same defaults; the loader checks that). */
static const pw_field boyle2008_rows[] = {
    PW_F64(T, g_ca_boyle, "mS/cm^2", 0.7, 0.0, INFINITY, IN, "ca_boyle conductance, e^2 f h"),
    PW_F64(T, g_k_slow, "mS/cm^2", 0.6, 0.0, INFINITY, IN, "k_slow conductance, n"),
    PW_F64(T, g_k_fast, "mS/cm^2", 0.1, 0.0, INFINITY, IN, "k_fast conductance, p^4 q"),
    /* G must stay > 0 for V_inf = I/G: the leak is the floor */
    PW_F64(T, g_leak, "mS/cm^2", 5e-4, 0.0, INFINITY, POS, "leak conductance"),
    PW_F64(T, e_ca_mV, "mV", 40.0, -INFINITY, INFINITY, IN, "ca_boyle reversal"),
    PW_F64(T, e_k_mV, "mV", -60.0, -INFINITY, INFINITY, IN, "k_slow and k_fast reversal"),
    PW_F64(T, e_leak_mV, "mV", -50.0, -INFINITY, INFINITY, IN, "leak reversal"),
    PW_F64(T, c_m_uF, "uF/cm^2", 1.0, 0.0, INFINITY, POS, "specific membrane capacitance"),
    PW_F64(T, ca_decay_ms, "ms", 11.5943, 0.0, INFINITY, POS, "calcium pool decay time"),
    PW_F64(T, ca_rho, "mol/(m A s)", 0.000238919, 0.0, INFINITY, IN, "calcium pool factor rho"),
    PW_F64(T, v_init_mV, "mV", -45.0, -INFINITY, INFINITY, IN, "initial membrane potential"),
    PW_F64(T, drive_g_syn, "mS/cm^2", 0.09, 0.0, INFINITY, IN, "peak conductance of the wave drive"),
    PW_F64(T, syn_e_rev_mV, "mV", 0.0, -INFINITY, INFINITY, IN, "drive synapse reversal"),
    PW_F64(T, syn_k_per_ms, "1/ms", 0.025, 0.0, INFINITY, POS, "graded-synapse rate k"),
    PW_F64(T, i_step_uA, "uA/cm^2", 0.0, -INFINITY, INFINITY, IN, "IClamp amplitude"),
    PW_F64(T, step_start_ms, "ms", 0.0, -INFINITY, INFINITY, IN, "IClamp start"),
    PW_F64(T, step_stop_ms, "ms", 0.0, -INFINITY, INFINITY, IN, "IClamp stop"),
    PW_F64(T, e_tau_ms, "ms", 0.100027, 0.0, INFINITY, CONST | POS, "ca_boyle activation e (power 2)"),
    PW_F64(T, e_mid_mV, "mV", -3.3568, -INFINITY, INFINITY, CONST, ""),
    PW_F64(T, e_scale_mV, "mV", 6.74821, -INFINITY, INFINITY, CONST, ""),
    PW_F64(T, f_tau_ms, "ms", 150.88, 0.0, INFINITY, CONST | POS,
           "ca_boyle voltage inactivation f (c302 flips B&C's sign, see cell_C.xml)"),
    PW_F64(T, f_mid_mV, "mV", 25.1815, -INFINITY, INFINITY, CONST, ""),
    PW_F64(T, f_scale_mV, "mV", -5.03176, -INFINITY, INFINITY, CONST, ""),
    PW_F64(T, p_tau_ms, "ms", 2.25518, 0.0, INFINITY, CONST | POS, "k_fast activation p (power 4)"),
    PW_F64(T, p_mid_mV, "mV", -8.05232, -INFINITY, INFINITY, CONST, ""),
    PW_F64(T, p_scale_mV, "mV", 7.42636, -INFINITY, INFINITY, CONST, ""),
    PW_F64(T, q_tau_ms, "ms", 149.963, 0.0, INFINITY, CONST | POS, "k_fast inactivation q"),
    PW_F64(T, q_mid_mV, "mV", -15.6456, -INFINITY, INFINITY, CONST, ""),
    PW_F64(T, q_scale_mV, "mV", -9.97468, -INFINITY, INFINITY, CONST, ""),
    PW_F64(T, n_tau_ms, "ms", 25.0007, 0.0, INFINITY, CONST | POS, "k_slow activation n"),
    PW_F64(T, n_mid_mV, "mV", 19.8741, -INFINITY, INFINITY, CONST, ""),
    PW_F64(T, n_scale_mV, "mV", 15.8512, -INFINITY, INFINITY, CONST, ""),
    PW_F64(T, h_alpha, "", 0.282473, -INFINITY, INFINITY, CONST, "customHGate: fcond = 1 + (h_inf - 1) alpha"),
    PW_F64(T, h_ca_half_mM, "mM", 6.41889e-8, -INFINITY, INFINITY, CONST, "customHGate ca_half"),
    PW_F64(T, h_k_mM, "mM", -1.00056e-8, -INFINITY, INFINITY, CONST, "customHGate k"),
    /* NeuroML rho is mol/(m A s); d[Ca]/dt in mM/ms per uA/cm^2 of current density:
     * 1 uA/cm^2 = 1e-2 A/m^2, 1 mol/m^3 = 1 mM, 1 s = 1e3 ms -> factor 1e-5. */
    PW_F64(T, rho_unit, "", 1e-5, 0.0, INFINITY, CONST, "NeuroML rho to mM/ms per uA/cm^2"),
};
#undef POS
#undef CONST
#undef IN
#undef T
const pw_struct_info pw_info_boyle2008_params = PW_STRUCT_INFO(pw_boyle2008_params, boyle2008_rows);

/* (v - mid) * (-1/scale): a multiplication by a per-run constant instead of a
 * division (vdivpd is the slowest instruction of the loop); the JAX twin
 * multiplies by the same double constant. */
static inline double sigmoid(double v, double mid, double neg_inv_scale) {
    return 1.0 / (1.0 + pw_vexp((v - mid) * neg_inv_scale));
}

static int validate(const pw_boyle2008_params *p, const pw_drive *d, const pw_sim_config *c,
                    const pw_sim_output *o) {
    if (!p || pw_check_common(d, c, o) || pw_check_fields(&pw_info_boyle2008_params, p)) return PW_E_INVALID;
    if (p->e_scale_mV == 0 || p->f_scale_mV == 0 || p->p_scale_mV == 0 || p->q_scale_mV == 0 ||
        p->n_scale_mV == 0 || p->h_k_mM == 0)
        return PW_E_INVALID;
    if (c->integrator != PW_INTEGRATOR_EXPONENTIAL) return PW_E_INVALID;
    return PW_OK;
}

typedef struct {
    double v[NM], e[NM], f[NM], p[NM], q[NM], n[NM], s[NM], ca[NM];
} cell_state;

/* What run_kernel keeps across steps: the per-run constants and the bookkeeping. */
typedef struct {
    const pw_boyle2008_params *P;
    void *ca_out;
    const double *shared_noise;
    pw_wave wave;
    pw_wave_block wt; /* the drive's sin, cos of w t for this block of steps */
    double nb_sum[NM];
    pw_run_book book; /* the output, spikes and record countdown (pw_sim_common.h) */
    uint64_t cross[NM];
    double dt, de, df, dp, dq, dn, dca;
    double e_mid, f_mid, p_mid, q_mid, n_mid, e_nis, f_nis, p_nis, q_nis, n_nis;
    double h_alpha, h_ca_half, h_inv_k, ca_gain, dt_over_c, ksyn_dt;
    double g_ca, g_kf, g_ks, g_l, g_syn, e_ca, e_k, e_syn, gl_el;
    double noise_sd, coupling, thresh;
    uint64_t key;
    int coupled;
} run_state;

/* Step st from X into Y, its spikes and its recorded rows; nonzero if a V is
 * not finite.  Always inlined, twice, with X and Y two distinct local states
 * (as surrogate.c's one_step), so the loops see they cannot alias and no step
 * copies its new state back. */
static inline __attribute__((always_inline)) int
one_step(run_state *r, const int coupled, int64_t st, const cell_state *restrict X, cell_state *restrict Y) {
    const pw_boyle2008_params *P = r->P;
    const double dt = r->dt;
    const double de = r->de, df = r->df, dp = r->dp, dq = r->dq, dn = r->dn, dca = r->dca;
    const double e_mid = r->e_mid, f_mid = r->f_mid, p_mid = r->p_mid, q_mid = r->q_mid, n_mid = r->n_mid;
    const double e_nis = r->e_nis, f_nis = r->f_nis, p_nis = r->p_nis, q_nis = r->q_nis, n_nis = r->n_nis;
    const double h_alpha = r->h_alpha, h_ca_half = r->h_ca_half, h_inv_k = r->h_inv_k;
    const double ca_gain = r->ca_gain, dt_over_c = r->dt_over_c, ksyn_dt = r->ksyn_dt;
    const double g_ca = r->g_ca, g_kf = r->g_kf, g_ks = r->g_ks, g_l = r->g_l, g_syn = r->g_syn;
    const double e_ca = r->e_ca, e_k = r->e_k, e_syn = r->e_syn, gl_el = r->gl_el;
    const double noise_sd = r->noise_sd, coupling = r->coupling, thresh = r->thresh;
    const double *nb_count = r->wave.nb_count, *nb_sum = r->nb_sum;
    const double t = (double)st * dt;
    double root[NM];
    if (st % PW_WAVE_BLOCK == 0) pw_wave_times(&r->wave, st, dt, &r->wt);
    pw_wave_roots(&r->wave, pw_wave_at(&r->wt, st), root); /* its own loop: see pw_drive.h */
    const double i_step0 = (t >= P->step_start_ms && t < P->step_stop_ms) ? P->i_step_uA : 0.0;
    /* Uncoupled (coupling = +-0, nb_sum all +0): the loop drops the coupling
     * terms, G + c nb_count and I + c nb_sum, i.e. + c0 with c0 = c * 0 = +-0.
     * G + c0 is G (G >= g_leak > 0); ((A + i) + noise) + c0 equals
     * (A + (i + c0)) + noise for every A, i, noise (a sum is -0 only when both
     * terms are), so c0 goes into the step's current instead: bitwise the same. */
    const double i_step = coupled ? i_step0 : i_step0 + coupling * 0.0;
    if (coupled) pw_neighbour_sum(X->v, r->nb_sum);
    double zbuf[NM];
    const double *z = noise_sd > 0.0 ? pw_step_noise(r->shared_noise, r->key, st, zbuf) : zbuf;
    uint64_t worst = 0, any_cross = 0; /* worst: the largest |V_{s+1}|'s bits */
    double vinf[NM], ginv[NM], gca_of[NM]; /* V_inf = I/G, -dt G/C, the Ca conductance */
    /* Three loops, not one (as in surrogate.c): the sigmoids of V_s and [Ca]_s
     * (six independent exps); the gates, synapse, G and I/G; V's decay and
     * the pool.  As one body the exps' chain (sigmoid -> G -> I/G -> V's exp)
     * was deeper than the out-of-order window: 10.0-10.6 -> 9.3-9.6 ns. */
    double xs[6][NM]; /* the five gate targets and h's sigmoid at V_s, [Ca]_s */
    for (int j = 0; j < NM; j++) {
        const double V = X->v[j];
        xs[0][j] = sigmoid(V, e_mid, e_nis);
        xs[1][j] = sigmoid(V, f_mid, f_nis);
        xs[2][j] = sigmoid(V, p_mid, p_nis);
        xs[3][j] = sigmoid(V, q_mid, q_nis);
        xs[4][j] = sigmoid(V, n_mid, n_nis);
        xs[5][j] = sigmoid(X->ca[j], h_ca_half, -h_inv_k); /* (ca - half) (-1/k) = (half - ca)/k exactly */
    }
    for (int j = 0; j < NM; j++) {
        const double E = X->e[j], F = X->f[j], Pg = X->p[j], Q = X->q[j], N = X->n[j], S = X->s[j];
        /* 1. gates (Rush-Larsen at V_s) and the graded synapse (drive at t_s) */
        const double En = xs[0][j] + (E - xs[0][j]) * de;
        const double Fn = xs[1][j] + (F - xs[1][j]) * df;
        const double Pn = xs[2][j] + (Pg - xs[2][j]) * dp;
        const double Qn = xs[3][j] + (Q - xs[3][j]) * dq;
        const double Nn = xs[4][j] + (N - xs[4][j]) * dn;
        const double rt = root[j];
        const double w = rt * rt;
        /* graded synapse tau = (1 - s_inf)/k: instantaneous rise at s_inf = 1 */
        const double one_m_w = 1.0 - w;
        /* max(1 - w, 1e-300) as pw_floor_at (one vmaxpd; w is finite, and at
         * 1 - w == 1e-300 both forms give 1e-300) */
        const double ds = one_m_w > 0.0 ? pw_vexp_nonpos(-ksyn_dt / pw_floor_at(one_m_w, 1e-300)) : 0.0;
        const double Sn = w + (S - w) * ds;
        /* 2. V with the new gates, h([Ca]_s), the noise of step s and the neighbours' V_s */
        const double h = 1.0 + (xs[5][j] - 1.0) * h_alpha;
        const double p2 = Pn * Pn;
        const double gca = g_ca * En * En * Fn * h, gk = g_kf * p2 * p2 * Qn + g_ks * Nn, gs = g_syn * Sn;
        const double noise = noise_sd > 0.0 ? noise_sd * z[j] : 0.0;
        const double G = coupled ? gca + gk + g_l + gs + coupling * nb_count[j] : gca + gk + g_l + gs;
        const double I = coupled ? gca * e_ca + gk * e_k + gl_el + gs * e_syn + i_step + noise + coupling * nb_sum[j]
                                 : gca * e_ca + gk * e_k + gl_el + gs * e_syn + i_step + noise;
        vinf[j] = I / G;
        ginv[j] = -dt_over_c * G;
        gca_of[j] = gca;
        Y->e[j] = En; Y->f[j] = Fn; Y->p[j] = Pn; Y->q[j] = Qn; Y->n[j] = Nn; Y->s[j] = Sn;
    }
    /* V's decay and the pool in a loop of their own: as part of the loop above
     * V's exp ended a chain (gate exps -> G -> I/G -> exp) too deep to overlap */
    for (int j = 0; j < NM; j++) {
        const double V = X->v[j], CA = X->ca[j];
        const double Vn = vinf[j] + (V - vinf[j]) * pw_vexp(ginv[j]);
        /* 3. the calcium pool, driven by the Ca current at the new V */
        const double ca_inf = ca_gain * gca_of[j] * (e_ca - Vn);
        const double CAn = ca_inf + (CA - ca_inf) * dca;
        Y->v[j] = Vn;
        Y->ca[j] = CAn > 0.0 ? CAn : 0.0;
        worst = pw_max_abs_bits(worst, Vn);
        any_cross |= (uint64_t)((V < thresh) & (Vn >= thresh));
    }
    if (pw_nonfinite_bits(worst)) return 1;
    const int64_t step = st + 1;
    if (pw_book_spikes_due(&r->book, any_cross)) {
        /* which cells crossed, from V_s and V_{s+1} (both still at hand), only
         * in the steps where one did: no per-cell store in the loop above */
        for (int j = 0; j < NM; j++) r->cross[j] = (uint64_t)((X->v[j] < thresh) & (Y->v[j] >= thresh));
        pw_book_collect(&r->book, step, r->cross);
    }
    if (pw_book_row_due(&r->book)) {
        pw_book_record(&r->book, r->book.o->v_out, Y->v);
        pw_book_record(&r->book, r->ca_out, Y->ca);
    }
    return 0;
}

/* PW_CLONES flattens (pw_vmath.h): with two steps in the body GCC's inliner
 * had left pw_vexp out of line in one loop, compiled for the baseline target. */
PW_CLONES
static int run_kernel(const pw_boyle2008_params *P, const pw_drive *d, const pw_sim_config *c,
                      pw_sim_output *o, void *ca_out, const cell_state *X0, const double *shared_noise) {
    run_state r;
    cell_state a, b; /* the states of even and odd steps, in turn */
    r.P = P;
    r.ca_out = ca_out;
    r.shared_noise = shared_noise;
    pw_wave_init(&r.wave, d);
    const double dt = r.dt = c->dt_ms;
    r.de = exp(-dt / P->e_tau_ms); r.df = exp(-dt / P->f_tau_ms); r.dp = exp(-dt / P->p_tau_ms);
    r.dq = exp(-dt / P->q_tau_ms); r.dn = exp(-dt / P->n_tau_ms); r.dca = exp(-dt / P->ca_decay_ms);
    r.e_mid = P->e_mid_mV; r.f_mid = P->f_mid_mV; r.p_mid = P->p_mid_mV; r.q_mid = P->q_mid_mV;
    r.n_mid = P->n_mid_mV;
    r.e_nis = -1.0 / P->e_scale_mV; r.f_nis = -1.0 / P->f_scale_mV; r.p_nis = -1.0 / P->p_scale_mV;
    r.q_nis = -1.0 / P->q_scale_mV; r.n_nis = -1.0 / P->n_scale_mV;
    r.h_alpha = P->h_alpha; r.h_ca_half = P->h_ca_half_mM; r.h_inv_k = 1.0 / P->h_k_mM;
    r.ca_gain = P->ca_decay_ms * P->ca_rho * P->rho_unit;
    r.dt_over_c = dt / P->c_m_uF; r.ksyn_dt = P->syn_k_per_ms * dt;
    r.g_ca = P->g_ca_boyle; r.g_kf = P->g_k_fast; r.g_ks = P->g_k_slow; r.g_l = P->g_leak; r.g_syn = P->drive_g_syn;
    r.e_ca = P->e_ca_mV; r.e_k = P->e_k_mV; r.e_syn = P->syn_e_rev_mV; r.gl_el = P->g_leak * P->e_leak_mV;
    r.key = pw_splitmix64(d->seed);
    r.noise_sd = d->noise_sd_uA; r.coupling = c->coupling_g; r.thresh = c->spike_thresh_mV;
    r.coupled = r.coupling != 0.0;
    pw_book_init(&r.book, c, o);
    for (int j = 0; j < NM; j++) r.nb_sum[j] = 0.0;
    a = *X0;
    pw_book_record(&r.book, o->v_out, a.v);
    pw_book_record(&r.book, ca_out, a.ca);

    const int64_t n_steps = c->n_steps;
    int64_t st = 0;
    /* literal 0/1: the coupled and uncoupled steps are specialised apart */
    if (r.coupled) {
        for (; st + 1 < n_steps; st += 2) {
            if (one_step(&r, 1, st, &a, &b) || one_step(&r, 1, st + 1, &b, &a)) return PW_E_NONFINITE;
        }
        if (st < n_steps && one_step(&r, 1, st, &a, &b)) return PW_E_NONFINITE;
    } else {
        for (; st + 1 < n_steps; st += 2) {
            if (one_step(&r, 0, st, &a, &b) || one_step(&r, 0, st + 1, &b, &a)) return PW_E_NONFINITE;
        }
        if (st < n_steps && one_step(&r, 0, st, &a, &b)) return PW_E_NONFINITE;
    }
    return pw_book_status(&r.book);
}

PW_API int pw_simulate_boyle2008(const pw_boyle2008_params *params, const pw_drive *drive,
                                 const pw_sim_config *config, pw_sim_output *out, void *ca_out) {
    return pw_run_boyle2008(params, drive, config, out, ca_out, NULL);
}

int pw_run_boyle2008(const pw_boyle2008_params *params, const pw_drive *drive, const pw_sim_config *config,
                     pw_sim_output *out, void *ca_out, const double *shared_noise) {
    int st = validate(params, drive, config, out);
    if (st != PW_OK) return st;
    if (ca_out && out->n_samples < config->n_steps / config->record_every + 1) return PW_E_INVALID;
    cell_state X;
    const double v0 = params->v_init_mV;
    /* NeuroML starts every gate at its steady state and the pool at 0 mM */
    const double e0 = 1.0 / (1.0 + exp((v0 - params->e_mid_mV) * (-1.0 / params->e_scale_mV)));
    const double f0 = 1.0 / (1.0 + exp((v0 - params->f_mid_mV) * (-1.0 / params->f_scale_mV)));
    const double p0 = 1.0 / (1.0 + exp((v0 - params->p_mid_mV) * (-1.0 / params->p_scale_mV)));
    const double q0 = 1.0 / (1.0 + exp((v0 - params->q_mid_mV) * (-1.0 / params->q_scale_mV)));
    const double n0 = 1.0 / (1.0 + exp((v0 - params->n_mid_mV) * (-1.0 / params->n_scale_mV)));
    for (int j = 0; j < NM; j++) {
        X.v[j] = v0; X.e[j] = e0; X.f[j] = f0; X.p[j] = p0; X.q[j] = q0; X.n[j] = n0;
        X.s[j] = 0.0; X.ca[j] = 0.0;
    }
    return run_kernel(params, drive, config, out, ca_out, &X, shared_noise);
}
