// Emitter of the mat-vec engine (rtl_templates/lg_matvec.v; C twin
// lg_ref_matvec in src/ref_matvec.c). The shape lives in Verilog parameters;
// the emitter bakes the configuration's values in as their defaults and in
// the default module name, so two shapes can meet in one build.
//
// mul_share (--mul-share) selects the lean form, its own template
// rtl_templates/lg_matvec_share.v (so the default emission stays
// lg_matvec.v's text), bit-exact with the default: one multiplier taking
// one lane every other cycle (a beat in 2 * lanes cycles,
// lg_matvec_beat_cycles), the mantissa's dexp shift on a second SB_MAC16,
// a one-bit serial output shifter and serial rounding into the output
// register, then H = max(acc_w - 2, S - 4) one-bit checks of the high part.
// Its shifter holds a row S + 34 + H cycles (S = lg_matvec_serial_steps
// one-bit step cycles, 48 for cols <= 1024; H 44 for cols <= 255), so it is
// used only where a row takes at least 16 beats and 2 * beats * lanes >= S
// + 36 + H cycles (lg_matvec_serial; rows still back to back); shorter rows
// keep the barrel shifter. Latency 6 + S + 31 + H instead of 7 + log2(lanes);
// start to done rows * beats * 2 * lanes + latency instead of rows * beats
// + latency + 1.
#include "llamagen/emit_units.h"

#include <stdio.h>

static int is_pow2(int32_t v)
{
    return v > 0 && (v & (v - 1)) == 0;
}

static int32_t log2_exact(int32_t v) // v a power of two
{
    int32_t k = 0;
    while ((1 << k) < v)
        k++;
    return k;
}

static int32_t clog2(int64_t v) // Verilog $clog2
{
    int32_t k = 0;
    while (((int64_t)1 << k) < v)
        k++;
    return k;
}

void lg_matvec_params_from_cfg(lg_matvec_params *p, const lg_config *cfg, int32_t rows,
                               int32_t cols)
{
    p->lanes = cfg->hw.lanes;
    p->group = cfg->hw.group_size;
    p->rows = rows;
    p->cols = cols;
    p->mul_share = cfg->hw.mul_share;
}

int lg_matvec_check(const lg_matvec_params *p, lg_err *err)
{
    if (!is_pow2(p->lanes) || p->lanes > 64)
        return lg_fail(err, "matvec: lanes = %d must be a power of two in 1..64", p->lanes);
    if (!is_pow2(p->group) || p->group < 4 || p->group > 256)
        return lg_fail(err, "matvec: group = %d must be a power of two in 4..256", p->group);
    if (p->cols < 2 || p->cols > (1 << 24))
        return lg_fail(err, "matvec: cols = %d must be in 2..2^24", p->cols);
    if (p->rows < 1 || p->rows > (1 << 24))
        return lg_fail(err, "matvec: rows = %d must be in 1..2^24", p->rows);
    return 0;
}

int32_t lg_matvec_beats(const lg_matvec_params *p)
{
    return (p->cols + p->lanes - 1) / p->lanes;
}

int32_t lg_matvec_dexps(const lg_matvec_params *p)
{
    return p->lanes > p->group ? p->lanes / p->group : 1;
}

// Mirrors the localparams of the template.
int32_t lg_matvec_acc_width(const lg_matvec_params *p)
{
    // beat sum: product + tree + dexp shift; the lean form adds one shifted
    // product a cycle (no tree)
    // (the lean form's bound is exact: |acc| <= cols * 2^37 fits clog2(cols
    // + 1) + 38 signed bits)
    int32_t bw = 24 + (lg_matvec_serial(p) ? 0 : log2_exact(p->lanes)) + 15;
    int32_t need = lg_matvec_serial(p) ? clog2((int64_t)p->cols + 1) + 38
                                       : clog2(p->cols) + 39; // |acc| <= cols * 2^22 * 2^15
    return bw + 1 > need ? bw + 1 : need;
}

// Mirrors SER_SC of the template's serial output stage: up to clog2(cols) +
// 38 one-bit steps of the shifter (the amount a - 32 = s - 1 clamped to
// clog2(cols) + 38) in a phase of a fixed length, at least 48.
int32_t lg_matvec_serial_steps(const lg_matvec_params *p)
{
    int32_t m = clog2(p->cols) + 38;
    return m > 48 ? m : 48;
}

