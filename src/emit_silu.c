// SiLU gate and residual add units (rtl_templates/lg_silu_gate.v and
// lg_residual.v, C twins in src/ref_silu.c).
#include "llamagen/emit_units2.h"

// Latency: 6 cycles, one element per cycle. mul_share 1
// (rtl_templates/lg_silu_gate_share.v, one 16x16 multiplier, sigmoid_module
// emitted with mul_share 1: the T column alone, 512 x 16 in 2 EBR, T[i] and
// T[i+1] read on two cycles, |h1| formed on the shared accumulator): 21
// cycles from both inputs valid (LG_SILU_SHARE_ELEM; the inputs are taken 2
// cycles before the result, LG_SILU_SHARE_LAT), one element per 21 cycles.
int lg_emit_silu_gate(lg_emit_ctx *ctx, const char *module, const char *sigmoid_module,
                      const char *sigmoid_file, int32_t mul_share, lg_err *err)
{
    lg_subst vars[] = {
        {"MODULE", module},
        {"SIGMOID_MODULE", sigmoid_module},
        {"SIGMOID_FILE", sigmoid_file},
    };
    if (mul_share)
        return lg_emit_module(ctx, module, "lg_silu_gate_share", vars, 3,
                              "21 cycles, one element per 21 cycles (joined h1/h3 streams, "
                              "taken 2 cycles before the result; one shared multiplier)",
                              err);
    return lg_emit_module(ctx, module, "lg_silu_gate", vars, 3,
                          "6 cycles, one element per cycle (joined h1/h3 streams)", err);
}

// mul_share 1 (rtl_templates/lg_residual_share.v): the saturation in the
// output register's set / reset, y = {r[31:1] ^ k, r[0]}; a sum of exactly
// -2^31 takes one cycle more.
int lg_emit_residual(lg_emit_ctx *ctx, const char *module, int32_t mul_share, lg_err *err)
{
    lg_subst vars[] = {{"MODULE", module}};
    if (mul_share)
        return lg_emit_module(ctx, module, "lg_residual_share", vars, 1,
                              "1 cycle, one element per cycle (joined x/d streams); 2 cycles "
                              "for a sum of exactly -2^31",
                              err);
    return lg_emit_module(ctx, module, "lg_residual", vars, 1,
                          "1 cycle, one element per cycle (joined x/d streams)", err);
}
