/* pw_vmath.h -- branch-free exp, log and cos(2 pi u) for vectorised loops
 * (internal, header-only).
 *
 * Why by hand: glibc's exp/log/cos are scalar calls, and a call inside the
 * 96-cell loop stops GCC from vectorising it; the exponentials and the noise
 * generator's log/cos are ~90% of the surrogate's work.  These versions are
 * straight-line code on doubles and 64-bit integers only (no tables, no
 * branches, no double<->int64 conversion instructions, which AVX2 lacks), so
 * GCC turns a loop that calls them into AVX2 / AVX-512 code.
 *
 * Accuracy (checked in tests/native/test_vmath.py against libm over the
 * ranges the surrogate uses): a few ulp, ~1e-15 relative.  Inputs are assumed
 * finite; pw_vexp clamps its argument to [-708, 708] (exp(-708) ~ 3e-308, so
 * sigmoids and decays saturate instead of overflowing to inf).
 */
#ifndef PW_VMATH_H
#define PW_VMATH_H
#include <stdint.h>
#include <string.h>

#include "pw_rng.h" /* the stream's hash and uniforms, shared with the scalar pw_rng_normal */

/* Put PW_CLONES on a hot-loop function to compile it for AVX-512, AVX2+FMA
 * and baseline x86-64, picked at load time (ifunc): vector speed without
 * -march=native, so one library runs on any x86-64. */
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__)) && __GNUC__ >= 12
#define PW_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PW_CLONES
#endif

static inline uint64_t pw_bits(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
static inline double pw_from_bits(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }

/* Estrin's scheme for c[0] + c[1] t + ... + c[11] t^11 (ascending c): a tree
 * four multiplies deep where Horner's rule is a chain of eleven.  Why: the
 * kernels' loops were bound by the latency of their polynomial chains, not by
 * the FMA ports; the tree costs three multiplies more.  Rounding differs from
 * Horner's by an ulp at most (|terms| decrease fast). */
static inline double pw_estrin12(const double *c, double t) {
    const double t2 = t * t, t4 = t2 * t2, t8 = t4 * t4;
    const double q0 = (c[0] + t * c[1]) + t2 * (c[2] + t * c[3]);
    const double q1 = (c[4] + t * c[5]) + t2 * (c[6] + t * c[7]);
    const double q2 = (c[8] + t * c[9]) + t2 * (c[10] + t * c[11]);
    return (q0 + t4 * q1) + t8 * q2;
}

/* exp(x): x = n ln2 + r, |r| <= ln2/2, exp(r) by its Taylor series to r^12
 * (truncation < 2e-16 relative), times 2^n built in the exponent bits. */
static inline double pw_vexp(double x) {
    const double log2e = 1.4426950408889634074;
    const double ln2_hi = 6.93147180369123816490e-01; /* high bits of ln 2, exact n*ln2_hi */
    const double ln2_lo = 1.90821492927058770002e-10;
    const double shifter = 6755399441055744.0;        /* 1.5 * 2^52: rounds to an integer in the low bits */
    x = x < -708.0 ? -708.0 : x;
    x = x > 708.0 ? 708.0 : x;
    double kd = x * log2e + shifter;
    uint64_t ki = pw_bits(kd);                        /* low bits hold n (two's complement) */
    kd -= shifter;                                    /* n as a double */
    double r = (x - kd * ln2_hi) - kd * ln2_lo;
    /* Estrin's scheme rather than Horner: the same polynomial in a tree 4
     * FMAs deep instead of a chain of 12 (2 more operations), because the
     * kernels' loops were bound by the latency of their exp chains */
    const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    const double p01 = 1.0 + r, p23 = 0.5 + r * (1.0 / 6.0), p45 = 1.0 / 24.0 + r * (1.0 / 120.0);
    const double p67 = 1.0 / 720.0 + r * (1.0 / 5040.0), p89 = 1.0 / 40320.0 + r * (1.0 / 362880.0);
    const double p1011 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0);
    const double q0 = p01 + r2 * p23, q1 = p45 + r2 * p67, q2 = p89 + r2 * p1011;
    const double s0 = q0 + r4 * q1, s1 = q2 + r4 * (1.0 / 479001600.0);
    const double p = s0 + r8 * s1;
    /* 2^n: n + 1023 in the exponent field; (ki + 1023) keeps n's low bits */
    double scale = pw_from_bits((ki + 1023u) << 52);
    return p * scale;
}

/* exp(x) for |x| <= 1/16 without range reduction: Taylor to x^10
 * (truncation (1/16)^11/11! < 1e-21 relative), 13 operations where pw_vexp
 * takes 23.  For decays whose rate is bounded per run (the seed cell's
 * dt/tau_n <= dt/tau_n_min), picked outside the loop. */
