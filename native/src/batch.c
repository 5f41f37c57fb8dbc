/* batch.c -- many parameter sets in one call, threaded over sets (issue 15).
 *
 * pw_simulate_batch runs B independent simulations of one cell model, each
 * exactly the one-at-a-time entry point (pw_simulate_<model>) on its own
 * buffers, so every result is bitwise identical to a single call whatever the
 * thread count or order.  A small pthread pool takes set indices from an
 * atomic counter (sets of unequal cost balance themselves).  Sharing the drive
 * and the noise between sets inside one step (the second half of
 * item 1) is NOT done here: every set still computes its own.
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

typedef int (*entry4)(const void *, const pw_drive *, const pw_sim_config *, pw_sim_output *);

typedef struct {
    int model; /* 0 pyannow, 1 boyle2008, 2 passive */
    int64_t n_sets;
    const void *const *params;
    const pw_drive *const *drives;
    const pw_sim_config *const *configs;
    pw_sim_output *const *outs;
    void *const *traces;
    int32_t *status;
    int64_t next; /* next set index, taken atomically */
} batch_job;

static int run_one(const batch_job *j, int64_t i) {
    switch (j->model) {
    case 0:
        return pw_simulate_pyannow((const pw_pyannow_params *)j->params[i], j->drives[i], j->configs[i], j->outs[i]);
    case 1:
        return pw_simulate_boyle2008((const pw_boyle2008_params *)j->params[i], j->drives[i], j->configs[i],
                                     j->outs[i], j->traces ? j->traces[i] : NULL);
    default:
        return pw_simulate_passive((const pw_passive_params *)j->params[i], j->drives[i], j->configs[i], j->outs[i]);
    }
}

static void *worker(void *arg) {
    batch_job *j = (batch_job *)arg;
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

PW_API int pw_simulate_batch(const char *model, int64_t n_sets, const void *const *params,
                             const pw_drive *const *drives, const pw_sim_config *const *configs,
                             pw_sim_output *const *outs, void *const *traces, int32_t *status, int32_t n_threads) {
    if (!model || n_sets < 0 || (n_sets > 0 && (!params || !drives || !configs || !outs || !status)))
        return PW_E_INVALID;
    batch_job j = {0, n_sets, params, drives, configs, outs, traces, status, 0};
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
    int worst = PW_OK;
    for (int64_t i = 0; i < n_sets; i++)
        if (status[i] != PW_OK && worst == PW_OK)
            worst = status[i];
    return worst;
}
