/* core.c -- ABI version, build info, status strings and the shared
 * counter-based normal generator. */
#include "pyannow.h"
#include "pw_rng.h"

#include <stdio.h>

PW_API int pw_abi_version(void) { return PW_ABI_VERSION; }

/* The hot loops are compiled for several ISAs (PW_CLONES in pw_vmath.h) and the
 * loader picks one at run time, so the kernel is reported from the CPU's
 * features, not from this file's compile flags. */
static const char *pw_kernel_isa(void) {
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__)) && __GNUC__ >= 12
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return "x86-64-v4 (AVX-512)";
    if (__builtin_cpu_supports("x86-64-v3")) return "x86-64-v3 (AVX2+FMA)";
    return "x86-64 baseline";
#else
    return "portable C";
#endif
}

PW_API const char *pw_build_info(void) {
    static char info[256];
    snprintf(info, sizeof info, "libpyannow abi=%d compiler=%s kernel=%s", PW_ABI_VERSION,
#if defined(__clang__)
             "clang-" __clang_version__,
#elif defined(__GNUC__)
             "gcc-" __VERSION__,
#else
             "unknown",
#endif
             pw_kernel_isa());
    return info;
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
