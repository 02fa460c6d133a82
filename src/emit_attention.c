// Emitters of the K/V cache (rtl_templates/lg_kvcache.v + lg_kvquant.v; under
// mul_share lg_kvcache_share.v + lg_kvquant_share.v, one quantizer for K and V) and
// the attention unit (rtl_templates/lg_attention.v + lg_recip.v; under
// mul_share lg_attention_share.v + its exp2 table stage lg_exp2_share.v: one
// multiplier, one shifter, the interpolation on them); C twins
// lg_ref_kv_quant and lg_ref_attention_head. Every constant is a Verilog
// parameter, so the emitter bakes the configuration into the parameter
// defaults and the default module names, and owns the cycle formulas the
// benches check.
#include "llamagen/emit_attn.h"
#include "llamagen/emit_units2.h"
#include "llamagen/ref.h"

#include <stdio.h>
#include <stdlib.h>

// ---- parameters -----------------------------------------------------------------

void lg_attn_params_from_cfg(lg_attn_params *p, const lg_config *cfg, int32_t score_c)
{
    p->head_size = lg_head_size(&cfg->m);
    p->n_heads = cfg->m.n_heads;
    p->n_kv_heads = cfg->m.n_kv_heads;
    p->n_layers = cfg->m.n_layers;
    p->seq_len = cfg->m.seq_len;
    p->kv_bits = cfg->hw.kv_bits;
    p->kv_group = cfg->hw.kv_group;
    p->lanes = cfg->hw.lanes;
    // The lean cache and attention (--mul-share) take one element per cycle
    // whatever the beat, so the beat needs no MAC lanes behind it; at least
    // 2 elements keep two 8-bit mantissas per 16-bit word, the packing that
    // puts the K/V exponents into the SPRAM's spare words, at --lanes 1 or 2 too.
    if (cfg->hw.mul_share && p->lanes < 4)
        p->lanes = 4;
    p->score_c = score_c;
    p->kv_ports = cfg->hw.kv_ports;
    // an explicit --vec-lanes below 8 narrows the query quantizer too
    p->qv_max = cfg->hw.vec_lanes > 0 && cfg->hw.vec_lanes < 8 ? cfg->hw.vec_lanes : 0;
    p->mul_share = cfg->hw.mul_share;
}

int32_t lg_attn_qv(const lg_attn_params *p)
{
    int32_t cap = p->qv_max > 0 && p->qv_max < 8 ? p->qv_max : 8;
    return p->head_size < cap ? p->head_size : cap;
}

static int is_pow2(int32_t x) { return x > 0 && (x & (x - 1)) == 0; }

int lg_attn_check(const lg_attn_params *p, lg_err *err)
{
    if (p->head_size < 2 || p->head_size > 4096)
        return lg_fail(err, "attention: head_size = %d must be in 2..4096", p->head_size);
    if (p->n_heads < 1 || p->n_kv_heads < 1 || p->n_heads % p->n_kv_heads != 0 ||
        p->n_heads > 1024)
        return lg_fail(err, "attention: n_kv_heads = %d must divide n_heads = %d (<= 1024)",
                       p->n_kv_heads, p->n_heads);
    if (p->n_layers < 1 || p->n_layers > 1024)
        return lg_fail(err, "attention: n_layers = %d must be in 1..1024", p->n_layers);
    if (p->seq_len < 1 || p->seq_len > (1 << 20))
        return lg_fail(err, "attention: seq_len = %d must be in 1..2^20", p->seq_len);
    if (p->kv_bits < 4 || p->kv_bits > 16)
        return lg_fail(err, "attention: kv_bits = %d must be in 4..16", p->kv_bits);
    if (p->kv_group < 1 || p->head_size % p->kv_group != 0)
        return lg_fail(err, "attention: kv_group = %d must divide head_size = %d", p->kv_group,
                       p->head_size);
    if (p->kv_ports < 0 || p->kv_ports > 2)
        return lg_fail(err, "attention: kv_ports = %d must be 1 or 2", p->kv_ports);
    if (p->qv_max < 0)
        return lg_fail(err, "attention: qv_max = %d must be >= 0", p->qv_max);
    if (!is_pow2(p->lanes) || p->lanes > 64)
        return lg_fail(err, "attention: lanes = %d must be a power of two in 1..64", p->lanes);
    if (p->score_c < 1 || p->score_c >= (1 << 21))
        return lg_fail(err, "attention: score_c = %d must be in 1..2^21-1", p->score_c);
    return 0;
}