// Mirrors SER_HC of the template: the high part's one-bit checks after the
// rounding, max(ACC_W - 2, S - 4) (ACC_W the lean accumulator's width).
static int32_t serial_hi_steps(const lg_matvec_params *p)
{
    int32_t acc = clog2((int64_t)p->cols + 1) + 38;
    if (acc < 40)
        acc = 40;
    int32_t s4 = lg_matvec_serial_steps(p) - 4;
    return acc - 2 > s4 ? acc - 2 : s4;
}

int lg_matvec_serial(const lg_matvec_params *p)
{
    // the rows of at least 16 beats that took the lean form (with its
    // former 15 serial steps) still do when they take, at 2 * lanes cycles
    // a beat, S + 36 + H cycles (the shifter busy S + 34 + H cycles a row)
    int32_t m = clog2(p->cols) + 70, s0 = (m >> 3) + ((m & 7) > 6 ? (m & 7) : 6);
    return p->mul_share && lg_matvec_beats(p) >= s0 + 1 &&
           2 * lg_matvec_beats(p) * p->lanes >=
               lg_matvec_serial_steps(p) + 36 + serial_hi_steps(p);
}

// The lean form (lg_matvec_share.v) multiplies one lane every other cycle:
// a beat takes 2 * lanes cycles.
int32_t lg_matvec_beat_cycles(const lg_matvec_params *p)
{
    return lg_matvec_serial(p) ? 2 * p->lanes : 1;
}

// Input register, multiply, log2(lanes) tree levels, dexp shift,
// accumulate, output shift (one cycle), round (33-bit add, high-part
// flags), saturate into the output register. The lean form: input register,
// multiply, accumulate (the dexp shift in front of its adder), the
// shifter's S one-bit step cycles, then t[0], 31 serial rounding steps into
// the output register and H high-part steps (the last saturates).
int32_t lg_matvec_latency(const lg_matvec_params *p)
{
    if (lg_matvec_serial(p)) // no tree, no shift stage; S, rounding, high part
        return 6 + lg_matvec_serial_steps(p) + 31 + serial_hi_steps(p);
    return 7 + log2_exact(p->lanes);
}

int64_t lg_matvec_run_cycles(const lg_matvec_params *p)
{
    // the lean form takes a row's last lane in the beat's last cycle but one
    return (int64_t)p->rows * lg_matvec_beats(p) * lg_matvec_beat_cycles(p) -
           (lg_matvec_serial(p) ? 1 : 0) + lg_matvec_latency(p) + 1;
}

void lg_matvec_module_name(char *buf, size_t n, const lg_matvec_params *p)
{
    snprintf(buf, n, "lg_matvec_l%d_g%d_r%d_c%d", p->lanes, p->group, p->rows, p->cols);
}

int lg_emit_matvec(lg_emit_ctx *ctx, const char *module, const lg_matvec_params *p,
                   lg_err *err)
{
    char name[96];
    if (!module) {
        lg_matvec_module_name(name, sizeof name, p);
        module = name;
    }
    if (lg_matvec_check(p, err))
        return lg_fail_ctx(err, "emit %s", module);
    char lanes[16], group[16], rows[16], cols[16], serial[16], latency[256];
    snprintf(lanes, sizeof lanes, "%d", p->lanes);
    snprintf(group, sizeof group, "%d", p->group);
    snprintf(rows, sizeof rows, "%d", p->rows);
    snprintf(cols, sizeof cols, "%d", p->cols);
    snprintf(serial, sizeof serial, "%d", lg_matvec_serial(p));
    if (lg_matvec_serial(p))
        snprintf(latency, sizeof latency,
                 "%d cycles from a row's last weight beat to its result; one beat every %d "
                 "cycles (%d beats per row, rows back to back); start to done %lld cycles "
                 "without stalls; serial output stage (OUT_SERIAL)",
                 lg_matvec_latency(p), lg_matvec_beat_cycles(p), lg_matvec_beats(p),
                 (long long)lg_matvec_run_cycles(p));
    else
        snprintf(latency, sizeof latency,
                 "%d cycles from a row's last weight beat to its result; one beat per cycle "
                 "(%d beats per row, rows back to back); start to done %lld cycles without "
                 "stalls",
                 lg_matvec_latency(p), lg_matvec_beats(p), (long long)lg_matvec_run_cycles(p));
    lg_subst vars[] = {
        {"LANES", lanes},
        {"GROUP", group},
        {"ROWS", rows},
        {"COLS", cols},
        {"OUT_SERIAL", serial},
    };
    // the lean form has its own template (lg_matvec_share.v: the serial
    // output stage only), so the default one's emitted text never changes
    return lg_emit_module(ctx, module, lg_matvec_serial(p) ? "lg_matvec_share" : "lg_matvec",
                          vars, 5, latency, err);
}
