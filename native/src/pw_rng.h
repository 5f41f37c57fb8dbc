/* pw_rng.h -- counter-based Gaussian generator (internal, header-only).
 *
 * Written by hand rather than taken from a library because the JAX path must
 * reproduce the very same stream (pyannow_hpc/worm/rng.py): splitmix64 is a
 * few integer operations that both C and XLA compute exactly, and Box-Muller
 * needs only log/sqrt/cos/sin, which agree to an ulp or two between libm and XLA.
 *
 * Both outputs of each Box-Muller draw are used (counters 2p and 2p+1 share
 * draw p): half the hashes, logs and square roots per normal.
 *
 *   k  = splitmix64(seed),  p = counter >> 1
 *   a  = splitmix64(k + 2*p),  b = splitmix64(k + 2*p + 1)
 *   u1 = 2 - double(0x3ff << 52 | a >> 12)   in (0, 1]   (52 random mantissa bits
 *   u2 = double(0x3ff << 52 | b >> 12) - 1   in [0, 1)    under exponent 0: [1, 2))
 *   z  = sqrt(-2 ln u1) * (counter even ? cos(2 pi u2) : sin(2 pi u2))
 */
#ifndef PW_RNG_H
#define PW_RNG_H
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t pw_splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* [1, 2) from the top 52 bits of x: exact, a shift and an OR (no int->double
 * conversion, which AVX2 lacks for 64-bit lanes), identical in C, XLA, NumPy */
static inline double pw_one_to_two(uint64_t x) {
    double d;
    x = 0x3FF0000000000000ULL | (x >> 12);
    memcpy(&d, &x, sizeof d);
    return d;
}

static inline double pw_rng_normal(uint64_t seed, uint64_t counter) {
    const double two_pi = 6.283185307179586476925286766559;
    uint64_t k = pw_splitmix64(seed), pair2 = counter & ~(uint64_t)1; /* 2p */
    uint64_t a = pw_splitmix64(k + pair2);
    uint64_t b = pw_splitmix64(k + pair2 + 1u);
    double u1 = 2.0 - pw_one_to_two(a); /* Sterbenz: both subtractions are exact */
    double u2 = pw_one_to_two(b) - 1.0;
    return sqrt(-2.0 * log(u1)) * ((counter & 1u) ? sin(two_pi * u2) : cos(two_pi * u2));
}
#endif