// Mirrors the BEAT localparam of lg_attention.v (the cache gets it as BEAT).
int32_t lg_attn_beat(const lg_attn_params *p)
{
    int32_t b = p->lanes >= 2 ? p->lanes / 2 : 1;
    int32_t p2_hs = p->head_size & -p->head_size;
    int32_t p2_g = p->kv_group & -p->kv_group;
    if (b > p2_hs)
        b = p2_hs;
    if (p2_g != p->kv_group && b > p2_g)
        b = p2_g;
    return b;
}

int32_t lg_attn_row_cycles(const lg_attn_params *p) { return p->head_size / lg_attn_beat(p); }

// ---- cycle model ------------------------------------------------------------------
//
// Three loops run concurrently, one query head at a time each; the slowest
// paces the heads (measured exactly by tests/hdl/tb_attention.cpp):
//   rows    R = (pos + 1) * NB K beats per head, back to back (the cache
//           takes the next head's request while the current one streams);
//   back    hand-off, 17-step reciprocal, head_size outputs: head_size + 19;
//   query   the actq holds one head: head_size in, head_size out, 3 cycles
//           of latency between: 2 * head_size + 3.
// The first head adds the fill: its query (2 * head_size + 4 cycles to a
// full bank), the cache's read latency (3), the row pipe (14 cycles from
// the last K beat to the last o update, plus NB - 1 value beats of the last
// row), the hand-off and the back end up to the done pulse (head_size + 22).

#define ATTN_REQ_LAT 3 // cache: request handshake cycle to first beat valid

// The lean form (mul_share, rtl_templates/lg_attention_share.v): heads one
// after another, one multiply a step, every phase element by element; its cycle
// model is the sum of the sequencer's steps (module header):
//   query  QH = 2 hs + 1 (the inline quantizer's two passes, and the
//          write of pass 1's last raw value before pass 2)
//   row    RC = 3 hs + (hs / kv_group) (2 LA + 2) + 7
//   back   BH = L_W + 17 + hs (2 LA + 2) (reciprocal: load, L_W - 1
//          normalising steps, 17 quotient steps; hs outputs), L_W = 17 +
//          clog2(seq_len)
// plus the start cycle and the last output's transfer to done (2).
// LA = limbs of the wide multiply operand: ceil((max(PS_W, 41) - 1) / 15).
int32_t lg_attn_share_limbs(const lg_attn_params *p)
{
    int32_t lg = 0;
    while ((1 << lg) < p->kv_group)
        lg++;
    int32_t ps_w = 15 + p->kv_bits + lg, ma_w = ps_w > 41 ? ps_w : 41;
    return (ma_w - 1 + 14) / 15;
}

static int64_t attn_share_cycles(const lg_attn_params *p, int32_t pos)
{
    int64_t hs = p->head_size, la = lg_attn_share_limbs(p);
    int64_t qh = 2 * hs + 1;
    int64_t rc = 3 * hs + (hs / p->kv_group) * (2 * la + 2) + 7;
    int lg_seq = 0;
    while ((1L << lg_seq) < p->seq_len)
        lg_seq++;
    int64_t bh = 17 + lg_seq + 17 + hs * (2 * la + 2);
    return (int64_t)p->n_heads * (qh + ((int64_t)pos + 1) * rc + bh) + 2;
}

// The query path (rtl_templates/lg_attention.v): QV elements a beat, NQC
// beats a head (returned); *pace: a head's query takes its hs input cycles,
// or the quantizer's output pass and latency when they are longer than the
// first beat's packing.
static int64_t attn_query_path(const lg_attn_params *p, int64_t *pace)
{
    int64_t hs = p->head_size, qv = lg_attn_qv(p), nqc = (hs + qv - 1) / qv;
    *pace = hs - qv + nqc + 4 > hs ? hs - qv + nqc + 4 : hs;
    return nqc;
}

