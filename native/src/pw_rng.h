/* pw_rng.h -- counter-based Gaussian generator (internal, header-only).
 *
 * Written by hand rather than taken from a library because the JAX path must
 * reproduce the very same stream (pyannow_hpc/worm/rng.py): splitmix64 is a
 * few integer operations that both C and XLA compute exactly, and Box-Muller
 * needs only log/sqrt/cos, which agree to an ulp or two between libm and XLA.
 *
 *   k  = splitmix64(seed)
 *   a  = splitmix64(k + 2*counter),  b = splitmix64(k + 2*counter + 1)
 *   u1 = ((a >> 11) + 1) * 2^-53   in (0, 1]
 *   u2 =  (b >> 11)      * 2^-53   in [0, 1)
 *   z  = sqrt(-2 ln u1) * cos(2 pi u2)
 */
#ifndef PW_RNG_H
#define PW_RNG_H
#include <math.h>
#include <stdint.h>

static inline uint64_t pw_splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static inline double pw_rng_normal(uint64_t seed, uint64_t counter) {
    const double two_pi = 6.283185307179586476925286766559;
    const double inv53 = 1.0 / 9007199254740992.0; /* 2^-53 */
    uint64_t k = pw_splitmix64(seed);
    uint64_t a = pw_splitmix64(k + 2u * counter);
    uint64_t b = pw_splitmix64(k + 2u * counter + 1u);
    double u1 = (double)((a >> 11) + 1u) * inv53;
    double u2 = (double)(b >> 11) * inv53;
    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}
#endif
