/* batch.c -- many parameter sets in one call, threaded over sets (issue 15).
 *
 * pw_simulate_batch runs B independent simulations of one cell model, each
 * exactly the one-at-a-time entry point (pw_simulate_<model>) on its own
 * buffers, so every result is bitwise identical to a single call whatever the
 * thread count or order.  A small pthread pool takes set indices from an
 * atomic counter (sets of unequal cost balance themselves).
 *
 * Shared noise: the noise depends on the seed and the step only, so sets that
 * share a seed (an optimiser generation: every candidate on the same window
 * and seed, common random numbers) read one buffer of the whole run's normals,
 * filled once by all the threads before they start on the sets (pw_vnormal_row
 * row by row: the very values each set would draw, so still bitwise).
 * Buffers are made while their total stays under PW_SHARED_NOISE_BYTES; past
 * it, and for a seed used once, each set draws its own.  The drive is NOT
 * shared: it is per set (its phases are parameters) and ~3% of a step.
 *
 * Threads: n_threads > 0 is used as given; <= 0 means OMP_NUM_THREADS when it
 * is a positive integer, else the number of CPUs in this process's affinity
 * mask (taskset, srun --cpu-bind, cgroups).  Never more threads than sets.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "pyannow.h"
#include "pw_sim_common.h"

/* the most memory the shared noise buffers of one batch may take (~43 s of worm for one seed) */
#define PW_SHARED_NOISE_BYTES ((int64_t)64 << 20)

/* one shared buffer: its seed's key and its rows (steps) */
typedef struct {
    double *buf;
    uint64_t key;
    int64_t steps;
} noise_fill;

typedef struct {
    int model; /* 0 pyannow, 1 boyle2008, 2 passive */
    int64_t n_sets;
    const void *const *params;
    const pw_drive *const *drives;
    const pw_sim_config *const *configs;
    pw_sim_output *const *outs;
    void *const *traces;
    int32_t *status;
    const double **noise; /* per set: a shared noise buffer or NULL */
    noise_fill *fills;    /* the shared buffers to fill, and how far the threads got */
    int64_t n_fills, fill_rows, next_row, rows_done;
    int64_t next; /* next set index, taken atomically */
} batch_job;

static int run_one(const batch_job *j, int64_t i) {
    const double *z = j->noise ? j->noise[i] : NULL;
    switch (j->model) {
    case 0:
        return pw_run_pyannow((const pw_pyannow_params *)j->params[i], j->drives[i], j->configs[i], j->outs[i], z);
    case 1:
        return pw_run_boyle2008((const pw_boyle2008_params *)j->params[i], j->drives[i], j->configs[i], j->outs[i],
                                j->traces ? j->traces[i] : NULL, z);
    default:
        return pw_run_passive((const pw_passive_params *)j->params[i], j->drives[i], j->configs[i], j->outs[i], z);
    }
}

/* Rows [r0, r1) of the shared buffers, counted across them in order. */
PW_CLONES
static void fill_rows(const noise_fill *f, int64_t n_fills, int64_t r0, int64_t r1) {
    for (int64_t b = 0, base = 0; b < n_fills && base < r1; base += f[b].steps, b++)
        for (int64_t s = r0 > base ? r0 - base : 0; s < f[b].steps && base + s < r1; s++)
            pw_vnormal_row(f[b].key, (uint64_t)s * PW_N_MUSCLES, PW_N_MUSCLES / 2, f[b].buf + s * PW_N_MUSCLES);
}

#define FILL_BLOCK 512 /* rows per grab: ~50 us of work, so the threads split even a short buffer */

static void *worker(void *arg) {
    batch_job *j = (batch_job *)arg;
    /* first every thread fills blocks of the shared noise, then waits until all
     * rows are in (a spin on a counter rather than a barrier: a thread that
     * failed to start cannot hang the others, the caller always takes part) */
    for (;;) {
        int64_t r0 = __atomic_fetch_add(&j->next_row, FILL_BLOCK, __ATOMIC_RELAXED);
        if (r0 >= j->fill_rows)
            break;
        int64_t r1 = r0 + FILL_BLOCK < j->fill_rows ? r0 + FILL_BLOCK : j->fill_rows;
        fill_rows(j->fills, j->n_fills, r0, r1);
        __atomic_fetch_add(&j->rows_done, r1 - r0, __ATOMIC_RELEASE);
    }
    while (__atomic_load_n(&j->rows_done, __ATOMIC_ACQUIRE) < j->fill_rows)
        sched_yield();
    for (;;) {
        int64_t i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (i >= j->n_sets)
            return NULL;
        j->status[i] = run_one(j, i);
    }
}