int64_t lg_attn_cycles(const lg_attn_params *p, int32_t pos)
{
    if (p->mul_share)
        return attn_share_cycles(p, pos);
    int64_t hs = p->head_size, nb = lg_attn_row_cycles(p);
    int64_t rows = ((int64_t)pos + 1) * nb;
    int64_t qp, nqc = attn_query_path(p, &qp);
    // heads reach the back end one pace apart (rows, or the query path);
    // a hand-off waits for its reciprocal slot (two slots, alternating, when
    // hs < 18), the transfer to the output stage comes 18 cycles after the
    // hand-off and once the previous head's hs outputs have been issued
    int64_t pace = rows > qp ? rows : qp;
    int ndiv = hs < 18 ? 2 : 1;
    int64_t t = 0, x = 18, xm1 = 0, xm2 = 0; // hand-off, transfer of heads h, h-1, h-2
    for (int32_t h = 1; h < p->n_heads; h++) {
        xm2 = xm1;
        xm1 = x;
        int64_t th = t + pace;
        int64_t slot_free = ndiv == 2 ? (h >= 2 ? xm2 + 1 : 0) : xm1 + 1;
        if (th < slot_free)
            th = slot_free;
        t = th;
        x = t + 18 > xm1 + hs ? t + 18 : xm1 + hs;
    }
    // first head: query to a full bank (hs + nqc + 4), cache read, last K
    // beat to last o update (13 + nb), hand-off and back end to done
    return 2 * hs + nqc + 42 + nb + rows + (x - 18);
}

// lg_attn_cycles_at: the control of rtl_templates/lg_attention.v, cycle by
// cycle, from the start cycle (0). Timing constants of the template, each
// checked by the equality with lg_attn_cycles() at tk = tv = 0:
#define AT_QFILL 5  // a head's query bank full hs + NQC + 5 cycles after the start
#define AT_KLAT 3   // K / V request handshake to its first beat
#define AT_REQ 2    // requests at least 2 (and R) cycles apart (the cache's port)
#define AT_PIPE 10  // a row's last K beat entering to its p at the V stage
#define AT_HDONE 2  // a head's last V beat to hdone, advancing cycles
#define AT_RECIP 18 // hand-off to the transfer (17-step divider)
#define AT_OUT 3    // last output issued to its transfer (o0, o1, out)
#define AT_RING 64  // rows between K entry and V stage: <= AT_PIPE + 2

