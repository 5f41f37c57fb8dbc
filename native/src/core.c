/* core.c -- ABI version, build info, status strings and the shared
 * counter-based normal generator. */
#include "pyannow.h"
#include "pw_rng.h"

PW_API int pw_abi_version(void) { return PW_ABI_VERSION; }

#define PW_STR2(x) #x
#define PW_STR(x) PW_STR2(x)

PW_API const char *pw_build_info(void) {
    return "libpyannow abi=" PW_STR(PW_ABI_VERSION)
#if defined(__clang__)
           " compiler=clang-" __clang_version__
#elif defined(__GNUC__)
           " compiler=gcc-" __VERSION__
#endif
#if defined(__AVX512F__)
           " simd=avx512"
#elif defined(__AVX2__)
           " simd=avx2"
#elif defined(__SSE2__)
           " simd=sse2"
#endif
        ;
}

PW_API const char *pw_strerror(int status) {
    switch (status) {
    case PW_OK: return "ok";
    case PW_E_INVALID: return "invalid argument";
    case PW_E_CAPACITY: return "output buffer too small";
    case PW_E_NONFINITE: return "state became NaN or infinite";
    case PW_E_SYSTEM: return "operating-system call failed";
    case PW_E_TIMEOUT: return "child process timed out and was killed";
    default: return "unknown status";
    }
}

PW_API double pw_normal(uint64_t seed, uint64_t counter) { return pw_rng_normal(seed, counter); }