static inline double pw_vexp_small(double x) {
    static const double c[12] = {1.0, 1.0, 0.5, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0,
                                 1.0 / 5040.0, 1.0 / 40320.0, 1.0 / 362880.0, 1.0 / 3628800.0, 0.0};
    return pw_estrin12(c, x);
}

/* log(x) for normal x > 0: x = 2^e m with m in [sqrt(1/2), sqrt(2)),
 * log m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172, series to s^21 (truncation s^22/23 < 3e-18). */
static inline double pw_vlog(double x) {
    const double ln2 = 6.93147180559945286227e-01;
    uint64_t u = pw_bits(x);
    /* move m into [sqrt(1/2), sqrt(2)) by biasing the mantissa before taking the exponent */
    uint64_t ub = u + (0x3ff0000000000000ULL - 0x3fe6a09e667f3bcdULL);
    uint64_t e_biased = ub >> 52;                                  /* e + 1023 */
    double m = pw_from_bits(u - ((e_biased - 1023u) << 52));
    /* e as a double without a cvtqq2pd: 2^52 + e_biased, exact, minus 2^52 + 1023 */
    double e = pw_from_bits(0x4330000000000000ULL | e_biased) - (4503599627370496.0 + 1023.0);
    double s = (m - 1.0) / (m + 1.0);
    double s2 = s * s;
    static const double c[12] = {1.0, 1.0 / 3.0, 1.0 / 5.0, 1.0 / 7.0, 1.0 / 9.0, 1.0 / 11.0,
                                 1.0 / 13.0, 1.0 / 15.0, 1.0 / 17.0, 1.0 / 19.0, 1.0 / 21.0, 0.0};
    const double p = pw_estrin12(c, s2);
    return e * ln2 + 2.0 * s * p;
}

/* cos(2 pi u) and sin(2 pi u) for u in [0, 1]: u = h/2 + f with |f| <= 1/4
 * (exact), so both are (-1)^h times cos(a), sin(a), a = 2 pi f in [-pi/2, pi/2];
 * Taylor series to a^22 and a^23 (truncation (pi/2)^24/24! < 2e-19); the sign
 * by a select.  One range reduction serves both outputs of a Box-Muller draw. */
static inline void pw_vsincos2pi(double u, double *c_out, double *s_out) {
    const double two_pi = 6.283185307179586476925286766559;
    const double shifter = 6755399441055744.0;
    double hd = (2.0 * u + shifter);
    uint64_t h = pw_bits(hd) & 1u;
    hd -= shifter;
    double f = u - 0.5 * hd;
    double a = two_pi * f, a2 = a * a;
    /* (-1)^k / (2k)! and (-1)^k / (2k+1)!, k = 0 .. 11, as polynomials in a^2 */
    static const double cos_c[12] = {1.0, -0.5, 1.0 / 24.0, -1.0 / 720.0, 1.0 / 40320.0, -1.0 / 3628800.0,
                                     1.0 / 479001600.0, -1.0 / 87178291200.0, 1.0 / 20922789888000.0,
                                     -1.0 / 6402373705728000.0, 1.0 / 2432902008176640000.0,
                                     -1.0 / 1124000727777607680000.0};
    static const double sin_c[12] = {1.0, -1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0,
                                     -1.0 / 39916800.0, 1.0 / 6227020800.0, -1.0 / 1307674368000.0,
                                     1.0 / 355687428096000.0, -1.0 / 121645100408832000.0,
                                     1.0 / 51090942171709440000.0, -1.0 / 25852016738884976640000.0};
    const double c = pw_estrin12(cos_c, a2);
    double s = pw_estrin12(sin_c, a2);
    s *= a;
    *c_out = h ? -c : c;
    *s_out = h ? -s : s;
}

/* cos(2 pi u) alone (the drive's pulse): the compiler drops the unused sine */
static inline double pw_vcos2pi(double u) {
    double c, s;
    pw_vsincos2pi(u, &c, &s);
    return c;
}

/* splitmix64 and the (seed, counter) -> N(0,1) map of pw_rng.h for the 2n
 * counters base, base+1, ..., base+2n-1 (base even): n Box-Muller draws, each
 * giving two normals, written to out[0 .. 2n-1]; straight-line code, so the
 * loop vectorises.  Equal to pw_rng_normal to ~1 ulp. */
static inline void pw_vnormal_row(uint64_t key, uint64_t base, int n, double *restrict out) {
    for (int i = 0; i < n; i++) {
        const uint64_t c2 = key + base + 2u * (uint64_t)i;
        const uint64_t a = pw_splitmix64(c2), b = pw_splitmix64(c2 + 1u); /* integer-only: vectorises */
        double u1 = 2.0 - pw_one_to_two(a), u2 = pw_one_to_two(b) - 1.0;
        double r = __builtin_sqrt(-2.0 * pw_vlog(u1)), c, s;
        pw_vsincos2pi(u2, &c, &s);
        out[2 * i] = r * c;
        out[2 * i + 1] = r * s;
    }
}
#endif
