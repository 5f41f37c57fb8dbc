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
 * -march=native, so one library runs on any x86-64.
 *
 * flatten: every helper is inlined into each clone.  A helper GCC leaves out
 * of line is compiled once, for the baseline target: the AVX-512 clone then
 * called scalar, FMA-less code (the seed kernel's drive, noise and some exps
 * were), slower, and rounding differently from the same helper inlined, so
 * any edit that moved an inlining decision changed results by an ulp. */
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__)) && __GNUC__ >= 12
#define PW_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten))
#else
#define PW_CLONES
#endif

/* min/max for the exps' argument clamps.  GCC (without -ffinite-math-only)
 * keeps `x < lo ? lo : x` a compare and a select and, worse, threads the
 * constant lo through the whole exp: each clamp became two or three compares,
 * a mask merge and masked moves of precomputed results (16 vcmppd in the seed
 * kernel's three-exp loop).  Under finite-math-only the two ternaries become
 * MIN_EXPR/MAX_EXPR, i.e. one vminpd/vmaxpd each (minpd(x, c) is exactly
 * x < c ? x : c; only a NaN x could come out as lo or hi instead of NaN, and
 * the kernels detect non-finite states on V, whose own arithmetic keeps the
 * NaN).  The attribute applies to these two comparisons only (GCC's; other
 * compilers get the plain ternaries). */
