// Mat-vec engine (C twin of rtl_templates/lg_matvec.v): INT8 x INT16 products
// summed per group of G inputs into an int32 partial sum, partial sums
// aligned by a left shift of the group's exponent offset (scale fusion by
// shifts, no multiplier for scales), a 64-bit accumulator per row, one
// rounding at the end.
#include "llamagen/ref.h"

int64_t lg_ref_matvec_acc(const lg_qmat *w, int row, const int16_t *xm)
{
    const int8_t *wr = w->mant + (size_t)row * (size_t)w->cols; // (cols)
    const uint8_t *de = w->dexp + (size_t)row * (size_t)w->ngroups; // (ngroups)
    int64_t acc = 0;
    for (int g = 0; g < w->ngroups; g++) {
        int lo = g * w->group;
        int hi = lo + w->group < w->cols ? lo + w->group : w->cols; // ragged last group
        int32_t psum = 0; // |psum| <= 127 * 32767 * 256 < 2^31
        for (int i = lo; i < hi; i++)
            psum += (int32_t)wr[i] * (int32_t)xm[i];
        acc += (int64_t)psum * ((int64_t)1 << de[g]); // = psum << dexp (no UB for negatives)
    }
    return acc;
}

void lg_ref_matvec(int32_t *out, const lg_qmat *w, const int16_t *xm, int xs)
{
    // value = acc * 2^(ebase + xs) in real units, i.e. acc * 2^(ebase+xs+16)
    // in Q16 units... the activation mantissas already carry the Q16 scale
    // (x_Q16 ~= m << xs), so only ebase + xs remains.
    int shift = -(w->ebase + xs);
    for (int r = 0; r < w->rows; r++)
        out[r] = lg_sat32(lg_round_shift(lg_ref_matvec_acc(w, r, xm), shift));
}

void lg_ref_embed(int32_t *x, const lg_qmat *w, int token)
{
    const int8_t *wr = w->mant + (size_t)token * (size_t)w->cols;
    const uint8_t *de = w->dexp + (size_t)token * (size_t)w->ngroups;
    for (int i = 0; i < w->cols; i++) {
        int e = w->ebase + de[i / w->group] + LG_Q;
        x[i] = lg_sat32(lg_round_shift(wr[i], -e));
    }
}
