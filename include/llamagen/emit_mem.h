/*
 * Memories and the sampler: the weight stream image and its ROM (lg_wmem),
 * the embedding ROM (lg_embed), the model's norm gain list, and the token
 * sampler (lg_sampler). src/emit_wmem.c, src/emit_sampler.c.
 *
 * The weight stream (docs/architecture.md, "The weight stream"): one
 * sequential stream of beats per token in consumption order
 *
 *     for l in layers: Wq, Wk, Wv, Wo, W1, W3, W2;   then Wcls
 *
 * each matrix row by row, a row being ceil(cols / lanes) beats. A beat is
 * one word of beat_bits = 8 * lanes + 4 * ndexp bits:
 *   bits [8*i +: 8]            mantissa of input b*lanes + i of the row (lane i,
 *                              two's complement; 0 past the row end)
 *   bits [8*lanes + 4*j +: 4]  dexp of the j-th group the beat touches
 *                              (ndexp = 1 when lanes <= G, lanes / G otherwise;
 *                              0 for a group past the row end)
 * which is lg_matvec's {s_w_dexp, s_w_mant}. ebase is not in the stream: it
 * is a per-matrix generator constant (lg_wimage_mat.ebase).
 *
 * The embedding ROM (lg_embed): one byte per word; row t starts at word
 * t * (dim + ngroups), and each group of a row is its dexp word followed by
 * its mantissas (the last group may be ragged).
 *
 * Latencies (also in each module header and banner):
 *   wmem     first beat 3 cycles after start, then one beat per cycle;
 *            N beats: done N + 3 cycles after start
 *   embed    first element 4 cycles after the token handshake; a row of dim
 *            elements in dim + ngroups - 2 more cycles (one bubble per group)
 *   sampler  inv_temp = 0: token 1 cycle after the last logit;
 *            inv_temp > 0: vocab + token + LG_SAMPLER_FIXED cycles after it
 *            (mul_share: 31 * vocab + 31 * token + 228)
 */
#ifndef LLAMAGEN_EMIT_MEM_H
#define LLAMAGEN_EMIT_MEM_H

#include "llamagen/emit.h"
#include "llamagen/ref_model.h"

// ---- weight stream image (src/emit_wmem.c) -------------------------------------

typedef struct lg_wimage_mat {
    const lg_qmat *m;   // the matrix (not owned; must outlive the image)
    char name[24];      // "wq[0]", "w2[4]", "wcls"
    int32_t layer;      // layer index, -1 for the classifier
    int64_t first;      // index of its first beat in the image
    int64_t nbeats;     // rows * ceil(cols / lanes)
} lg_wimage_mat;

typedef struct lg_wimage {
    int32_t lanes;       // mantissas per beat (power of two, 1..64)
    int32_t group;       // I8E group size G of every matrix (power of two)
    int32_t ndexp;       // dexps per beat: 1 when lanes <= group, lanes / group otherwise
    int32_t beat_bits;   // 8 * lanes + 4 * ndexp
    int32_t words;       // uint64 words per beat: ceil(beat_bits / 64)
    int64_t nbeats;      // beats in the image
    uint64_t *beats;     // (nbeats, words); beat bit k = bit k % 64 of word k / 64
    int32_t nmats;       // 7 * n_layers + 1
    lg_wimage_mat *mats; // (nmats) in stream order
} lg_wimage;

// Dexps per beat for a lanes / group pair.
int32_t lg_wimage_ndexp(int32_t lanes, int32_t group);
// Beats of one matrix: rows * ceil(cols / lanes).
int64_t lg_wimage_mat_beats(const lg_qmat *m, int32_t lanes);

// Builds the whole stream of qm for `lanes` MAC lanes (lanes <= 0: the
// model's cfg.hw.lanes). Every matrix must have the same group size.
int lg_wimage_build(lg_wimage *img, const lg_qmodel *qm, int32_t lanes, lg_err *err);
void lg_wimage_free(lg_wimage *img);

// The image's 16-bit tag: FNV-1a 64 over every beat word and each matrix's
// ebase, its four 16-bit quarters XORed. The marked flash layout stores
// nibble (dexp mod 4) of it beside each mark's dexp, and the flash reader
// (lg_qspi_stream's IMAGE_TAG, from the manifest's "weight_tag") compares
// them: a flash image of other weights is told from the bitstream's own.
uint32_t lg_wimage_tag(const lg_wimage *img);

