/* pw_sim_common.h -- pieces every 96-cell surrogate kernel shares (internal,
 * header-only): recording a state row, the spike bookkeeping, the per-run
 * bookkeeping (pw_run_book) and the checks of the shared structs (the drive
 * is pw_drive.h).  Written for the boyle2008 cell (boyle2008.c) with the
 * conventions of the seed cell (surrogate.c); passive.c uses it too. */
#ifndef PW_SIM_COMMON_H
#define PW_SIM_COMMON_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "pyannow.h"
#include "pw_drive.h"
#include "pw_fields.h"
#include "pw_vmath.h"

/* The non-finite check of a step's new V, as a running maximum over the cells
 * of |V|'s bits (an unsigned max: vpmaxuq, 2 operations per vector where the
 * per-cell exponent test `(bits >> 52 & 0x7ff) == 0x7ff` took 5), then one
 * test: |V| is inf or NaN iff its bits are >= those of inf. */
static inline uint64_t pw_max_abs_bits(uint64_t worst, double x) {
    const uint64_t a = pw_bits(x) & 0x7fffffffffffffffULL;
    return a > worst ? a : worst;
}
static inline int pw_nonfinite_bits(uint64_t worst) { return worst >= 0x7ff0000000000000ULL; }

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

/* The per-run bookkeeping of every kernel, kept one way: the spike rule's
 * state, the countdown to the next recorded row and where both go.  A kernel
 * embeds one in the state it keeps across steps, calls pw_book_init before
 * step 0 and returns pw_book_status; the model arithmetic stays the kernel's. */
typedef struct {
    pw_sim_output *o;                 /* the run's spikes and recorded rows */
    int64_t last_spike[PW_N_MUSCLES]; /* each muscle's last accepted spike step */
    int64_t refr_steps;               /* ceil(refractory / dt) */
    int64_t rec, to_record, row;      /* record_every; steps until the next row; the row being written */
    int f32;                          /* config's record_f32 */
    int do_spikes;                    /* 0: spike_step or spike_muscle is NULL (spikes not wanted) */
} pw_run_book;

/* Before step 0: no spike yet (INT64_MIN / 2: no refractory window is open,
 * and step - last_spike cannot overflow), none counted, row 0 next. */
static inline void pw_book_init(pw_run_book *b, const pw_sim_config *c, pw_sim_output *o) {
    b->o = o;
    b->refr_steps = (int64_t)ceil(c->spike_refractory_ms / c->dt_ms);
    b->rec = b->to_record = c->record_every;
    b->row = 0;
    b->f32 = c->record_f32;
    b->do_spikes = o->spike_step != NULL && o->spike_muscle != NULL;
    for (int j = 0; j < PW_N_MUSCLES; j++) b->last_spike[j] = INT64_MIN / 2;
    o->n_spikes = 0;
    o->spikes_needed = 0;
}

/* Whether this step's crossings go to pw_book_collect: some cell crossed and
 * spikes are wanted.  A test apart, so a kernel can find which cells crossed
 * only in the steps where one did (boyle2008.c). */
static inline int pw_book_spikes_due(const pw_run_book *b, uint64_t any_cross) { return any_cross && b->do_spikes; }

/* This step's spikes: the crossings `cross` that ended at `step`. */
static inline void pw_book_collect(pw_run_book *b, int64_t step, const uint64_t *cross) {
    pw_collect_spikes(b->o, step, cross, b->last_spike, b->refr_steps);
}

/* After each step: nonzero when it ends a recorded row (step % record_every
 * == 0 without a division per step); b->row is then that row. */
static inline int pw_book_row_due(pw_run_book *b) {
    if (--b->to_record != 0) return 0;
    b->to_record = b->rec;
    b->row++;
    return 1;
}

/* State x (96 values) into row b->row of buf (NULL: not recorded): row 0
 * right after pw_book_init, else after pw_book_row_due said so. */
static inline void pw_book_record(const pw_run_book *b, void *buf, const double *x) {
    pw_record_row(buf, b->f32, b->row, x);
}

/* The kernel's status after its last step: PW_E_CAPACITY if spikes were
 * found past spike_capacity (spikes_needed says how many), else PW_OK. */
static inline int pw_book_status(const pw_run_book *b) {
    return b->o->spikes_needed > b->o->spike_capacity ? PW_E_CAPACITY : PW_OK;
}

/* The checks every kernel shares: the drive, config and output structs against
 * their field tables, plus what bounds cannot say. */
static inline int pw_check_common(const pw_drive *d, const pw_sim_config *c, const pw_sim_output *o) {
    if (!d || !c || !o) return PW_E_INVALID;
    if (pw_check_fields(&pw_info_drive, d) || pw_check_fields(&pw_info_sim_config, c)) return PW_E_INVALID;
    if (!pw_drive_valid(d)) return PW_E_INVALID;
    if ((o->v_out || o->m_out || o->n_out) && o->n_samples < c->n_steps / c->record_every + 1) return PW_E_INVALID;
    if (o->spike_capacity < 0 || (o->spike_capacity > 0 && (!o->spike_step || !o->spike_muscle))) return PW_E_INVALID;
    return PW_OK;
}

/* This step's 96 normals (counters s*96 + j): a row of `shared` when a batch
 * computed the whole run's noise once for every set with this seed
 * (batch.c), else 48 Box-Muller draws into `z`.  Same values either way. */
static inline const double *pw_step_noise(const double *shared, uint64_t key, int64_t s, double *z) {
    if (shared) return shared + s * PW_N_MUSCLES;
    pw_vnormal_row(key, (uint64_t)s * PW_N_MUSCLES, PW_N_MUSCLES / 2, z);
    return z;
}

/* The entry points with a batch's shared noise (NULL: their own), for batch.c;
 * pw_simulate_<model> is each with NULL. */
int pw_run_pyannow(const pw_pyannow_params *params, const pw_drive *drive, const pw_sim_config *config,
                   pw_sim_output *out, const double *shared_noise);
int pw_run_boyle2008(const pw_boyle2008_params *params, const pw_drive *drive, const pw_sim_config *config,
                     pw_sim_output *out, void *ca_out, const double *shared_noise);
int pw_run_passive(const pw_passive_params *params, const pw_drive *drive, const pw_sim_config *config,
                   pw_sim_output *out, const double *shared_noise);
#endif
