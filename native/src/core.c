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

/* built from PW_STATUS_LIST, the header's one list of codes */
static const pw_status_info STATUS[] = {
#define PW_STATUS_ROW_(name, code, message) {code, #name, message},
    PW_STATUS_LIST(PW_STATUS_ROW_)
#undef PW_STATUS_ROW_
};
#define N_STATUS ((int)(sizeof STATUS / sizeof STATUS[0]))

PW_API int pw_status_count(void) { return N_STATUS; }

PW_API const pw_status_info *pw_status_at(int i) { return i >= 0 && i < N_STATUS ? &STATUS[i] : NULL; }

PW_API const char *pw_strerror(int status) {
    for (int i = 0; i < N_STATUS; i++)
        if (STATUS[i].code == status) return STATUS[i].message;
    return "unknown status";
}

PW_API double pw_normal(uint64_t seed, uint64_t counter) { return pw_rng_normal(seed, counter); }