static int64_t attn_run(const lg_attn_params *p, int32_t pos, int64_t tk, int64_t tv)
{
    const int64_t hs = p->head_size, nh = p->n_heads, nb = lg_attn_row_cycles(p);
    const int64_t r = ((int64_t)pos + 1) * nb; // beats a head
    int64_t qp; // the query path's pace
    const int64_t nqc = attn_query_path(p, &qp);
    const int64_t req_gap = r > AT_REQ ? r : AT_REQ;
    const int ndiv = hs < 18 ? 2 : 1;
    // the last bank-full cycle; per bank (head parity) the cycle it was freed
    // (the last K beat of its head taken); per head its K and V request cycles
    int64_t bprev = -1, kfree[2] = {-1, -1};
    int64_t *kreq = malloc(2 * (size_t)nh * sizeof *kreq), *vreq = kreq + nh; // (n_heads) each
    if (!kreq)
        return -1;
    int64_t kh = 0, vh = 0; // requests sent
    int64_t kj = 0, vj = 0, nk = nh * r; // next K beat to enter, next V beat to take
    int64_t pc = 0;                      // advancing cycles so far (the pipe's clock)
    int64_t ring[AT_RING];               // rows' p at the V stage (pipe clock), in order
    int64_t rq_h = 0, rq_t = 0, vrow = 0;
    int64_t hd_pc[8];                    // heads' hdone pipe clocks, in order
    int hq_h = 0, hq_t = 0, hdone = 0;
    int busy[2] = {0, 0}, pend[2] = {0, 0}, hs_in = 0, hs_out = 0, bk_out = 0;
    int64_t rc_at[2] = {-1, -1}, oidx = 0, issued = 0, last_issue = 0;
    for (int64_t t = 1;; t++) {
        // the next head's query bank: two banks, the quantizer one head behind the other
        int64_t bk = -1;
        if (kh < nh) {
            if (kh == 0)
                bk = hs + nqc + AT_QFILL;
            else if (kh == 1)
                bk = bprev + qp;
            else if (kfree[kh & 1] >= 0)
                bk = (bprev + qp > kfree[kh & 1] + nqc ? bprev + qp : kfree[kh & 1] + nqc);
        }
        if (bk >= 0 && t > bk && t >= tk && (kh == 0 || t >= kreq[kh - 1] + req_gap)) {
            kreq[kh] = t;
            bprev = bk;
            kfree[kh & 1] = -1;
            kh++;
        }
        if (vh < kh && t >= tv && t > kreq[vh] && (vh == 0 || t >= vreq[vh - 1] + req_gap)) {
            vreq[vh] = t;
            vh++;
        }
        // the row pipe: stops while the row at the V stage lacks its V beat or a
        // finished head waits for a busy reciprocal slot
        int needs_v = rq_h < rq_t && ring[rq_h % AT_RING] + vrow <= pc;
        int v_here = 0;
        if (needs_v) {
            int64_t h = vj / r;
            v_here = h < vh && t >= vreq[h] + AT_KLAT + vj % r;
        }
        int adv = !(needs_v && !v_here) && !(hdone && busy[hs_in]);
        if (hdone && !busy[hs_in]) { // hand-off
            busy[hs_in] = 1;
            rc_at[hs_in] = t + AT_RECIP;
            hdone = 0;
            hs_in = ndiv > 1 ? !hs_in : 0;
        }
        // the output stage: a head's hs outputs, one a cycle, the next head's
        // transfer in the cycle of the last issue
        int olast = bk_out && oidx == hs - 1;
        int xfer = (pend[hs_out] || rc_at[hs_out] == t) && (!bk_out || olast);
        if (bk_out) {
            if (olast) {
                bk_out = 0;
                issued++;
                last_issue = t;
            } else {
                oidx++;
            }
        }
        for (int s2 = 0; s2 < 2; s2++)
            if (rc_at[s2] == t)
                pend[s2] = 1;
        if (xfer) {
            pend[hs_out] = 0;
            busy[hs_out] = 0;
            bk_out = 1;
            oidx = 0;
            hs_out = ndiv > 1 ? !hs_out : 0;
        }
        if (issued == nh) {
            free(kreq);
            return last_issue + AT_OUT + 1; // done: the cycle after the last output
        }
        if (adv) {
            if (hq_h < hq_t && hd_pc[hq_h % 8] == pc) {
                hdone = 1;
                hq_h++;
            }
            if (needs_v) {
                vj++;
                if (++vrow == nb) {
                    vrow = 0;
                    rq_h++;
                }
                if (vj % r == 0)
                    hd_pc[hq_t++ % 8] = pc + AT_HDONE;
            }
            if (kj < nk) {
                int64_t h = kj / r;
                if (h < kh && t >= kreq[h] + AT_KLAT + kj % r) {
                    if (kj % nb == nb - 1)
                        ring[rq_t++ % AT_RING] = pc + AT_PIPE;
                    if (kj % r == r - 1)
                        kfree[(h + 2) & 1] = t + 1; // bank h & 1 free for head h + 2
                    kj++;
                }
            }
            pc++;
        }
    }
}

int64_t lg_attn_cycles_at(const lg_attn_params *p, int32_t pos, int64_t tk, int64_t tv)
{
    if (p->mul_share)
        return lg_attn_cycles(p, pos);
    // the run steps every cycle up to tv and through every beat: bounded
    int64_t beats = (int64_t)p->n_heads * ((int64_t)pos + 1) * lg_attn_row_cycles(p);
    if (beats <= (1 << 22) && tk <= (1 << 22) && tv <= (1 << 22)) {
        int64_t c = attn_run(p, pos, tk, tv);
        if (c >= 0)
            return c;
    }
    // long calls (or no memory): the unstalled call shifted by the later of
    // the K side's wait (its first request at the query fill + 1) and the V
    // side's (its first beat taken at the fill + request + a row's K beats +
    // the pipe)
    int64_t qp, nqc = attn_query_path(p, &qp);
    int64_t kreq0 = p->head_size + nqc + AT_QFILL + 1;
    int64_t fill = kreq0 + AT_KLAT + lg_attn_row_cycles(p) - 1 + AT_PIPE;
    int64_t a = lg_attn_cycles(p, pos), late = a;
    if (tk - kreq0 + a > late)
        late = tk - kreq0 + a;
    if (tv + AT_KLAT + (a - fill) > late)
        late = tv + AT_KLAT + (a - fill);
    return late;
}