// The marked flash layout (lg_qspi_stream MARKS, examples/fpga/icebreaker/
// flash_image.h): a burst from stream beat s starts at flash beat
// s + s / (group / lanes). That is exact at the classifier's rows because the
// layer matrices in front of the classifier hold exactly C / (group / lanes)
// marks (C its first beat): one at beat 0 and at each dexp change (*changes,
// when not NULL), the rest repeats of the first dexp ahead of beat 0's mark.
// Returns how many repeats lead (beat 0's mark is that flash beat: the
// reader's MARKS_LEAD, the manifest's "weight_marks_lead", so that the burst
// of every token skips them), or -1 when the layout cannot take the image
// (lanes < 2, more than one dexp a beat, the classifier or its rows off the
// group grid, more changes than marks; the reason in err, which may be
// NULL). The layout's one statement of these rules: mkflash's plan
// (flash_image.h) takes them from here.
int64_t lg_wimage_marks_lead(const lg_wimage *img, int64_t *changes, lg_err *err);

// Packs one matrix alone (nbeats = lg_wimage_mat_beats(m, lanes) beats of
// `words` uint64 each, zeroed by the caller): the same layout as inside the
// image, for a bench that streams a single matrix.
int lg_wimage_pack_mat(uint64_t *beats, int32_t words, const lg_qmat *m, int32_t lanes,
                       lg_err *err);

// Field accessors of beat b: lane i's mantissa, the j-th dexp.
static inline int lg_wbeat_mant(const lg_wimage *img, int64_t b, int lane)
{
    const uint64_t *w = img->beats + (size_t)b * (size_t)img->words;
    int k = 8 * lane;
    return (int8_t)(uint8_t)(w[k / 64] >> (k % 64));
}

static inline int lg_wbeat_dexp(const lg_wimage *img, int64_t b, int j)
{
    const uint64_t *w = img->beats + (size_t)b * (size_t)img->words;
    int k = 8 * img->lanes + 4 * j;
    return (int)((w[k / 64] >> (k % 64)) & 15u);
}

// Writes the image as a $readmemh file: one beat per line, ceil(beat_bits/4)
// hex digits, most significant first, after a comment header (banner, beat
// layout, and a table of every matrix: name, first beat, beats, ebase).
int lg_emit_weights_hex(lg_emit_ctx *ctx, const lg_wimage *img, const char *file, lg_err *err);

// Writes the image as the external reader's binary (--ext-weights): beat b
// at byte offset b * lg_wimage_beat_bytes(img), its bits least significant
// byte first (bit k of the beat is bit k % 8 of byte k / 8; the top byte's
// spare bits are zero). No header: the manifest describes it.
int lg_emit_weights_bin(lg_emit_ctx *ctx, const lg_wimage *img, const char *file, lg_err *err);
static inline int32_t lg_wimage_beat_bytes(const lg_wimage *img)
{
    return (img->beat_bits + 7) / 8;
}

// ---- AXI4 weight reader (src/emit_wmem.c, rtl_templates/lg_axi_wreader.v) ------------

// The reader's default AXI data width for a beat of beat_bits: the power of
// two at or above it (a beat a word: full rate), within 32 .. 512.
int32_t lg_axi_default_width(int32_t beat_bits);

// The reader's and the AXI top's other parameter defaults (substituted into
// both templates; the manifest and the emitted README state them): the
// address width, the longest burst in words and the bursts outstanding at
// most. 16 x 8 words in flight keep a word a cycle coming from a memory with
// up to ~128 cycles of latency.
#define LG_AXI_ADDR_WIDTH 32
#define LG_AXI_MAX_BURST 16
#define LG_AXI_MAX_OUTSTANDING 8

// Emits the AXI4 read master that serves an --ext-weights 2 top's weight
// requests from weights.bin in memory: BEAT_W = beat_bits, BEAT_AW =
// beat_aw, AXI_DW's default axi_dw, MAX_BURST and MAX_OUTSTANDING defaulting
// to the constants above (all but BEAT_W and BEAT_AW stay parameters).
int lg_emit_axi_wreader(lg_emit_ctx *ctx, const char *module, int32_t beat_bits,
                        int32_t beat_aw, int32_t axi_dw, lg_err *err);

// ---- embedding ROM (src/emit_wmem.c) ---------------------------------------------

// Words of the embedding ROM: rows * (cols + ngroups).
int64_t lg_embed_rom_words(const lg_qmat *emb);
// Fills rom (lg_embed_rom_words entries) in the lg_embed layout: dexp words
// 0..15, mantissas as two's complement bytes.
void lg_embed_rom_build(uint8_t *rom, const lg_qmat *emb);
// Writes the ROM as a $readmemh file of 8-bit words.
int lg_emit_embed_hex(lg_emit_ctx *ctx, const lg_qmat *emb, const char *file, lg_err *err);

// ---- norm gains (src/emit_wmem.c) --------------------------------------------------