PW_API int pw_default_threads(void) {
    const char *env = getenv("OMP_NUM_THREADS");
    if (env && *env) {
        char *end = NULL;
        long n = strtol(env, &end, 10);
        if (end && (*end == '\0' || *end == ',') && n > 0)
            return n > 4096 ? 4096 : (int)n;
    }
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    return 1;
}

/* Shared noise buffers for the seeds that two or more sets use: noise[i] is
 * set i's buffer or NULL; fills lists them (to be filled, then freed).  Only sets whose
 * structs look sane are grouped (the entry points validate everything later;
 * a set they reject never reads its buffer).  Returns the number of buffers. */
/* Set k draws noise of `seed` over n_steps > 0 (its structs look sane). */
static int draws_seed(const pw_drive *const *drives, const pw_sim_config *const *configs, int64_t k, uint64_t seed) {
    return drives[k] && configs[k] && configs[k]->n_steps > 0 && drives[k]->seed == seed;
}

static int64_t share_noise(int64_t n_sets, const pw_drive *const *drives, const pw_sim_config *const *configs,
                           const double **noise, noise_fill *fills) {
    int64_t n_bufs = 0, bytes = 0;
    for (int64_t i = 0; i < n_sets; i++) noise[i] = NULL;
    for (int64_t i = 0; i < n_sets; i++) {
        if (noise[i] || !drives[i] || !draws_seed(drives, configs, i, drives[i]->seed)) continue;
        const uint64_t seed = drives[i]->seed;
        int64_t steps = configs[i]->n_steps, users = 1;
        for (int64_t k = i + 1; k < n_sets; k++)
            if (draws_seed(drives, configs, k, seed)) {
                users++;
                if (configs[k]->n_steps > steps) steps = configs[k]->n_steps;
            }
        if (users < 2 || steps > (PW_SHARED_NOISE_BYTES - bytes) / (PW_N_MUSCLES * (int64_t)sizeof(double))) continue;
        double *buf = (double *)malloc((size_t)steps * PW_N_MUSCLES * sizeof(double));
        if (!buf) continue; /* no memory for sharing: each set draws its own */
        /* filled by the threads, row by row: the same calls as a set's own draws */
        fills[n_bufs++] = (noise_fill){buf, pw_splitmix64(seed), steps};
        bytes += steps * PW_N_MUSCLES * (int64_t)sizeof(double);
        for (int64_t k = i; k < n_sets; k++)
            if (draws_seed(drives, configs, k, seed)) noise[k] = buf;
    }
    return n_bufs;
}

PW_API int pw_simulate_batch(const char *model, int64_t n_sets, const void *const *params,
                             const pw_drive *const *drives, const pw_sim_config *const *configs,
                             pw_sim_output *const *outs, void *const *traces, int32_t *status, int32_t n_threads) {
    if (!model || n_sets < 0 || (n_sets > 0 && (!params || !drives || !configs || !outs || !status)))
        return PW_E_INVALID;
    batch_job j = {0, n_sets, params, drives, configs, outs, traces, status, NULL, NULL, 0, 0, 0, 0, 0};
    if (strcmp(model, "pyannow") == 0)
        j.model = 0;
    else if (strcmp(model, "boyle2008") == 0)
        j.model = 1;
    else if (strcmp(model, "passive") == 0)
        j.model = 2;
    else
        return PW_E_INVALID;
    if (n_sets == 0)
        return PW_OK;
    const double **noise = (const double **)malloc((size_t)n_sets * sizeof *noise);
    noise_fill *fills = (noise_fill *)malloc((size_t)n_sets * sizeof *fills);
    if (noise && fills) {
        j.n_fills = share_noise(n_sets, drives, configs, noise, fills);
        for (int64_t b = 0; b < j.n_fills; b++)
            j.fill_rows += fills[b].steps;
        j.fills = fills;
        j.noise = noise;
    }
    int64_t n = n_threads > 0 ? n_threads : pw_default_threads();
    if (n > n_sets)
        n = n_sets;
    pthread_t *tids = n > 1 ? (pthread_t *)malloc((size_t)(n - 1) * sizeof *tids) : NULL;
    int64_t started = 0;
    if (tids)
        for (; started < n - 1; started++)
            if (pthread_create(&tids[started], NULL, worker, &j) != 0)
                break; /* fewer threads than asked: the calling thread still finishes every set */
    worker(&j);
    for (int64_t t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    free(tids);
    for (int64_t b = 0; b < j.n_fills; b++)
        free(fills[b].buf);
    free(fills);
    free(noise);
    int worst = PW_OK;
    for (int64_t i = 0; i < n_sets; i++)
        if (status[i] != PW_OK && worst == PW_OK)
            worst = status[i];
    return worst;
}