// lg_kvquant_share's group read-out (mul_share): an exponent pass of 34
// cycles an element, then KV_BITS + 3 cycles an element, bit-serial
// (lg_kvquant: one cycle an element)
static int32_t kvq_readout(const lg_attn_params *p)
{
    return p->mul_share ? (p->kv_bits + 37) * p->kv_group : p->kv_group;
}

// Both forms: the quantizer (lg_kvquant, or the shared lg_kvquant_share under
// mul_share) writes a row's last word R + 2 cycles after its last element
// (R: the last group's read-out, kvq_readout) and pulses done the cycle after.
int32_t lg_kvcache_done_latency(const lg_attn_params *p) { return kvq_readout(p) + 3; }

// A K row and a V row offered together without gaps: one quantizer per cache
// writes them in parallel; the shared one (mul_share) takes the V row in the
// K row's done cycle.
int lg_kvcache_exp_in_mant(const lg_attn_params *p)
{
    // lg_kvcache_share.v's SPX: single port, an exponent word fits a
    // mantissa word, an even number (>= 4) of mantissa words, beat and
    // group > 1
    int64_t beat = lg_attn_beat(p), grp = p->kv_group;
    int64_t ngb = beat > grp ? beat / grp : 1;
    int64_t words = (int64_t)p->n_layers * p->seq_len * p->n_kv_heads * p->head_size / beat;
    return p->mul_share && p->kv_ports == 1 && beat * p->kv_bits >= ngb * 5 && words % 2 == 0 &&
           words >= 4 && beat > 1 && grp > 1;
}

int32_t lg_kvcache_pair_cycles(const lg_attn_params *p)
{
    int32_t kvd = p->head_size * p->n_kv_heads, g = p->kv_group, r = kvq_readout(p);
    // the shared quantizer takes a group's last element only when the
    // previous group's read-out has ended (and none in the cycle after a
    // group's last): group 0 in g cycles, each later one R + 2 after the
    // previous; the V row starts in the K row's done cycle
    if (p->mul_share)
        return 2 * ((g - 1) + (kvd / g - 1) * (r + 2) + r + 3);
    return kvd + g + 2;
}

int32_t lg_kvcache_read_latency(const lg_attn_params *p)
{
    (void)p;
    return ATTN_REQ_LAT;
}

// ---- names ------------------------------------------------------------------------

void lg_kvcache_module_name(char *buf, size_t n, const lg_attn_params *p)
{
    snprintf(buf, n, "lg_kvcache_h%d_k%d_b%d_g%d_e%d_l%d_s%d%s%s", p->head_size, p->n_kv_heads,
             p->kv_bits, p->kv_group, lg_attn_beat(p), p->n_layers, p->seq_len,
             p->kv_ports == 1 ? "_p1" : "", p->mul_share ? "_ms" : "");
}

void lg_attention_module_name(char *buf, size_t n, const lg_attn_params *p)
{
    char q[16] = "";
    if (p->qv_max > 0 && p->qv_max < 8)
        snprintf(q, sizeof q, "_q%d", p->qv_max);
    snprintf(buf, n, "lg_attention_h%d_n%d_k%d_b%d_g%d_w%d_s%d%s%s", p->head_size, p->n_heads,
             p->n_kv_heads, p->kv_bits, p->kv_group, p->lanes, p->seq_len, q,
             p->mul_share ? "_ms" : "");
}

// ---- emitters ---------------------------------------------------------------------

#define NUM(buf, v) snprintf(buf, sizeof buf, "%d", (int)(v))

