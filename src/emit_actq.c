// Emitter of the activation quantizer (rtl_templates/lg_actq.v; C twin
// lg_ref_actq in src/ref_actq.c). The vector length is the only parameter.
#include "llamagen/emit_units.h"

#include <stdio.h>

int lg_actq_check(const lg_actq_params *p, lg_err *err)
{
    if (p->cols < 2 || p->cols > (1 << 24))
        return lg_fail(err, "actq: cols = %d must be in 2..2^24", p->cols);
    return 0;
}

// Shift decode overlapping the first buffer read, then read, shift,
// round/clamp into the output register.
int32_t lg_actq_latency(const lg_actq_params *p)
{
    (void)p;
    return 4;
}

int64_t lg_actq_run_cycles(const lg_actq_params *p)
{
    return 2 * (int64_t)p->cols + lg_actq_latency(p) - 2;
}

void lg_actq_module_name(char *buf, size_t n, const lg_actq_params *p)
{
    snprintf(buf, n, "lg_actq_c%d", p->cols);
}

int lg_emit_actq(lg_emit_ctx *ctx, const char *module, const lg_actq_params *p, lg_err *err)
{
    char name[64];
    if (!module) {
        lg_actq_module_name(name, sizeof name, p);
        module = name;
    }
    if (lg_actq_check(p, err))
        return lg_fail_ctx(err, "emit %s", module);
    char cols[16], latency[256];
    snprintf(cols, sizeof cols, "%d", p->cols);
    snprintf(latency, sizeof latency,
             "%d cycles from the last input to the first output; one beat of VL elements per "
             "cycle in, then out; %lld cycles first input to last output without stalls at VL 1",
             lg_actq_latency(p), (long long)lg_actq_run_cycles(p));
    lg_subst vars[] = {{"COLS", cols}};
    return lg_emit_module(ctx, module, "lg_actq", vars, 1, latency, err);
}
