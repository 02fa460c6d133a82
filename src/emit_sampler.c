// Token sampler (rtl_templates/lg_sampler.v; C twin lg_ref_sample /
// lg_ref_argmax in src/ref_sampler.c). The exp2 unit it instantiates is
// emitted separately (lg_emit_exp2, src/emit_lut.c) so one exp2 module and
// one LUT image serve the sampler and the attention.
#include "llamagen/emit_mem.h"

#include <stdio.h>
#include <string.h>

int64_t lg_sampler_latency(const lg_sampler_params *p, uint32_t inv_temp, int32_t token)
{
    if (inv_temp == 0)
        return 1;
    return (int64_t)p->vocab + token + LG_SAMPLER_FIXED;
}

void lg_sampler_module_name(char *buf, size_t n, const lg_sampler_params *p)
{
    snprintf(buf, n, "lg_sampler_v%d", p->vocab);
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
    if (bad_ident(p->exp2_module))
        return lg_fail(err, "sampler: exp2 module name '%s' is not a Verilog identifier",
                       p->exp2_module ? p->exp2_module : "(null)");
    if (!p->exp2_file || strchr(p->exp2_file, '"') || strchr(p->exp2_file, '\\'))
        return lg_fail(err, "sampler: bad exp2 LUT file name");
    return 0;
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
