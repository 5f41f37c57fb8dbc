/* bench_ops.c -- per-operation costs of this core, for the kernels' roofline
 * (benchmarks/bench_surrogate.py, issue 15).
 *
 * pw_bench_op_ns(op, n_iter) times n_iter passes over 96 independent doubles
 * (the kernels' loop shape, the same PW_CLONES dispatch) and returns the
 * nanoseconds per operation per element:
 *   op 0: pw_vexp (the kernels' exp);  op 1: a division;  op 2: a fused
 *   multiply-add (8 chained per element: 96 elements are enough independent
 *   chains to fill both FMA ports).
 * An empty asm with a memory clobber after every pass keeps GCC from hoisting
 * the work out of the time loop; the stores and loads it forces are the
 * kernels' own (their state lives in arrays too).  Written by hand because no
 * library measures *these* functions on *this* core. */
#include <stdint.h>
#include <time.h>

#include "pw_vmath.h"
#include "pyannow.h"

#define NM PW_N_MUSCLES

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: other processes on a shared core do not count */
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

PW_CLONES
static double run(int op, int64_t n_iter) {
    double x[NM], z[NM];
    for (int j = 0; j < NM; j++) { x[j] = -1.0 - j * 1e-3; z[j] = 1.0 + j * 1e-3; }
    const double t0 = now_ns();
    for (int64_t it = 0; it < n_iter; it++) {
        if (op == 0) {
            for (int j = 0; j < NM; j++) x[j] = -pw_vexp(x[j]);          /* exp(-e^...) stays in (-1, 0) */
        } else if (op == 1) {
            for (int j = 0; j < NM; j++) x[j] = z[j] / x[j];            /* |x| stays in [1, 1.1] */
        } else {
            for (int j = 0; j < NM; j++) {
                double a = x[j];
                for (int k = 0; k < 8; k++) a = a * 0.999999 + 1e-7;   /* a contraction: stays bounded */
                x[j] = a;
            }
        }
        __asm__ volatile("" : : "r"(x) : "memory");
    }
    const double dt = now_ns() - t0;
    double s = 0.0;
    for (int j = 0; j < NM; j++) s += x[j];
    __asm__ volatile("" : : "x"(s));
    return dt / ((double)n_iter * NM * (op == 2 ? 8 : 1));
}

PW_API double pw_bench_op_ns(int32_t op, int64_t n_iter) {
    if (op < 0 || op > 2 || n_iter <= 0) return -1.0;
    return run(op, n_iter);
}