#if defined(__GNUC__) && !defined(__clang__)
#define PW_MINMAX static inline __attribute__((always_inline, optimize("finite-math-only", "no-signed-zeros")))
#else
#define PW_MINMAX static inline
#endif
PW_MINMAX double pw_clamp(double x, double lo, double hi) {
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

PW_MINMAX double pw_floor_at(double x, double lo) {
    return x < lo ? lo : x;
}

static inline uint64_t pw_bits(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
static inline double pw_from_bits(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }

/* c[0] + c[1] t + ... + c[n-1] t^(n-1) (ascending c) as E(t^2) + t O(t^2), E
 * and O by Horner's rule: two independent chains of n/2 FMAs, n + 1
 * operations.  Why not Estrin's tree (4 FMAs deep, n + 3 operations, what
 * these were before): since the kernels split their exps into loops of
 * independent work, the out-of-order core overlaps the chains across cells and
 * the FMA ports are the limit, so the three saved operations per polynomial
 * are worth more than the shorter chain (pw_vexp's and pw_vexp_small's
 * polynomials this way: seed kernel 7.5 -> 6.9 ns/cell-step, boyle2008
 * 12.0 -> 11.1, AVX-512 on a 2-core Zen 4; rounding differs from Estrin's by an
 * ulp at most). */
static inline double pw_eo11(const double *c, double t) {
    const double t2 = t * t;
    const double e = c[0] + t2 * (c[2] + t2 * (c[4] + t2 * (c[6] + t2 * (c[8] + t2 * c[10]))));
    const double o = c[1] + t2 * (c[3] + t2 * (c[5] + t2 * (c[7] + t2 * c[9])));
    return e + t * o;
}
static inline double pw_eo12(const double *c, double t) {
    const double t2 = t * t;
    const double e = c[0] + t2 * (c[2] + t2 * (c[4] + t2 * (c[6] + t2 * (c[8] + t2 * c[10]))));
    const double o = c[1] + t2 * (c[3] + t2 * (c[5] + t2 * (c[7] + t2 * (c[9] + t2 * c[11]))));
    return e + t * o;
}

/* exp(x) for x in [-708, 708] (the caller clamps): x = n ln2 + r, |r| <= ln2/2,
 * exp(r) by a degree-11 polynomial (relative error 1.7e-17 on [-ln2/2, ln2/2]
 * with these double coefficients, before rounding; a least-squares fit in
 * relative error on 400 Chebyshev nodes with c0 = 1, computed with mpmath at
 * 60 digits, where Taylor's series needs degree 12), times 2^n built in the
 * exponent bits. */
static inline __attribute__((always_inline)) double pw_vexp_core(double x) {
    static const double c[12] = {1.0, 1.0, 0.5000000000000012, 0.16666666666666055, 0.04166666666651616,
                                 0.008333333333612256, 0.0013888888946719448, 0.00019841269331448246,
                                 2.4801490306092563e-05, 2.755770707226833e-06, 2.763113913421698e-07,
                                 2.4968646932926366e-08};
    const double log2e = 1.4426950408889634074;
    const double ln2_hi = 6.93147180369123816490e-01; /* high bits of ln 2, exact n*ln2_hi */
    const double ln2_lo = 1.90821492927058770002e-10;
    const double shifter = 6755399441055744.0;        /* 1.5 * 2^52: rounds to an integer in the low bits */
    double kd = x * log2e + shifter;
    const uint64_t ki = pw_bits(kd);                  /* low bits hold n (two's complement) */
    kd -= shifter;                                    /* n as a double */
    const double r = (x - kd * ln2_hi) - kd * ln2_lo;
    const double p = pw_eo12(c, r);
    /* p 2^n by adding n to p's exponent field, an integer add where the
     * multiplication by 2^n built from (n + 1023) << 52 took an add, a shift and a
     * vmulpd on the FMA ports.  The same bits: p is in [0.7, 1.42] and
     * |n| <= 1021 for |x| <= 708, so p 2^n is a normal number (exponent field
     * 1..2044) and the product by 2^n was exact. */
    return pw_from_bits(pw_bits(p) + (ki << 52));
}

/* exp(x) with x clamped to [-708, 708] (exp(-708) ~ 3e-308: sigmoids and decays
 * saturate instead of overflowing to inf) */
static inline double pw_vexp(double x) { return pw_vexp_core(pw_clamp(x, -708.0, 708.0)); }

/* exp(x) for x <= 0 (a decay; the argument's sign is known): one clamp, at -708 */
static inline double pw_vexp_nonpos(double x) { return pw_vexp_core(pw_floor_at(x, -708.0)); }

/* exp(min(x, cap)) for a cap <= 708 (the seed's paired sigmoids): one min, one max */
static inline double pw_vexp_capped(double x, double cap) { return pw_vexp_core(pw_clamp(x, -708.0, cap)); }

/* exp(x) for |x| <= 1/16 without range reduction: Taylor to x^9
 * (truncation (1/16)^10/10! < 3e-19 relative), 10 operations where pw_vexp
 * takes ~20.  For decays whose rate is bounded per run (the seed cell's
 * dt/tau_n <= dt/tau_n_min), picked outside the loop. */
static inline double pw_vexp_small(double x) {
    static const double c[10] = {1.0, 1.0, 0.5, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0,
                                 1.0 / 5040.0, 1.0 / 40320.0, 1.0 / 362880.0};
    const double x2 = x * x;
    const double e = c[0] + x2 * (c[2] + x2 * (c[4] + x2 * (c[6] + x2 * c[8])));
    const double o = c[1] + x2 * (c[3] + x2 * (c[5] + x2 * (c[7] + x2 * c[9])));
    return e + x * o;
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
    static const double c[11] = {1.0, 1.0 / 3.0, 1.0 / 5.0, 1.0 / 7.0, 1.0 / 9.0, 1.0 / 11.0,
                                 1.0 / 13.0, 1.0 / 15.0, 1.0 / 17.0, 1.0 / 19.0, 1.0 / 21.0};
    const double p = pw_eo11(c, s2);
    return e * ln2 + 2.0 * s * p;
}

/* cos(2 pi u) and sin(2 pi u) for u in [0, 1]: u = h/2 + f with |f| <= 1/4
 * (exact), so both are (-1)^h times cos(a), sin(a), a = 2 pi f in [-pi/2, pi/2];
 * Taylor series to a^22 and a^23 (truncation (pi/2)^24/24! < 2e-19); the sign
 * by an XOR of the sign bit.  One range reduction serves both outputs of a Box-Muller draw. */
static inline void pw_vsincos2pi(double u, double *c_out, double *s_out) {
    const double two_pi = 6.283185307179586476925286766559;
    const double shifter = 6755399441055744.0;
    double hd = (2.0 * u + shifter);
    const uint64_t sign = pw_bits(hd) << 63; /* h's parity as the sign bit */
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
    const double c = pw_eo12(cos_c, a2);
    double s = pw_eo12(sin_c, a2);
    s *= a;
    /* (-1)^h by flipping the sign bit: an XOR each (as `h ? -c : c` GCC made a
     * test into a mask, a negation and a masked move per output) */
    *c_out = pw_from_bits(pw_bits(c) ^ sign);
    *s_out = pw_from_bits(pw_bits(s) ^ sign);
}

/* sin(x) and cos(x) for |x| <= PW_SINCOS_MAX (the drive's sin(w t), cos(w t)
 * for a block of steps, pw_drive.h): x = k pi/2 + r with fdlibm's 33-bit
 * pieces of pi/2 (k < 2^20: every k*piece is exact and x - k*pio2_1 is exact, with
 * or without FMA contraction), |r| <= pi/4 + tiny; Taylor series to r^17 and
 * r^16 (truncation < 2e-18); the quadrant k mod 4 picks and signs the two.
 * Within ~1 ulp of libm's sin and cos, which it replaces because those two
 * scalar calls per step were ~4% of the seed kernel. */
#define PW_SINCOS_MAX 1.6e6
static inline void pw_vsincos(double x, double *s_out, double *c_out) {
    const double two_over_pi = 6.36619772367581382433e-01;
    const double pio2_1 = 1.57079632673412561417e+00;  /* first 33 bits of pi/2 */
    const double pio2_2 = 6.07710050630396597660e-11;  /* next 33 bits */
    const double pio2_3 = 2.02226624871116645580e-21;  /* next 33 bits */
    const double pio2_3t = 8.47842766036889956997e-32; /* pi/2 - pio2_1 - pio2_2 - pio2_3 */
    const double shifter = 6755399441055744.0;
    double kd = x * two_over_pi + shifter;
    const uint64_t q = pw_bits(kd);                     /* low bits: k (two's complement) */
    kd -= shifter;
    const double r = (((x - kd * pio2_1) - kd * pio2_2) - kd * pio2_3) - kd * pio2_3t;
    const double r2 = r * r;
    static const double sc[8] = {-1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0, -1.0 / 39916800.0,
                                 1.0 / 6227020800.0, -1.0 / 1307674368000.0, 1.0 / 355687428096000.0};
    static const double cc[8] = {-0.5, 1.0 / 24.0, -1.0 / 720.0, 1.0 / 40320.0, -1.0 / 3628800.0,
                                 1.0 / 479001600.0, -1.0 / 87178291200.0, 1.0 / 20922789888000.0};
    double ps = sc[7], pc = cc[7];
    for (int i = 6; i >= 0; i--) { ps = sc[i] + r2 * ps; pc = cc[i] + r2 * pc; }
    const double sr = r + (r * r2) * ps, cr = 1.0 + r2 * pc;
    /* k mod 4 = 0: (s, c); 1: (c, -s); 2: (-s, -c); 3: (-c, s) */
    const int swap = (int)(q & 1u);
    const double a = swap ? cr : sr, b = swap ? sr : cr;
    *s_out = pw_from_bits(pw_bits(a) ^ ((q & 2u) << 62));
    *c_out = pw_from_bits(pw_bits(b) ^ (((q + 1u) & 2u) << 62));
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