// The model's RMSNorm gain vectors in gain-ROM row order (one row per norm,
// docs/architecture.md): att[0], ffn[0], att[1], ffn[1], ..., final. out
// holds 2 * n_layers + 1 shallow copies (mantissas still owned by qm); pass it
// as lg_rmsnorm_unit.gains, whose emitter writes the gain image.
int32_t lg_model_gain_count(const lg_qmodel *qm);
void lg_model_gain_list(lg_qvec *out, const lg_qmodel *qm);

// ---- units -------------------------------------------------------------------------

typedef struct lg_wmem_params {
    int32_t lanes;         // power of two, 1..64
    int32_t group;         // power of two, 4..256
    int64_t depth;         // beats held, >= 2 (usually the image's nbeats)
    const char *init_file; // default INIT_FILE ("" for none)
} lg_wmem_params;

// Default module name "lg_wmem_l<lanes>_g<group>_d<depth>".
void lg_wmem_module_name(char *buf, size_t n, const lg_wmem_params *p);
int lg_wmem_check(const lg_wmem_params *p, lg_err *err);
// Cycles from the start cycle to the first m_w_valid, and the stall-free
// cycles from start to done for n beats (n + 3).
#define LG_WMEM_LATENCY 3
int64_t lg_wmem_run_cycles(int64_t nbeats);
int lg_emit_wmem(lg_emit_ctx *ctx, const char *module, const lg_wmem_params *p, lg_err *err);

typedef struct lg_embed_params {
    int32_t vocab;         // rows, >= 2
    int32_t dim;           // row length, >= 2
    int32_t group;         // I8E group size, >= 2
    int32_t ebase;         // the table's ebase (-200..200)
    const char *init_file; // default INIT_FILE (lg_emit_embed_hex image)
} lg_embed_params;

void lg_embed_params_from_qmat(lg_embed_params *p, const lg_qmat *emb, const char *init_file);
// Default module name "lg_embed_v<vocab>_d<dim>_g<group>" ("_e<ebase>" with
// m for minus appended, e.g. _em22: ebase is baked into the default).
void lg_embed_module_name(char *buf, size_t n, const lg_embed_params *p);
int lg_embed_check(const lg_embed_params *p, lg_err *err);
// Cycles from the token handshake to the first m_x_valid, and from the
// token handshake to the handshake of the last element with no stalls.
#define LG_EMBED_LATENCY 4
int64_t lg_embed_row_cycles(const lg_embed_params *p);
int lg_emit_embed(lg_emit_ctx *ctx, const char *module, const lg_embed_params *p, lg_err *err);

// The embedding read from the weight stream instead of a ROM
// (rtl_templates/lg_embstream.v): row t is beats base + t * ceil(dim / lanes)
// .. + ceil(dim / lanes) - 1 of the stream (the classifier's rows, for a
// shared classifier). init_file is unused.
typedef struct lg_embstream_params {
    lg_embed_params e; // vocab, dim, group, ebase
    int32_t lanes;     // weight stream lanes
    int64_t base;      // first beat of row 0
    int32_t aw;        // beat address width
} lg_embstream_params;
int lg_emit_embstream(lg_emit_ctx *ctx, const char *module, const lg_embstream_params *p,
                      lg_err *err);

// ---- sampler (src/emit_sampler.c) --------------------------------------------------

typedef struct lg_sampler_params {
    int32_t vocab;           // logits per vector, >= 2
    const char *exp2_module; // instantiated exp2 unit (lg_emit_exp2), emitted separately
    const char *exp2_file;   // default EXP2_FILE parameter (its LUT image)
    int32_t mul_share;       // 1: one-multiplier form (lg_sampler_share.v, vocab <= 32768)
} lg_sampler_params;

// Cycles from the last logit's handshake to m_tok_valid: 1 at inv_temp 0,
// vocab + token + LG_SAMPLER_FIXED otherwise (token = the drawn id); under
// mul_share LG_SAMPLER_SHARE_ITEM * vocab + LG_SAMPLER_SHARE_TOK * token +
// LG_SAMPLER_SHARE_FIXED (rtl_templates/lg_sampler_share.v, "Latency").
#define LG_SAMPLER_FIXED 55
#define LG_SAMPLER_SHARE_ITEM 31
#define LG_SAMPLER_SHARE_TOK 31
#define LG_SAMPLER_SHARE_FIXED 228
int64_t lg_sampler_latency(const lg_sampler_params *p, uint32_t inv_temp, int32_t token);
// Default module name "lg_sampler_v<vocab>".
void lg_sampler_module_name(char *buf, size_t n, const lg_sampler_params *p);
int lg_sampler_check(const lg_sampler_params *p, lg_err *err);
int lg_emit_sampler(lg_emit_ctx *ctx, const char *module, const lg_sampler_params *p,
                    lg_err *err);

#endif
