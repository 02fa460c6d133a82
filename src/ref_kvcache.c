// K/V cache (C twin of rtl_templates/lg_kvcache.v): rows are quantized as
// they are written, into a mantissa RAM (kv_bits wide) and an exponent RAM
// (one exponent per kv_group elements), exactly as the hardware stores them.
#include "llamagen/ref.h"

#include <stdlib.h>
#include <string.h>

int lg_kvcache_init(lg_kvcache *c, const lg_config *cfg, lg_err *err)
{
    memset(c, 0, sizeof *c);
    c->n_layers = cfg->m.n_layers;
    c->seq_len = cfg->m.seq_len;
    c->kv_dim = lg_kv_dim(&cfg->m);
    c->group = cfg->hw.kv_group;
    c->bits = cfg->hw.kv_bits;
    c->ngroups = c->kv_dim / c->group;
    size_t rows = (size_t)c->n_layers * (size_t)c->seq_len;
    size_t nm, ne;
    if (lg_mul_size(rows, (size_t)c->kv_dim, &nm) || lg_mul_size(rows, (size_t)c->ngroups, &ne))
        return lg_fail(err, "K/V cache size overflows");
    c->k_mant = lg_calloc(nm, sizeof *c->k_mant, err);
    c->v_mant = c->k_mant ? lg_calloc(nm, sizeof *c->v_mant, err) : NULL;
    c->k_exp = c->v_mant ? lg_calloc(ne, 1, err) : NULL;
    c->v_exp = c->k_exp ? lg_calloc(ne, 1, err) : NULL;
    if (!c->v_exp) {
        lg_kvcache_free(c);
        return -1;
    }
    return 0;
}

void lg_kvcache_free(lg_kvcache *c)
{
    free(c->k_mant);
    free(c->v_mant);
    free(c->k_exp);
    free(c->v_exp);
    memset(c, 0, sizeof *c);
}

void lg_ref_kv_quant(int16_t *mant, uint8_t *exps, const int32_t *row, int n, int group, int bits)
{
    int64_t mmax = ((int64_t)1 << (bits - 1)) - 1;
    for (int g = 0; g < n / group; g++) {
        const int32_t *x = row + g * group; // (group)
        uint32_t maxabs = 0;
        for (int i = 0; i < group; i++) {
            uint32_t a = (uint32_t)(x[i] < 0 ? -(int64_t)x[i] : x[i]);
            if (a > maxabs)
                maxabs = a;
        }
        // Leading-one: smallest e >= 0 with maxabs >> e in bits-1 bits.
        int e = lg_bitlen(maxabs) - (bits - 1);
        if (e < 0)
            e = 0;
        exps[g] = (uint8_t)e;
        for (int i = 0; i < group; i++) {
            int64_t v = lg_round_shift(x[i], e);
            mant[g * group + i] = (int16_t)(v > mmax ? mmax : v < -mmax ? -mmax : v);
        }
    }
}
