/*
 * Emitters of the datapath units: one section per unit (add new units as new
 * sections). Each unit is one template in rtl_templates/ and one C twin in
 * src/ref_*.c; its emitter checks the parameters, bakes them into the
 * module's parameter defaults (and the default module name), and knows the
 * unit's latency so that benches and the top-level generator use the same
 * numbers the module header and banner promise.
 */
#ifndef LLAMAGEN_EMIT_UNITS_H
#define LLAMAGEN_EMIT_UNITS_H

#include "llamagen/emit.h"

// ---- lg_matvec: I8E x A16 mat-vec engine (src/emit_matvec.c) -----------------
// C twin: lg_ref_matvec / lg_ref_matvec_acc. Template: rtl_templates/lg_matvec.v.

typedef struct lg_matvec_params {
    int32_t lanes; // weights per beat: power of two, 1..64
    int32_t group; // I8E group G: power of two, 4..256
    int32_t rows;  // outputs, >= 1
    int32_t cols;  // inputs, >= 2 (any value: ragged last beat / group)
    // lean output stage (--mul-share): a serial shifter instead of the
    // barrel shifter, where rows are long enough (lg_matvec_serial)
    int32_t mul_share;
} lg_matvec_params;

// Rows x cols mat-vec with the lanes and group size of cfg.
void lg_matvec_params_from_cfg(lg_matvec_params *p, const lg_config *cfg, int32_t rows,
                               int32_t cols);
int lg_matvec_check(const lg_matvec_params *p, lg_err *err);

int32_t lg_matvec_beats(const lg_matvec_params *p);     // ceil(cols / lanes) per row
int32_t lg_matvec_dexps(const lg_matvec_params *p);     // dexps per beat: max(1, lanes / group)
int32_t lg_matvec_acc_width(const lg_matvec_params *p); // accumulator bits (ACC_W)
// One-bit step cycles of the lean form's serial output shifter (OUT_SERIAL):
// max(clog2(cols) + 38, 48).
int32_t lg_matvec_serial_steps(const lg_matvec_params *p);
// 1 when the lean form (lg_matvec_share.v) is used: mul_share, a row of at
// least 16 beats (for cols <= 256) and of 2 * beats * lanes >=
// lg_matvec_serial_steps + 36 + H cycles, H = max(acc bits - 2,
// lg_matvec_serial_steps - 4) high-part checks (else the barrel shifter).
int lg_matvec_serial(const lg_matvec_params *p);
// Cycles a beat takes: 1, or lanes in the lean form (lg_matvec_serial: one
// multiplier, one lane a cycle).
int32_t lg_matvec_beat_cycles(const lg_matvec_params *p);
// Cycles from the handshake of a row's last beat to its result on m_out:
// 7 + log2(lanes), or 6 + lg_matvec_serial_steps + 31 + H in the lean form.
int32_t lg_matvec_latency(const lg_matvec_params *p);
// Cycles from the start cycle to done with no stalls:
// rows * beats * lg_matvec_beat_cycles + lg_matvec_latency + 1.
int64_t lg_matvec_run_cycles(const lg_matvec_params *p);

// Default module name "lg_matvec_l<lanes>_g<group>_r<rows>_c<cols>".
void lg_matvec_module_name(char *buf, size_t n, const lg_matvec_params *p);

// Writes <module>.v (module NULL: the default name).
int lg_emit_matvec(lg_emit_ctx *ctx, const char *module, const lg_matvec_params *p,
                   lg_err *err);

// ---- lg_actq: activation quantizer Q16 -> A16 (src/emit_actq.c) ----------------
// C twin: lg_ref_actq. Template: rtl_templates/lg_actq.v.

typedef struct lg_actq_params {
    int32_t cols; // vector length, >= 2
} lg_actq_params;

int lg_actq_check(const lg_actq_params *p, lg_err *err);
// Cycles from the handshake of the last input to the first output on m_a.
int32_t lg_actq_latency(const lg_actq_params *p);
// Cycles from the first input handshake to the last output handshake of a
// vector with no stalls: 2 * cols + lg_actq_latency - 2.
int64_t lg_actq_run_cycles(const lg_actq_params *p);
// The lean form (rtl_templates/lg_actq_share.v), emitted by lg_emit_actq
// when ctx->cfg->hw.mul_share: latency 12, one output beat every 5 cycles;
// first input to last output of a vector with no stalls: 6 * cols + 6.
int32_t lg_actq_share_latency(const lg_actq_params *p);
int64_t lg_actq_share_run_cycles(const lg_actq_params *p);

// Default module name "lg_actq_c<cols>".
void lg_actq_module_name(char *buf, size_t n, const lg_actq_params *p);

int lg_emit_actq(lg_emit_ctx *ctx, const char *module, const lg_actq_params *p, lg_err *err);

#endif
