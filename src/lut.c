// Offline construction of the constant LUTs (float is allowed here: this
// runs on the host at generation time, never in the inference path). The
// RTL gets the same tables as .hex images.
#include "llamagen/ref.h"

#include <math.h>

#define PI 3.14159265358979323846

static uint32_t rnd(double v) { return (uint32_t)llround(v); }

void lg_luts_build(lg_luts *t)
{
    for (int i = 0; i <= LG_EXP2_N; i++)
        t->exp2[i] = rnd(exp2((double)i / LG_EXP2_N) * LG_ONE);
    for (int i = 0; i <= LG_SIG_N; i++)
        t->sigmoid[i] = rnd(LG_ONE / (1.0 + exp(-(double)i / 32.0)));
    for (int i = 0; i <= LG_SIN_N; i++)
        t->sine[i] = rnd(sin((double)i / LG_SIN_N * PI / 2.0) * LG_ONE);
    for (int i = 0; i < LG_RSQRT_N; i++)
        t->rsqrt[i] = rnd(LG_ONE / sqrt((i + 64.5) / 64.0));
}
