// Emitter of the activation quantizer (rtl_templates/lg_actq.v; C twin
// lg_ref_actq in src/ref_actq.c). The vector length is the only parameter.
//
// mul_share (--mul-share, ctx->cfg->hw.mul_share) selects the lean form
// (rtl_templates/lg_actq_share.v: same module, parameters, ports and
// numerics; a serial pass 2 of two one-LUT-a-bit shift registers instead of
// the barrel shifter). Latency (last input handshake to first output):
// lg_actq_latency = 4, lean lg_actq_share_latency = 12. First input to last
// output without stalls (NBT beats): 2 * NBT + 2, lean 6 * NBT + 6 (one
// output beat every 5 cycles).
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

// Lean form: the first read, the transfer into the 4-bit stage, its 5-cycle
// period, the transfer into the 1-bit stage (the output), its period.
int32_t lg_actq_share_latency(const lg_actq_params *p)
{
    (void)p;
    return 12;
}

// cols - 1 input cycles, the latency, then one output every 5 cycles.
int64_t lg_actq_share_run_cycles(const lg_actq_params *p)
{
    return 6 * (int64_t)p->cols + lg_actq_share_latency(p) - 6;
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
    lg_subst vars[] = {{"COLS", cols}};
    if (ctx->cfg && ctx->cfg->hw.mul_share) {
        snprintf(latency, sizeof latency,
                 "%d cycles from the last input to the first output; one beat of VL elements "
                 "per cycle in, one every 5 cycles out; %lld cycles first input to last "
                 "output without stalls at VL 1 (lean form)",
                 lg_actq_share_latency(p), (long long)lg_actq_share_run_cycles(p));
        return lg_emit_module(ctx, module, "lg_actq_share", vars, 1, latency, err);
    }
    snprintf(latency, sizeof latency,
             "%d cycles from the last input to the first output; one beat of VL elements per "
             "cycle in, then out; %lld cycles first input to last output without stalls at VL 1",
             lg_actq_latency(p), (long long)lg_actq_run_cycles(p));
    return lg_emit_module(ctx, module, "lg_actq", vars, 1, latency, err);
}
