/* describe.c -- the field tables of the shared structs (drive, config,
 * output) and the list of every struct table in the library (pyannow.h,
 * section [fields]).  A new cell model adds its parameter table in its own .c
 * file and one line to STRUCTS below. */
#include <math.h>
#include <string.h>

#include "pw_fields.h"
#include "pyannow.h"

static const pw_field drive_rows[] = {
    PW_F64(pw_drive, drive_amp_uA, "uA/cm^2", 12.0, -INFINITY, INFINITY, PW_FIELD_INPUT,
           "amplitude A of the seed cell's drive current A w_j(t)"),
    PW_F64(pw_drive, drive_freq_hz, "Hz", 1.5, 0.0, INFINITY, PW_FIELD_INPUT, "body-wave frequency f (head to tail)"),
    PW_F64(pw_drive, noise_sd_uA, "uA/cm^2", 0.3, 0.0, INFINITY, PW_FIELD_INPUT,
           "sd of the Gaussian current drawn every step"),
    PW_F64(pw_drive, phase_rad, "rad", NAN, -INFINITY, INFINITY, PW_FIELD_INPUT,
           "wave phase of the quadrants DL, VL, DR, VR at segment 0"),
    PW_F64(pw_drive, drive_phase_rad, "rad", 0.0, -INFINITY, INFINITY, PW_FIELD_INPUT,
           "global phase offset of the wave"),
    PW_F64(pw_drive, drive_pulse_ms, "ms", 0.0, 0.0, INFINITY, PW_FIELD_INPUT,
           "0: the seed's wave max(sin,0)^2; > 0: one pulse of this width per cycle"),
    PW_U64(pw_drive, seed, "noise stream"),
};
const pw_struct_info pw_info_drive = PW_STRUCT_INFO(pw_drive, drive_rows);

static const pw_field config_rows[] = {
    PW_F64(pw_sim_config, dt_ms, "ms", 0.5, 0.0, INFINITY, PW_FIELD_LOWER_OPEN, "integration step"),
    PW_I64(pw_sim_config, n_steps, "", 0.0, 0.0, INFINITY, PW_FIELD_INPUT, "integration steps"),
    PW_I32(pw_sim_config, integrator, "", 0.0, 0.0, 1.0, PW_FIELD_INPUT, "enum pw_integrator"),
    PW_F64(pw_sim_config, coupling_g, "mS/cm^2", 0.0, 0.0, INFINITY, PW_FIELD_INPUT,
           "coupling to segments s-1 and s+1 of the same quadrant"),
    PW_I32(pw_sim_config, record_every, "", 1.0, 1.0, INFINITY, PW_FIELD_INPUT, "steps per recorded sample"),
    PW_I32(pw_sim_config, record_f32, "", 0.0, 0.0, 1.0, PW_FIELD_INPUT, "1: float traces, 0: double"),
    PW_F64(pw_sim_config, spike_thresh_mV, "mV", -10.0, -INFINITY, INFINITY, PW_FIELD_INPUT, "spike threshold"),
    PW_F64(pw_sim_config, spike_refractory_ms, "ms", 50.0, 0.0, INFINITY, PW_FIELD_INPUT, "spike refractory time"),
};
const pw_struct_info pw_info_sim_config = PW_STRUCT_INFO(pw_sim_config, config_rows);

static const pw_field output_rows[] = {
    PW_PTRF(pw_sim_output, v_out, PW_PTR, "[n_samples][96] V or NULL"),
    PW_PTRF(pw_sim_output, m_out, PW_PTR, "[n_samples][96] m or NULL"),
    PW_PTRF(pw_sim_output, n_out, PW_PTR, "[n_samples][96] n or NULL"),
    PW_I64(pw_sim_output, n_samples, "", NAN, 0.0, INFINITY, PW_FIELD_INPUT, "capacity in samples"),
    PW_PTRF(pw_sim_output, spike_step, PW_PTR_I64, "[spike_capacity] step of each spike"),
    PW_PTRF(pw_sim_output, spike_muscle, PW_PTR_I32, "[spike_capacity] muscle of each spike"),
    PW_I64(pw_sim_output, spike_capacity, "", NAN, 0.0, INFINITY, PW_FIELD_INPUT, "spike buffer length"),
    PW_I64(pw_sim_output, n_spikes, "", NAN, 0.0, INFINITY, PW_FIELD_OUTPUT, "spikes written"),
    PW_I64(pw_sim_output, spikes_needed, "", NAN, 0.0, INFINITY, PW_FIELD_OUTPUT, "spikes found"),
};
const pw_struct_info pw_info_sim_output = PW_STRUCT_INFO(pw_sim_output, output_rows);

/* the cell models' parameter tables, each in its model's file */
extern const pw_struct_info pw_info_pyannow_params, pw_info_boyle2008_params, pw_info_passive_params;

static const pw_struct_info *const STRUCTS[] = {
    &pw_info_drive, &pw_info_sim_config, &pw_info_sim_output,
    &pw_info_pyannow_params, &pw_info_boyle2008_params, &pw_info_passive_params,
};
#define N_STRUCTS ((int)(sizeof STRUCTS / sizeof STRUCTS[0]))

PW_API int pw_struct_count(void) { return N_STRUCTS; }

PW_API const pw_struct_info *pw_struct_at(int i) { return i >= 0 && i < N_STRUCTS ? STRUCTS[i] : NULL; }

PW_API const pw_struct_info *pw_struct_find(const char *name) {
    if (!name) return NULL;
    for (int i = 0; i < N_STRUCTS; i++)
        if (strcmp(STRUCTS[i]->name, name) == 0) return STRUCTS[i];
    return NULL;
}

PW_API int pw_struct_defaults(const char *name, void *obj) {
    const pw_struct_info *info = pw_struct_find(name);
    if (!info || !obj) return PW_E_INVALID;
    for (int i = 0; i < info->n_fields; i++) {
        const pw_field *f = &info->fields[i];
        if (isnan(f->default_value) || (f->flags & PW_FIELD_OUTPUT)) continue;
        char *p = (char *)obj + f->offset;
        for (int k = 0; k < f->count; k++) {
            if (f->type == PW_F64) { double x = f->default_value; memcpy(p + k * sizeof x, &x, sizeof x); }
            else if (f->type == PW_I64) { int64_t x = (int64_t)f->default_value; memcpy(p, &x, sizeof x); }
            else if (f->type == PW_I32) { int32_t x = (int32_t)f->default_value; memcpy(p, &x, sizeof x); }
        }
    }
    return PW_OK;
}
