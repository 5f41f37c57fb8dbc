/* pw_sim_common.h -- pieces every 96-cell surrogate kernel shares (internal,
 * header-only): the drive's per-cell phases, recording a state row and the
 * spike bookkeeping.  Written for the boyle2008 cell (boyle2008.c) with the
 * conventions of the seed cell (surrogate.c), so both can use it. */
#ifndef PW_SIM_COMMON_H
#define PW_SIM_COMMON_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "pyannow.h"

/* cos/sin of phi_j = phi_quadrant + 2 pi s / 24 (the wave is then
 * sin(w t + phi_j) = sin(w t) cos(phi_j) + cos(w t) sin(phi_j): two libm calls
 * per step instead of 96), and the number of coupled neighbours of each cell. */
static inline void pw_wave_phases(const pw_drive *d, double *cphi, double *sphi, double *nb_count) {
    const double two_pi = 6.283185307179586476925286766559;
    for (int q = 0; q < PW_N_QUADRANTS; q++)
        for (int s = 0; s < PW_N_SEGMENTS; s++) {
            double phi = d->phase_rad[q] + two_pi * s / PW_N_SEGMENTS;
            cphi[q * PW_N_SEGMENTS + s] = cos(phi);
            sphi[q * PW_N_SEGMENTS + s] = sin(phi);
            nb_count[q * PW_N_SEGMENTS + s] = (s > 0) + (s < PW_N_SEGMENTS - 1);
        }
}

/* Row `row` of a [n_samples][96] float or double buffer (NULL: not recorded). */
static inline void pw_record_row(void *buf, int f32, int64_t row, const double *x) {
    if (!buf) return;
    if (f32) {
        float *dst = (float *)buf + row * PW_N_MUSCLES;
        for (int j = 0; j < PW_N_MUSCLES; j++) dst[j] = (float)x[j];
    } else {
        memcpy((double *)buf + row * PW_N_MUSCLES, x, PW_N_MUSCLES * sizeof(double));
    }
}

/* Accept the threshold crossings `cross` that ended at `step` unless within
 * refr_steps of that muscle's previous spike; count the ones past capacity. */
static inline void pw_collect_spikes(pw_sim_output *o, int64_t step, const uint64_t *cross, int64_t *last_spike,
                                     int64_t refr_steps) {
    for (int j = 0; j < PW_N_MUSCLES; j++) {
        if (!cross[j] || step - last_spike[j] < refr_steps) continue;
        last_spike[j] = step;
        if (o->spikes_needed < o->spike_capacity) {
            o->spike_step[o->spikes_needed] = step;
            o->spike_muscle[o->spikes_needed] = j;
            o->n_spikes++;
        }
        o->spikes_needed++;
    }
}
#endif