int lg_emit_kvcache(lg_emit_ctx *ctx, const char *module, const lg_attn_params *p, lg_err *err)
{
    char name[160], qname[200];
    if (!module) {
        lg_kvcache_module_name(name, sizeof name, p);
        module = name;
    }
    if (lg_attn_check(p, err))
        return lg_fail_ctx(err, "emit %s", module);
    snprintf(qname, sizeof qname, "%s_quant", module);
    char kv_dim[16], group[16], bits[16], beat[16], layers[16], seq[16], kvh[16], hs[16];
    char ports[16];
    NUM(ports, p->kv_ports == 1 ? 1 : 2);
    NUM(kv_dim, p->head_size * p->n_kv_heads);
    NUM(group, p->kv_group);
    NUM(bits, p->kv_bits);
    NUM(beat, lg_attn_beat(p));
    NUM(layers, p->n_layers);
    NUM(seq, p->seq_len);
    NUM(kvh, p->n_kv_heads);
    NUM(hs, p->head_size);
    char qlat[512], lat[640];
    // mul_share: a group's last element waits for the previous group's
    // read-out (kvq_readout), none in the cycle after a group's last
    int32_t kvd = p->head_size * p->n_kv_heads;
    int32_t first_to_last = p->mul_share ? (p->kv_group - 1) + (kvd / p->kv_group - 1) *
                                                                   (kvq_readout(p) + 2)
                                         : kvd - 1;
    snprintf(qlat, sizeof qlat,
             "one element per cycle%s; done %d cycles after a row's last element (a gapless "
             "row of %d: done %d cycles after its first)%s",
             p->mul_share ? ", a group's last after the previous group's bit-serial read-out "
                            "(KV_BITS + 37 cycles an element), none in the cycle after it"
                          : "",
             lg_kvcache_done_latency(p), kvd, first_to_last + lg_kvcache_done_latency(p),
             p->mul_share ? "; K and V rows in turn, a row's first element in the previous "
                            "row's done cycle at the earliest"
                          : "");
    char pair[160] = "";
    if (p->mul_share)
        snprintf(pair, sizeof pair,
                 " (one quantizer shared by K and V, rows in turn: a K and a V row offered "
                 "together, V done %d cycles after the K row's first element)",
                 lg_kvcache_pair_cycles(p));
    snprintf(lat, sizeof lat,
             "write: one element per cycle%s, row done %d cycles after its last "
             "element%s; read: first beat %d cycles after the request, then one beat of %s "
             "mantissas per cycle per port%s",
             p->mul_share ? " (a group's last after the previous group's read-out)" : " per port",
             lg_kvcache_done_latency(p), pair,
             lg_kvcache_read_latency(p), beat,
             p->kv_ports != 1  ? ""
             : p->mul_share ? " (single-port RAMs: a write cycle issues no read)"
                            : " (single-port RAMs: a mantissa write cycle issues no read)");
    lg_subst qv[] = {{"KV_DIM", kv_dim}, {"KV_GROUP", group}, {"KV_BITS", bits},
                     {"BEAT", beat},     {"LAYERS", layers},  {"SEQ_LEN", seq}};
    lg_subst cv[] = {{"KVQ_MODULE", qname}, {"LAYERS", layers}, {"SEQ_LEN", seq},
                     {"N_KV_HEADS", kvh},   {"HEAD_SIZE", hs},  {"KV_BITS", bits},
                     {"KV_GROUP", group},   {"BEAT", beat},     {"KV_PORTS", ports}};
    // mul_share: one quantizer for both caches (lg_kvquant_share with K and V
    // ports, lg_kvcache_share routing its writes)
    if (lg_emit_module(ctx, qname, p->mul_share ? "lg_kvquant_share" : "lg_kvquant", qv, 6,
                       qlat, err))
        return -1;
    return lg_emit_module(ctx, module, p->mul_share ? "lg_kvcache_share" : "lg_kvcache", cv, 9,
                          lat, err);
}

