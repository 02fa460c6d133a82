/*
 * Emitter of the whole decoder (src/emit_decoder.c): every unit, the
 * controller (rtl_templates/lg_decoder.v), the vector buffers
 * (lg_vecbuf.v), the weight memory and the top module (lg_top.v,
 * docs/architecture.md "The top module"), with all their memory images,
 * into one directory:
 *
 *   <prefix>_*.v      one module per file, named after the module
 *   files.f           the .v files in dependency order (verilator -f, iverilog -c)
 *   *.hex             $readmemh images (weights in stream order, embedding,
 *                     norm gains, LUTs, RoPE increments, K offsets; the eps
 *                     table for reference: it is baked into the norm module)
 *   manifest.json     config, hardware parameters, modules, memories, ports,
 *                     matrices, expected cycles per token
 *   README.md         what is where, how to simulate and synthesize it
 *   tokens.txt        the tokenizer's pieces (with a tokenizer only)
 *
 * Module names carry a prefix "lg_<config>_<hash>" (hash of the config and
 * of every constant the RTL bakes in), so decoders of two configurations, or
 * of two weight sets, can meet in one build. The C twin of the whole design
 * is lg_ref_forward + lg_ref_sample on the qmodel that lg_decoder_qmodel
 * builds; sim/tb_decoder.cpp compares them logit by logit.
 */
#ifndef LLAMAGEN_EMIT_DECODER_H
#define LLAMAGEN_EMIT_DECODER_H

#include "llamagen/checkpoint.h"
#include "llamagen/emit.h"
#include "llamagen/ref_model.h"
#include "llamagen/tokenizer.h"

// Seed of the synthetic weights a decoder is built from without a checkpoint.
#define LG_DECODER_SYNTH_SEED 1

// The quantized model behind an emitted decoder: w quantized with the
// default options (lg_quant_opts_default), or, when w is NULL, the seeded
// synthetic weights of cfg (LG_DECODER_SYNTH_SEED). The emitter and the
// co-simulation harness both build it here, so they always agree.
int lg_decoder_qmodel(lg_qmodel *qm, const lg_config *cfg, const lg_weights *w, lg_err *err);

// 64-bit FNV-1a hash of the configuration and of everything in qm that the
// RTL holds (matrices, gains, K offsets, RoPE increments, constants, LUTs).
uint64_t lg_decoder_hash(const lg_qmodel *qm);

// Module name prefix: "lg_<config name, [a-z0-9_]>_<low 32 bits of the hash in hex>".
void lg_decoder_prefix(char *buf, size_t n, const lg_qmodel *qm);

// Shapes of the top module and the emitted design (all derived from the config).
typedef struct lg_decoder_shape {
    int32_t pos_w;        // POS_W = clog2(seq_len + 1)
    int32_t tok_w;        // TOK_W = clog2(vocab + 1): an id >= vocab can be sent
    int32_t wl_aw;        // WL_AW = clog2(weight beats)
    int32_t wl_dw;        // WL_DW = weight beat bits, 8 * lanes + 4 * dexps
    int32_t dexps;        // dexps per weight beat
    int64_t nbeats;       // weight beats per token (the image depth)
    int32_t rows_d;       // rows of the dim-input mat-vec engine: max(dim, kv_dim, hidden, vocab)
    int32_t kv_beat;      // K/V read beat (lg_attn_beat)
    int64_t max_run_beats;// the longest mat-vec run in beats
} lg_decoder_shape;

int lg_decoder_shape_of(lg_decoder_shape *s, const lg_config *cfg, lg_err *err);

// Expected cycles of one position at pos (prompt position, no host stalls,
// no sampling): the controller's schedule over the units' stated latencies.
// The co-simulation bench (make bench) prints it next to the measurement.
int64_t lg_decoder_cycles(const lg_config *cfg, int32_t pos);

// Vector lanes of the decoder's RMSNorm, activation quantizers and mat-vec
// buffer write ports: min(lanes, 16) elements per cycle.
int32_t lg_decoder_vec_lanes(const lg_config *cfg);

typedef struct lg_decoder_opts {
    const char *command;      // the regenerate command for banners and the manifest
    const char *weights;      // weight source for the manifest ("checkpoint FILE", "synthetic ...")
    const lg_tokenizer *tok;  // optional: tokens.txt and the tokenizer's vocab in the README
} lg_decoder_opts;

// Writes the whole decoder of qm into outdir (which must exist).
int lg_emit_decoder(const char *outdir, const lg_qmodel *qm, const lg_decoder_opts *o,
                    lg_err *err);

#endif
