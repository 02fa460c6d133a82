// Token sampler (C twin lg_ref_sample / lg_ref_argmax in src/ref_sampler.c).
//
// mul_share 0: rtl_templates/lg_sampler.v, nine SB_MAC16, one logit per cycle
// through the scaling and exp2 pipeline. The exp2 unit it instantiates is
// emitted separately (lg_emit_exp2, src/emit_lut.c) so one exp2 module and
// one LUT image serve the sampler and the attention. Token 1 cycle after the
// last logit at inv_temp 0, otherwise vocab + token + 55 cycles.
//
// mul_share 1: rtl_templates/lg_sampler_share.v, one 16x16 multiplier and one
// accumulator (one SB_MAC16), 31 cycles per logit in pass 1, and again per id
// in pass 2 until the drawn one (p_i computed twice, not stored), exp2 inline with its T
// column baked here from lg_luts_build (one EBR; the exp2 module is not
// instantiated). Token 1 cycle after the last logit at inv_temp 0, otherwise
// 31 * vocab + 31 * token + 228 cycles (LG_SAMPLER_SHARE_*, emit_mem.h).
// vocab <= 32768 (S fits 32 bits).
#include "llamagen/emit_mem.h"
#include "llamagen/emit_units2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t lg_sampler_latency(const lg_sampler_params *p, uint32_t inv_temp, int32_t token)
{
    if (inv_temp == 0)
        return 1;
    if (p->mul_share)
        return (int64_t)LG_SAMPLER_SHARE_ITEM * p->vocab + (int64_t)LG_SAMPLER_SHARE_TOK * token +
               LG_SAMPLER_SHARE_FIXED;
    return (int64_t)p->vocab + token + LG_SAMPLER_FIXED;
}

void lg_sampler_module_name(char *buf, size_t n, const lg_sampler_params *p)
{
    snprintf(buf, n, p->mul_share ? "lg_sampler_share_v%d" : "lg_sampler_v%d", p->vocab);
}

static int bad_ident(const char *s)
{
    if (!s || !*s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return 1;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_' ||
              (*s >= '0' && *s <= '9')))
            return 1;
    return 0;
}

int lg_sampler_check(const lg_sampler_params *p, lg_err *err)
{
    if (p->vocab < 2 || p->vocab > (1 << 24))
        return lg_fail(err, "sampler: vocab = %d is not in 2..2^24", p->vocab);
    if (p->mul_share != 0 && p->mul_share != 1)
        return lg_fail(err, "sampler: mul_share = %d is not 0 or 1", p->mul_share);
    if (p->mul_share && p->vocab > (1 << 15))
        return lg_fail(err, "sampler: vocab = %d is above 32768 (mul_share form: the sum of "
                            "p must fit 32 bits)", p->vocab);
    if (bad_ident(p->exp2_module))
        return lg_fail(err, "sampler: exp2 module name '%s' is not a Verilog identifier",
                       p->exp2_module ? p->exp2_module : "(null)");
    if (!p->exp2_file || strchr(p->exp2_file, '"') || strchr(p->exp2_file, '\\'))
        return lg_fail(err, "sampler: bad exp2 LUT file name");
    return 0;
}

// The lean form: the exp2 T column (T[i] - 2^16, 16 bits) as ROM initial
// values; the packed {T, D} image of EXP2_FILE (25 bits) would take two EBR.
static int emit_share(lg_emit_ctx *ctx, const char *module, const lg_sampler_params *p,
                      const char *vocab, lg_err *err)
{
    lg_luts t;
    lg_luts_build(&t);
    char *init = lg_exp2_t_column(&t, "trom", module, err);
    if (!init)
        return -1;
    char lat[200];
    snprintf(lat, sizeof lat,
             "token 1 cycle after the last logit at inv_temp 0; otherwise %d * %d + %d * token + "
             "%d cycles (<= %lld); one logit per cycle while loading",
             LG_SAMPLER_SHARE_ITEM, p->vocab, LG_SAMPLER_SHARE_TOK, LG_SAMPLER_SHARE_FIXED,
             (long long)(LG_SAMPLER_SHARE_ITEM + LG_SAMPLER_SHARE_TOK) * p->vocab -
                 LG_SAMPLER_SHARE_TOK + LG_SAMPLER_SHARE_FIXED);
    lg_subst vars[] = {
        {"VOCAB", vocab},
        {"EXP2_FILE", p->exp2_file},
        {"EXP2_T_INIT", init},
    };
    int rc = lg_emit_module(ctx, module, "lg_sampler_share", vars, 3, lat, err);
    free(init);
    return rc;
}

int lg_emit_sampler(lg_emit_ctx *ctx, const char *module, const lg_sampler_params *p,
                    lg_err *err)
{
    if (lg_sampler_check(p, err))
        return -1;
    char name[128], vocab[16], lat[200];
    if (!module) {
        lg_sampler_module_name(name, sizeof name, p);
        module = name;
    }
    snprintf(vocab, sizeof vocab, "%d", p->vocab);
    if (p->mul_share)
        return emit_share(ctx, module, p, vocab, err);
    snprintf(lat, sizeof lat,
             "token 1 cycle after the last logit at inv_temp 0; otherwise %d + token + %d "
             "cycles (<= %lld); one logit per cycle while loading",
             p->vocab, LG_SAMPLER_FIXED, 2LL * p->vocab - 1 + LG_SAMPLER_FIXED);
    lg_subst vars[] = {
        {"VOCAB", vocab},
        {"EXP2_MODULE", p->exp2_module},
        {"EXP2_FILE", p->exp2_file},
    };
    return lg_emit_module(ctx, module, "lg_sampler", vars, 3, lat, err);
}