int lg_emit_attention(lg_emit_ctx *ctx, const char *module, const lg_attn_params *p,
                      const char *exp2_module, const char *exp2_file, const char *actq_module,
                      lg_err *err)
{
    char name[160], rname[200];
    if (!module) {
        lg_attention_module_name(name, sizeof name, p);
        module = name;
    }
    if (lg_attn_check(p, err))
        return lg_fail_ctx(err, "emit %s", module);
    if (!exp2_module || !exp2_file || !actq_module)
        return lg_fail(err, "emit %s: exp2/actq module names and the exp2 image are required",
                       module);
    snprintf(rname, sizeof rname, "%s_recip", module);
    char hs[16], nh[16], nkv[16], layers[16], bits[16], group[16], seq[16], lanes[16],
        sc[16], l_w[16], qv[16];
    NUM(qv, lg_attn_qv(p));
    int clog2_seq = 0;
    while ((1L << clog2_seq) < p->seq_len)
        clog2_seq++;
    NUM(hs, p->head_size);
    NUM(nh, p->n_heads);
    NUM(nkv, p->n_kv_heads);
    NUM(layers, p->n_layers);
    NUM(bits, p->kv_bits);
    NUM(group, p->kv_group);
    NUM(seq, p->seq_len);
    NUM(lanes, p->lanes);
    NUM(sc, p->score_c);
    NUM(l_w, 18 + clog2_seq); // lg_attention's L_W
    char rlat[128], lat[512];
    snprintf(rlat, sizeof rlat, "done 18 cycles after start (17 quotient steps)");
    if (p->mul_share)
        snprintf(lat, sizeof lat,
                 "lean form (one multiply a step): %lld cycles per query head per cached row, heads "
                 "one after another; %lld cycles start to done at pos 0, %lld at pos %d (no "
                 "stalls)",
                 (long long)(lg_attn_cycles(p, 1) - lg_attn_cycles(p, 0)) / p->n_heads,
                 (long long)lg_attn_cycles(p, 0), (long long)lg_attn_cycles(p, p->seq_len - 1),
                 p->seq_len - 1);
    else
        snprintf(lat, sizeof lat,
                 "%d cycle(s) per query head per cached row (beat %d of %d lanes); %lld cycles "
                 "start to done at pos 0, %lld at pos %d (no stalls)",
                 lg_attn_row_cycles(p), lg_attn_beat(p), p->lanes,
                 (long long)lg_attn_cycles(p, 0), (long long)lg_attn_cycles(p, p->seq_len - 1),
                 p->seq_len - 1);
    lg_subst rv[] = {{"L_W", l_w}};
    if (p->mul_share) {
        // the lean sibling (one multiply a step, one round-shifter, RAMs): it
        // quantizes the query and divides inline (no actq, no recip unit),
        // and interpolates 2^x on its own multiplier and shifter: its exp2
        // is <module>_exp2, the table stage alone (lg_exp2_share.v) with the
        // T column (T[i] - 2^16, 16 bits: one EBR) baked in from the table
        // of the exp2_file image (fixed: lg_luts_build)
        char ename[220];
        snprintf(ename, sizeof ename, "%s_exp2", module);
        lg_luts luts;
        lg_luts_build(&luts);
        char *init = lg_exp2_t_column(&luts, "trom", ename, err);
        if (!init)
            return -1;
        lg_subst ev[] = {{"MODULE", ename}, {"LUT_FILE", exp2_file}, {"T_INIT", init}};
        int erc = lg_emit_module(ctx, ename, "lg_exp2_share", ev, 3,
                                 "2 cycles (T[i], T[i+1] read); the attention interpolates and "
                                 "rounds",
                                 err);
        free(init);
        if (erc)
            return -1;
        lg_subst sv[] = {{"EXP2_MODULE", ename},       {"EXP2_FILE", exp2_file},
                         {"HEAD_SIZE", hs},            {"N_HEADS", nh},
                         {"N_KV_HEADS", nkv},          {"LAYERS", layers},
                         {"KV_BITS", bits},            {"KV_GROUP", group},
                         {"SEQ_LEN", seq},             {"LANES", lanes},
                         {"SCORE_C", sc}};
        return lg_emit_module(ctx, module, "lg_attention_share", sv, 11, lat, err);
    }
    lg_subst av[] = {{"RECIP_MODULE", rname}, {"EXP2_MODULE", exp2_module},
                     {"ACTQ_MODULE", actq_module}, {"EXP2_FILE", exp2_file},
                     {"HEAD_SIZE", hs},         {"N_HEADS", nh},
                     {"N_KV_HEADS", nkv},       {"LAYERS", layers},
                     {"KV_BITS", bits},         {"KV_GROUP", group},
                     {"SEQ_LEN", seq},          {"LANES", lanes},
                     {"SCORE_C", sc},           {"QV", qv}};
    if (lg_emit_module(ctx, rname, "lg_recip", rv, 1, rlat, err))
        return -1;
    return lg_emit_module(ctx, module, "lg_attention", av, 14, lat, err);
}
