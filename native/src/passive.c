/* passive.c -- the passive cell: the worked example of a third cell model
 * (docs/cell_models.md).  A leak and the body-wave drive as a conductance,
 * no gates:
 *   C dV/dt = g_leak (E_leak - V) + g_syn w_j(t) (E_syn - V) + I_noise + I_coupling
 * one exponential update per step (the ODE is linear in V with w frozen at
 * t_s): V_{s+1} = V_inf + (V_s - V_inf) exp(-dt G / C).  The conventions
 * (step s, noise counter, recording, spike rule) are those of surrogate.c.
 * Its JAX twin is pyannow_hpc/worm/passive_jax.py. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "pw_fields.h"
#include "pw_rng.h"
#include "pw_sim_common.h"
#include "pw_vmath.h"
#include "pyannow.h"

#define NM PW_N_MUSCLES

#define T pw_passive_params
static const pw_field passive_rows[] = {
    PW_F64(T, g_leak, "mS/cm^2", 0.05, 0.0, INFINITY, PW_FIELD_LOWER_OPEN, "leak conductance"),
    PW_F64(T, e_leak_mV, "mV", -65.0, -INFINITY, INFINITY, PW_FIELD_INPUT, "leak reversal"),
    PW_F64(T, c_m_uF, "uF/cm^2", 1.0, 0.0, INFINITY, PW_FIELD_LOWER_OPEN, "membrane capacitance"),
    PW_F64(T, drive_g_syn, "mS/cm^2", 0.1, 0.0, INFINITY, PW_FIELD_INPUT, "peak conductance of the wave drive"),
    PW_F64(T, syn_e_rev_mV, "mV", 0.0, -INFINITY, INFINITY, PW_FIELD_INPUT, "drive reversal"),
    PW_F64(T, v_init_mV, "mV", -65.0, -INFINITY, INFINITY, PW_FIELD_CONSTANT, "V at t = 0"),
};
#undef T
const pw_struct_info pw_info_passive_params = PW_STRUCT_INFO(pw_passive_params, passive_rows);

PW_CLONES
static int run_kernel(const pw_passive_params *P, const pw_drive *d, const pw_sim_config *c, pw_sim_output *o,
                      double *restrict v, const double *shared_noise) {
    pw_wave wave;
    double nb_sum[NM], vn[NM];
    uint64_t cross[NM];
    pw_run_book book; /* the output, spikes and record countdown, as the other kernels (pw_sim_common.h) */
    pw_wave_init(&wave, d);
    const double dt = c->dt_ms, dt_over_c = dt / P->c_m_uF;
    const double gl = P->g_leak, gl_el = P->g_leak * P->e_leak_mV, g_syn = P->drive_g_syn, e_syn = P->syn_e_rev_mV;
    const uint64_t key = pw_splitmix64(d->seed);
    const double noise_sd = d->noise_sd_uA, coupling = c->coupling_g, thresh = c->spike_thresh_mV;
    pw_book_init(&book, c, o);
    for (int j = 0; j < NM; j++) nb_sum[j] = 0.0;
    pw_book_record(&book, o->v_out, v);
    for (int64_t st = 0; st < c->n_steps; st++) {
        const pw_wave_t wt = pw_wave_time(&wave, (double)st * dt);
        if (coupling != 0.0) pw_neighbour_sum(v, nb_sum);
        double zbuf[NM];
        const double *z = pw_step_noise(shared_noise, key, st, zbuf);
        uint64_t worst = 0, any_cross = 0; /* worst: the largest |V_{s+1}|'s bits (pw_sim_common.h) */
        for (int j = 0; j < NM; j++) {
            const double r = pw_wave_root(&wave, j, wt);
            const double gs = g_syn * (r * r);
            const double noise = noise_sd * z[j];
            const double G = gl + gs + coupling * wave.nb_count[j];
            const double I = gl_el + gs * e_syn + noise + coupling * nb_sum[j];
            const double vinf = I / G;
            const double V = v[j], Vn = vinf + (V - vinf) * pw_vexp(-dt_over_c * G);
            vn[j] = Vn;
            worst = pw_max_abs_bits(worst, Vn);
            cross[j] = (uint64_t)((V < thresh) & (Vn >= thresh));
            any_cross |= cross[j];
        }
        if (pw_nonfinite_bits(worst)) return PW_E_NONFINITE;
        memcpy(v, vn, sizeof vn);
        const int64_t step = st + 1;
        if (pw_book_spikes_due(&book, any_cross)) pw_book_collect(&book, step, cross);
        if (pw_book_row_due(&book)) pw_book_record(&book, o->v_out, v);
    }
    return pw_book_status(&book);
}

PW_API int pw_simulate_passive(const pw_passive_params *params, const pw_drive *drive, const pw_sim_config *config,
                               pw_sim_output *out) {
    return pw_run_passive(params, drive, config, out, NULL);
}

int pw_run_passive(const pw_passive_params *params, const pw_drive *drive, const pw_sim_config *config,
                   pw_sim_output *out, const double *shared_noise) {
    if (!params || pw_check_common(drive, config, out) || pw_check_fields(&pw_info_passive_params, params))
        return PW_E_INVALID;
    if (config->integrator != PW_INTEGRATOR_EXPONENTIAL) return PW_E_INVALID;
    double v[NM];
    for (int j = 0; j < NM; j++) v[j] = params->v_init_mV;
    return run_kernel(params, drive, config, out, v, shared_noise);
}
