/* pw_fields.h -- building and checking the field tables of pyannow.h's
 * [fields] section (internal, header-only).
 *
 * Each struct's table sits next to the code that uses the struct (a cell
 * model's table in its own .c file) and is listed once in describe.c.  A table
 * row is written with one macro per field type, so name, offset and array
 * length come from the struct itself:
 *
 *   static const pw_field rows[] = {
 *       PW_F64(pw_passive_params, g_leak, "mS/cm^2", 0.05, 0.0, INFINITY, PW_FIELD_LOWER_OPEN, "leak"),
 *   };
 */
#ifndef PW_FIELDS_H
#define PW_FIELDS_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pyannow.h"

#define PW_MEMBER_SIZE_(T, m) sizeof(((T *)0)->m)
#define PW_F64(T, m, unit, def, lo, hi, flags, doc) \
    {#m, unit, def, lo, hi, offsetof(T, m), PW_F64, (int32_t)(PW_MEMBER_SIZE_(T, m) / sizeof(double)), flags, doc}
#define PW_I64(T, m, unit, def, lo, hi, flags, doc) {#m, unit, def, lo, hi, offsetof(T, m), PW_I64, 1, flags, doc}
#define PW_I32(T, m, unit, def, lo, hi, flags, doc) {#m, unit, def, lo, hi, offsetof(T, m), PW_I32, 1, flags, doc}
#define PW_U64(T, m, doc) {#m, "", NAN, 0.0, 0.0, offsetof(T, m), PW_U64, 1, PW_FIELD_INPUT, doc}
#define PW_PTRF(T, m, type, doc) {#m, "", NAN, 0.0, 0.0, offsetof(T, m), type, 1, PW_FIELD_INPUT, doc}
#define PW_STRUCT_INFO(T, rows) {#T, sizeof(T), (int32_t)(sizeof(rows) / sizeof((rows)[0])), rows}

/* A field's k-th element as a double (pointers and uint64 are not range-checked). */
static inline double pw_field_get(const pw_field *f, const void *obj, int k) {
    const char *p = (const char *)obj + f->offset;
    switch (f->type) {
    case PW_F64: { double x; memcpy(&x, p + k * sizeof(double), sizeof x); return x; }
    case PW_I64: { int64_t x; memcpy(&x, p, sizeof x); return (double)x; }
    case PW_I32: { int32_t x; memcpy(&x, p, sizeof x); return (double)x; }
    default: return 0.0;
    }
}

/* PW_OK if every input and constant field of obj is finite and inside its
 * bounds, else PW_E_INVALID: the one validation every kernel starts with. */
static inline int pw_check_fields(const pw_struct_info *info, const void *obj) {
    if (!obj) return PW_E_INVALID;
    for (int i = 0; i < info->n_fields; i++) {
        const pw_field *f = &info->fields[i];
        if (f->type != PW_F64 && f->type != PW_I64 && f->type != PW_I32) continue;
        if (f->flags & PW_FIELD_OUTPUT) continue;
        for (int k = 0; k < f->count; k++) {
            double x = pw_field_get(f, obj, k);
            if (!isfinite(x) || x < f->lower || x > f->upper) return PW_E_INVALID;
            /* an open lower bound is a divisor's (a time constant, a slope, C_m): its
             * reciprocal must be finite too, so a subnormal value is refused rather
             * than turned into inf * 0 = NaN inside an exp, whose argument clamp
             * (pw_vmath.h) would hide it */
            if ((f->flags & PW_FIELD_LOWER_OPEN) && (x <= f->lower || !isfinite(1.0 / x))) return PW_E_INVALID;
        }
    }
    return PW_OK;
}

/* the tables of the structs every kernel shares (describe.c) */
extern const pw_struct_info pw_info_drive, pw_info_sim_config, pw_info_sim_output;
#endif
