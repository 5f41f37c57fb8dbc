/* pw_drive.h -- the body-wave drive every cell model shares (internal,
 * header-only): the per-muscle phases and the wave profile w_j(t) of
 * pyannow.h's [drive] section.  Its Python twin is pyannow_hpc/worm/drive.py
 * (same operations in the same order, for the NumPy and JAX steps).
 *
 * A kernel calls pw_wave_init once, pw_wave_time once per step (two libm calls
 * for the seed's wave: sin(w t + phi_j) = sin(w t) cos(phi_j) + cos(w t) sin(phi_j))
 * and pw_wave_root per muscle inside its vectorised loop; w_j = root^2. */
#ifndef PW_DRIVE_H
#define PW_DRIVE_H
#include <math.h>
#include <stdint.h>

#include "pyannow.h"
#include "pw_vmath.h"

typedef struct {
    double cphi[PW_N_MUSCLES], sphi[PW_N_MUSCLES]; /* cos, sin of phi_j */
    double cyc[PW_N_MUSCLES];      /* phi_j / 2 pi: the muscle's phase in cycles */
    double nb_count[PW_N_MUSCLES]; /* coupled neighbours of each cell (1 at the ends, else 2) */
    double omega;                  /* rad/ms */
    double cyc_per_ms;             /* f * 1e-3 */
    double pulse_scale;            /* 1 / (f W) in cycles^-1 of the pulse, 0 = the seed's wave */
} pw_wave;

/* per step: sin and cos of w t (wave mode), or f t in cycles (pulse mode) */
typedef struct { double sw, cw, ut; } pw_wave_t;

static inline int pw_drive_valid(const pw_drive *d) {
    /* a pulse needs a period to repeat in */
    return d->drive_pulse_ms == 0.0 || d->drive_freq_hz > 0.0;
}

static inline void pw_wave_init(pw_wave *w, const pw_drive *d) {
    const double two_pi = 6.283185307179586476925286766559;
    for (int q = 0; q < PW_N_QUADRANTS; q++)
        for (int s = 0; s < PW_N_SEGMENTS; s++) {
            const int j = q * PW_N_SEGMENTS + s;
            const double phi = (d->phase_rad[q] + d->drive_phase_rad) + two_pi * s / PW_N_SEGMENTS;
            w->cphi[j] = cos(phi);
            w->sphi[j] = sin(phi);
            w->cyc[j] = phi / two_pi;
            w->nb_count[j] = (s > 0) + (s < PW_N_SEGMENTS - 1);
        }
    w->omega = two_pi * d->drive_freq_hz * 1e-3;
    w->cyc_per_ms = d->drive_freq_hz * 1e-3;
    w->pulse_scale = d->drive_pulse_ms > 0.0 ? 1000.0 / (d->drive_freq_hz * d->drive_pulse_ms) : 0.0;
}

static inline pw_wave_t pw_wave_time(const pw_wave *w, double t_ms) {
    pw_wave_t x = {0.0, 0.0, 0.0};
    if (w->pulse_scale > 0.0) {
        x.ut = w->cyc_per_ms * t_ms;
    } else {
        x.sw = sin(w->omega * t_ms);
        x.cw = cos(w->omega * t_ms);
    }
    return x;
}

/* pw_wave_time for PW_WAVE_BLOCK steps at once, s0 .. s0 + PW_WAVE_BLOCK - 1
 * (t = s dt as in the kernels): the seed's wave with pw_vsincos in one
 * vectorised loop instead of libm's sin and cos per step (libm beyond
 * PW_SINCOS_MAX, i.e. after ~70 hours at 1 Hz). */
#define PW_WAVE_BLOCK 32
typedef struct { double sw[PW_WAVE_BLOCK], cw[PW_WAVE_BLOCK], ut[PW_WAVE_BLOCK]; } pw_wave_block;

static inline void pw_wave_times(const pw_wave *restrict w, int64_t s0, double dt, pw_wave_block *restrict b) {
    if (w->pulse_scale > 0.0) {
        for (int i = 0; i < PW_WAVE_BLOCK; i++) {
            b->ut[i] = w->cyc_per_ms * ((double)(s0 + i) * dt);
            b->sw[i] = b->cw[i] = 0.0;
        }
    } else if (fabs(w->omega * ((double)(s0 + PW_WAVE_BLOCK - 1) * dt)) <= PW_SINCOS_MAX) {
        /* |w t| grows with t >= 0: the block's last step bounds them all */
        for (int i = 0; i < PW_WAVE_BLOCK; i++) {
            pw_vsincos(w->omega * ((double)(s0 + i) * dt), &b->sw[i], &b->cw[i]);
            b->ut[i] = 0.0;
        }
    } else {
        for (int i = 0; i < PW_WAVE_BLOCK; i++) {
            const pw_wave_t x = pw_wave_time(w, (double)(s0 + i) * dt);
            b->sw[i] = x.sw;
            b->cw[i] = x.cw;
            b->ut[i] = 0.0;
        }
    }
}

static inline pw_wave_t pw_wave_at(const pw_wave_block *b, int64_t s) {
    const int i = (int)(s % PW_WAVE_BLOCK);
    const pw_wave_t x = {b->sw[i], b->cw[i], b->ut[i]};
    return x;
}

/* sqrt(w_j(t)) >= 0: max(sin(w t + phi_j), 0) for the seed's wave; sin(pi x)
 * for the pulse (x = frac(f t + phi_j/2pi) / (f W) < 1), else 0 */
static inline double pw_wave_root_pulse(const pw_wave *w, int j, pw_wave_t x) {
    const double u = x.ut + w->cyc[j];
    const double p = (u - floor(u)) * w->pulse_scale;
    return p < 1.0 ? pw_vcos2pi(0.5 * p - 0.25) : 0.0; /* cos(pi p - pi/2) = sin(pi p) */
}

static inline double pw_wave_root_sine(const pw_wave *w, int j, pw_wave_t x) {
    const double r = x.sw * w->cphi[j] + x.cw * w->sphi[j];
    /* max(r, 0) as one vmaxpd (pw_floor_at) where `r > 0.0 ? r : 0.0` was a
     * compare and a blend.  The same w = r^2 for every r that can occur: r is
     * finite, and r = -0.0 may come out as -0.0 instead of +0.0, which every
     * caller squares (surrogate.c, boyle2008.c, passive.c) */
    return pw_floor_at(r, 0.0);
}

static inline double pw_wave_root(const pw_wave *w, int j, pw_wave_t x) {
    return w->pulse_scale > 0.0 ? pw_wave_root_pulse(w, j, x) : pw_wave_root_sine(w, j, x);
}

/* all 96 roots of one step into r: the mode test outside the loops, so each
 * loop vectorises (a kernel reading r[j] keeps its cell loop branch-free;
 * with pw_wave_root inside it GCC gives up on "control flow in loop") */
static inline void pw_wave_roots(const pw_wave *restrict w, pw_wave_t x, double *restrict r) {
    if (w->pulse_scale > 0.0) {
        for (int j = 0; j < PW_N_MUSCLES; j++) r[j] = pw_wave_root_pulse(w, j, x);
    } else {
        for (int j = 0; j < PW_N_MUSCLES; j++) r[j] = pw_wave_root_sine(w, j, x);
    }
}

/* the neighbours' V summed (segments s-1, s+1 of the same quadrant) */
static inline void pw_neighbour_sum(const double *restrict v, double *restrict nb_sum) {
    for (int q = 0; q < PW_N_QUADRANTS; q++) {
        const double *vq = v + q * PW_N_SEGMENTS;
        double *o = nb_sum + q * PW_N_SEGMENTS;
        o[0] = vq[1];
        for (int i = 1; i < PW_N_SEGMENTS - 1; i++) o[i] = vq[i - 1] + vq[i + 1];
        o[PW_N_SEGMENTS - 1] = vq[PW_N_SEGMENTS - 2];
    }
}
#endif
