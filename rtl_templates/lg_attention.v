`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: multi-head attention of one layer at one position, over the K/V
 * rows 0..pos held by lg_kvcache (template rtl_templates/lg_attention.v,
 * C twin lg_ref_attention_head in src/ref_attention.c, once per head).
 *
 * Why: attention is the only part of the decoder whose work grows with the
 * position (q.k and p.v over every cached row). It streams the cached rows
 * once per query head with an online softmax (docs/numerics.md 3.11), so no
 * score vector is stored, rescaling is a shift, and the only division is one
 * reciprocal per head, done by a sequential divider (${RECIP_MODULE}).
 *
 * Numerics (bit-exact with the C twin), per query head h (K/V head
 * h / (N_HEADS / N_KV_HEADS)):
 *   (qm, sq) = actq(q_h)                                 (${ACTQ_MODULE})
 *   row t:  z_t = sum_g sat32(round_shift(psum_g * SCORE_C, 36 - sq - ek_g)),
 *           sat32 after each add, groups in order
 *           t = 0 or z_t > M:  M' = ceil(z_t) (multiple of 2^16),
 *                              d = (M' - M) >> 16 (0 for t = 0)
 *           p = exp2(z_t - M')                           (${EXP2_MODULE})
 *           l = round_shift(l, d) + p
 *           o[i] = round_shift(o[i], d) + round_shift(p * vm[i], 8 - ev_g(i))
 *   end:    R = floor(2^(pl+16) / l), pl = bitlen(l) - 1
 *           out[i] = sat32(round_shift(round_shift(o[i], pl - 15) * R, 23))
 * (the rescale of a row is applied to each o slice when that slice is next
 * updated, in the same row: the same integers as rescaling all first).
 * round_shift is round half up, a negative shift a left shift; sat32 is
 * symmetric +-(2^31 - 1). Preconditions (kept by lg_kvcache): exponents ev
 * <= 33 - KV_BITS, mantissas |m| <= 2^(KV_BITS-1) - 1.
 *
 * Datapath and throughput: BEAT = lg_attn_beat() elements per beat: the
 * largest power of two <= max(1, LANES / 2) that divides HEAD_SIZE and
 * divides or is a multiple of KV_GROUP. Each cycle one K beat enters the
 * score pipe (BEAT multipliers q*k) while one V beat of an earlier row enters
 * the value pipe (BEAT multipliers p*v): LANES multipliers busy when BEAT =
 * LANES / 2, plus max(1, BEAT / KV_GROUP) score-constant multipliers and one
 * output multiplier. A row of a head takes NB = HEAD_SIZE / BEAT cycles, so
 * a head at position pos streams in (pos + 1) * NB cycles, heads back to
 * back (stories260K, LANES 16: BEAT 8 = HEAD_SIZE, one row per cycle).
 * Three loops run concurrently, one head at a time each: the rows (R =
 * (pos + 1) * NB cycles a head), the query path (elements packed into beats
 * of QV = min(HEAD_SIZE, 8) (or --vec-lanes when narrower), NQC beats a
 * head through the query quantizer:
 * Qp = max(HEAD_SIZE, HEAD_SIZE - QV + NQC + 4) cycles a head) and the back
 * end (a finished head's o and l go to a reciprocal slot, the 17-step
 * divider runs, 18 cycles after the hand-off the head moves to the output
 * stage, which issues its HEAD_SIZE outputs while the next head's divider
 * runs; with HEAD_SIZE < 18 two slots take alternate heads, so the divider
 * no longer paces them). Heads reach the back end max(R, Qp) apart; head h
 * is handed off at t_h = max(t_(h-1) + max(R, Qp), slot free: x_(h-2) + 1
 * with two slots, x_(h-1) + 1 with one) and transferred at x_h = max(t_h +
 * 18, x_(h-1) + HEAD_SIZE), t_0 = 0, x_0 = 18. With the query offered every
 * cycle, the cache serving its streams and the output always ready, a call
 * takes
 *   2 * HEAD_SIZE + NQC + 42 + NB + R + (x_(N_HEADS-1) - 18)
 * cycles from the start cycle to the done cycle (lg_attn_cycles(), which
 * runs this recurrence; the first head's fill: query to a full bank
 * HEAD_SIZE + NQC + 4, cache read 3, last K beat to last o update 13 + NB,
 * hand-off and back end to done HEAD_SIZE + 23). When the rows pace the
 * heads it is 2 * HEAD_SIZE + NQC + 42 + NB + N_HEADS * R. stories260K,
 * 16 lanes: 126 cycles at pos 0 (8 % of the multipliers busy), 4156 at pos
 * 511 (98.6 % busy).
 *
 * Parameters: HEAD_SIZE, N_HEADS, N_KV_HEADS (divides N_HEADS), LAYERS,
 * KV_BITS (4..16), KV_GROUP (divides HEAD_SIZE), SEQ_LEN, LANES (power of
 * two), SCORE_C (round(log2(e) / sqrt(HEAD_SIZE) * 2^20), < 2^21),
 * EXP2_FILE (the exp2 unit's table image).
 *
 * Handshake contract:
 *  - start: one-cycle pulse while busy is low; start_layer and start_pos are
 *    captured with it. start_pos >= SEQ_LEN or start_layer >= LAYERS sets
 *    err (sticky until rst) and pulses done the next cycle with no output.
 *  - s_q: valid/ready, the N_HEADS * HEAD_SIZE query values (Q16, after
 *    RoPE, head-major), accepted only while busy. They pass through the
 *    query quantizer, one head at a time, into a two-bank query buffer, so
 *    the query of head h+2 can load while head h streams.
 *  - m_kreq / m_vreq: read requests to lg_kvcache (valid/ready; rows 0..pos
 *    of the head's K/V head), one per query head, in head order.
 *  - s_k / s_v: the row streams of those requests (valid/ready; BEAT
 *    mantissas and the beat's exponent(s) per transfer); *_last is not
 *    needed (the unit counts beats). A missing beat stalls the unit.
 *  - m_out: valid/ready, N_HEADS * HEAD_SIZE Q16 values, head-major; last on
 *    the final one. Valid stays high and data stable until ready;
 *    backpressure stalls only the output pipe and, once the back end is
 *    full, the row pipe.
 *  - done: one-cycle pulse after the last output is accepted; busy falls
 *    with it.
 */
module ${MODULE} #(
    // elements per head
    parameter HEAD_SIZE = ${HEAD_SIZE},
    // query heads
    parameter N_HEADS = ${N_HEADS},
    // K/V heads (GQA: divides N_HEADS)
    parameter N_KV_HEADS = ${N_KV_HEADS},
    // decoder layers (width of the layer port)
    parameter LAYERS = ${LAYERS},
    // K/V mantissa width in bits (4..16)
    parameter KV_BITS = ${KV_BITS},
    // K/V elements sharing one exponent (divides HEAD_SIZE)
    parameter KV_GROUP = ${KV_GROUP},
    // maximum context (positions 0..SEQ_LEN-1)
    parameter SEQ_LEN = ${SEQ_LEN},
    // multipliers for q.k and p.v together (power of two)
    parameter LANES = ${LANES},
    // score constant round(log2(e) / sqrt(HEAD_SIZE) * 2^20)
    parameter SCORE_C = ${SCORE_C},
    // $readmemh image of the exp2 table
    parameter EXP2_FILE = "${EXP2_FILE}"
) (
    input  wire                 clk,
    input  wire                 rst,

    /*
     * Control
     */
    input  wire                 start,
    input  wire [LW-1:0]        start_layer,
    input  wire [31:0]          start_pos,
    output wire                 busy,
    output reg                  done,
    output reg                  err,

    /*
     * Query input (Q16, N_HEADS * HEAD_SIZE values, head-major)
     */
    input  wire                 s_q_valid,
    output wire                 s_q_ready,
    input  wire [31:0]          s_q_data,

    /*
     * K read requests to lg_kvcache
     */
    output wire                 m_kreq_valid,
    input  wire                 m_kreq_ready,
    output wire [LW-1:0]        m_kreq_layer,
    output wire [HW-1:0]        m_kreq_head,
    output wire [PW-1:0]        m_kreq_first,
    output wire [PW-1:0]        m_kreq_last,

    /*
     * V read requests to lg_kvcache
     */
    output wire                 m_vreq_valid,
    input  wire                 m_vreq_ready,
    output wire [LW-1:0]        m_vreq_layer,
    output wire [HW-1:0]        m_vreq_head,
    output wire [PW-1:0]        m_vreq_first,
    output wire [PW-1:0]        m_vreq_last,

    /*
     * K row stream (BEAT mantissas + exponents per beat)
     */
    input  wire                 s_k_valid,
    output wire                 s_k_ready,
    input  wire [MW-1:0]        s_k_mant,
    input  wire [EW-1:0]        s_k_exp,
    input  wire                 s_k_last,

    /*
     * V row stream
     */
    input  wire                 s_v_valid,
    output wire                 s_v_ready,
    input  wire [MW-1:0]        s_v_mant,
    input  wire [EW-1:0]        s_v_exp,
    input  wire                 s_v_last,

    /*
     * Output (Q16, N_HEADS * HEAD_SIZE values, head-major)
     */
    output wire                 m_out_valid,
    input  wire                 m_out_ready,
    output wire [31:0]          m_out_data,
    output wire                 m_out_last
);

// ---- derived sizes ------------------------------------------------------------

// Elements per beat (lg_attn_beat): the largest power of two <= max(1,
// LANES / 2) that divides HEAD_SIZE and divides or is a multiple of
// KV_GROUP, i.e. min(LANES / 2, P2(HEAD_SIZE), P2(KV_GROUP) unless KV_GROUP
// is a power of two), P2(x) = x & -x the largest power of two dividing x.
localparam integer B_LANES = LANES >= 2 ? LANES / 2 : 1;
localparam integer P2_HS = HEAD_SIZE & (~HEAD_SIZE + 1);
localparam integer P2_G = KV_GROUP & (~KV_GROUP + 1);
localparam integer B_HS = B_LANES < P2_HS ? B_LANES : P2_HS;
localparam integer BEAT = (P2_G == KV_GROUP || B_HS < P2_G) ? B_HS : P2_G;
localparam integer KB = KV_BITS;
// beats per row, groups per beat (exponents), lanes per group slice, beats per group
localparam integer NB = HEAD_SIZE / BEAT;
localparam integer NGB = BEAT > KV_GROUP ? BEAT / KV_GROUP : 1;
localparam integer GL = BEAT > KV_GROUP ? KV_GROUP : BEAT;
localparam integer BPG = KV_GROUP > BEAT ? KV_GROUP / BEAT : 1;
localparam integer GQA = N_HEADS / N_KV_HEADS;
localparam integer MW = BEAT * KB;
localparam integer EW = NGB * 5;
// port and counter widths
localparam integer LW = LAYERS > 1 ? $clog2(LAYERS) : 1;
localparam integer HW = N_KV_HEADS > 1 ? $clog2(N_KV_HEADS) : 1;
localparam integer PW = SEQ_LEN > 1 ? $clog2(SEQ_LEN) : 1;
localparam integer QHW = $clog2(N_HEADS + 1);
localparam integer HSW = HEAD_SIZE > 1 ? $clog2(HEAD_SIZE) : 1;
localparam integer NBW = NB > 1 ? $clog2(NB) : 1;
localparam integer BGW = BPG > 1 ? $clog2(BPG) : 1;
localparam integer GQW = GQA > 1 ? $clog2(GQA) : 1;
localparam integer QN = N_HEADS * HEAD_SIZE;
// query quantizer beat: QV elements (lg_attn_qv(): min(HEAD_SIZE, 8), or
// narrower with --vec-lanes below 8), NQC beats per head
localparam integer QV = ${QV};
localparam integer NQC = (HEAD_SIZE + QV - 1) / QV;
localparam integer QVW = QV > 1 ? $clog2(QV) : 1;
localparam integer QIW = NQC > 1 ? $clog2(NQC) : 1;
// reciprocal dividers: two (alternate heads) when one would pace the heads
// (18 cycles per head against HEAD_SIZE outputs)
localparam integer NDIV = HEAD_SIZE < 18 ? 2 : 1;
localparam integer QCW = $clog2(QN + 1);
// score pipe: q*k product, group slice sum, group sum, times SCORE_C (22-bit
// signed constant), left-shifted (36 - sq - ek >= 36 - 17 - 31 = -12)
localparam integer PROD_W = 16 + KB;
// (one spare bit each, so that sign extensions are never empty)
localparam integer SS_W = PROD_W + $clog2(GL) + 1;
localparam integer PS_W = PROD_W + $clog2(KV_GROUP) + 1;
localparam integer C_W = 22;
localparam integer PC_W = PS_W + C_W;
localparam integer SL_W = PC_W + 12;
// value pipe: p * vm (17-bit unsigned x KB signed), shifted term (|term| <=
// 2^40 since |vm| 2^ev < 2^32 and p <= 2^16), o (<= SEQ_LEN terms), l
localparam integer VP_W = KB + 18;
localparam integer T_W = 42;
localparam integer XV_W = T_W + 8;
localparam integer O_W = 43 + $clog2(SEQ_LEN);   // one spare bit
localparam integer L_W = 18 + $clog2(SEQ_LEN);   // one spare bit
localparam integer DW = $clog2(O_W + 1);
// reciprocal: pl width; output pipe: clamped o >> (pl - 15), product
localparam integer PLW = 6;   // the reciprocal's pl port
localparam integer TQ_W = 41;
localparam integer OP_W = TQ_W + 18;

localparam [31:0] NB_M1 = NB - 1;
localparam [31:0] BPG_M1 = BPG - 1;
localparam [31:0] GQA_M1 = GQA - 1;
localparam [31:0] HS_M1 = HEAD_SIZE - 1;
localparam [31:0] NH32 = N_HEADS;
localparam [31:0] QN32 = QN;
localparam [31:0] OW32 = O_W;
localparam [NBW-1:0] BEAT_LAST = NB_M1[NBW-1:0];
localparam [BGW-1:0] GSUB_LAST = BPG_M1[BGW-1:0];
localparam [GQW-1:0] GQ_LAST = GQA_M1[GQW-1:0];
localparam [HSW-1:0] ELEM_LAST = HS_M1[HSW-1:0];
localparam [31:0] QV_M1 = QV - 1;
localparam [QVW-1:0] QV_LAST = QV_M1[QVW-1:0];
localparam [QHW-1:0] HEADS = NH32[QHW-1:0];
localparam [QHW-1:0] HEAD_LAST = HEADS - 1'b1;
localparam [QCW-1:0] QTOTAL = QN32[QCW-1:0];
localparam [DW-1:0] D_MAX = OW32[DW-1:0];
localparam [31:0] ONE32 = 1;
localparam [NBW-1:0] NB_ONE = ONE32[NBW-1:0];
localparam signed [C_W-1:0] SC = SCORE_C;

// bad parameter combinations are rejected at elaboration
initial begin
    if (HEAD_SIZE < 2 || N_HEADS < 1 || N_KV_HEADS < 1 || N_HEADS % N_KV_HEADS != 0) begin
        $error("Error: need HEAD_SIZE >= 2 and N_KV_HEADS dividing N_HEADS (instance %m)");
        $finish;
    end
    if (KV_BITS < 4 || KV_BITS > 16 || KV_GROUP < 1 || HEAD_SIZE % KV_GROUP != 0) begin
        $error("Error: KV_BITS must be 4..16 and KV_GROUP divide HEAD_SIZE (instance %m)");
        $finish;
    end
    if (LANES < 1 || LANES > 64 || (LANES & (LANES - 1)) != 0) begin
        $error("Error: LANES must be a power of two in 1..64 (instance %m)");
        $finish;
    end
    if (SCORE_C < 1 || SCORE_C >= (1 << 21) || SEQ_LEN < 1 || SEQ_LEN > (1 << 20)) begin
        $error("Error: need 0 < SCORE_C < 2^21 and SEQ_LEN in 1..2^20 (instance %m)");
        $finish;
    end
    if (HEAD_SIZE % BEAT != 0 || (KV_GROUP % BEAT != 0 && BEAT % KV_GROUP != 0)) begin
        $error("Error: no valid beat width (instance %m)");
        $finish;
    end
end

// Symmetric int32 saturation (sat32) of a W-bit signed value v, W > 32, is
// written out where it is used: v > 2^31 - 1 when v >= 0 and any of bits
// W-2..31 is set; v < -(2^31 - 1) when v < 0 and bits W-2..31 are not all
// set, or they are and bits 30..0 are zero (v = -2^31).

// ---- control ------------------------------------------------------------------------

reg           run;
reg [LW-1:0]  layer_r;
reg [PW-1:0]  pos_r;
wire          start_ok = {{(32 - LW){1'b0}}, start_layer} < LAYERS && start_pos < SEQ_LEN;
wire          go = start && !run && start_ok;
wire          out_fire;

assign busy = run;

always @(posedge clk) begin
    if (go) begin
        layer_r <= start_layer;
        pos_r <= start_pos[PW-1:0];
    end
end

always @(posedge clk) begin
    if (go)
        run <= 1'b1;
    else if (out_fire && m_out_last)
        run <= 1'b0;
    if (rst)
        run <= 1'b0;
end

always @(posedge clk) begin
    done <= (out_fire && m_out_last) || (start && !run && !start_ok);
    if (start && !run && !start_ok)
        err <= 1'b1;
    if (rst) begin
        done <= 1'b0;
        err <= 1'b0;
    end
end

// ---- query: quantizer per head into a two-bank buffer ------------------------------
//
// The query elements (one per cycle) are packed into beats of QV, the
// quantizer takes a head as NQC beats and writes its mantissas to the bank
// a beat at a time, so a head's query is ready HEAD_SIZE + NQC + 5 cycles
// after its first element and the quantizer takes the next head's first
// beat the cycle after the last beat left: at one element per cycle the
// query path no longer paces the heads at position 0.

reg  [QCW-1:0] q_cnt;
wire           q_more = q_cnt != QTOTAL;
wire           aq_x_ready;
reg  [QV*32-1:0] qp_data;   // packer: lanes of the beat being filled
reg  [QVW-1:0]   qp_lane;
reg  [HSW-1:0]   qp_elem;   // element of the head
reg              qp_full;   // a complete beat waits for the quantizer
wire             qp_in_ready = !qp_full || aq_x_ready;
wire             q_fire = run && q_more && s_q_valid && qp_in_ready;
assign s_q_ready = run && q_more && qp_in_ready;

always @(posedge clk) begin
    if (go)
        q_cnt <= {QCW{1'b0}};
    else if (q_fire)
        q_cnt <= q_cnt + 1'b1;
end

always @(posedge clk) begin
    if (qp_full && aq_x_ready)
        qp_full <= 1'b0;
    if (q_fire) begin
        qp_data[32*qp_lane +: 32] <= s_q_data;
        qp_elem <= qp_elem == ELEM_LAST ? {HSW{1'b0}} : qp_elem + 1'b1;
        if (qp_lane == QV_LAST || qp_elem == ELEM_LAST) begin
            qp_lane <= {QVW{1'b0}};
            qp_full <= 1'b1;
        end else begin
            qp_lane <= qp_lane + 1'b1;
        end
    end
    if (go || rst) begin
        qp_full <= 1'b0;
        qp_lane <= {QVW{1'b0}};
        qp_elem <= {HSW{1'b0}};
    end
end

wire           aq_valid;
wire           aq_ready;
wire [QV*16-1:0] aq_data;
wire [4:0]     aq_shift;
wire           aq_last;

${ACTQ_MODULE} #(
    .COLS(HEAD_SIZE),
    .VL(QV)
) u_qactq (
    .clk(clk),
    .rst(rst),
    .s_x_valid(qp_full),
    .s_x_ready(aq_x_ready),
    .s_x_sel(1'b0),
    .s_x_data(qp_data),
    .m_a_valid(aq_valid),
    .m_a_ready(aq_ready),
    .m_a_data(aq_data),
    .m_a_shift(aq_shift),
    .m_a_last(aq_last)
);

// Bank b holds the query of heads b, b+2, ...: qfull[b] from its last
// mantissa until the head's last K beat has been multiplied, qreq[b] once
// its K/V requests are out. Bank h % 2 = head counter bit 0.
reg [1:0]                  qfull;
reg [1:0]                  qreq;
reg                        qb_w;
reg [QIW-1:0]              qb_i;   // beat of the head being written
reg [2*HEAD_SIZE*16-1:0]   qm;
reg [9:0]                  qsq;

assign aq_ready = !qfull[qb_w];
wire aq_fire = aq_valid && aq_ready;

// beat qb_i of bank qb_w: one enable per element (no wide shifters)
genvar qbk, qch, qln;
generate
    for (qbk = 0; qbk < 2; qbk = qbk + 1) begin : g_qbank
        for (qch = 0; qch < NQC; qch = qch + 1) begin : g_qch
            for (qln = 0; qln < QV; qln = qln + 1) begin : g_qln
                if (qch * QV + qln < HEAD_SIZE) begin : g_el
                    always @(posedge clk)
                        if (aq_fire && qb_w == qbk && qb_i == qch)
                            qm[(qbk * HEAD_SIZE + qch * QV + qln) * 16 +: 16] <= aq_data[qln*16 +: 16];
                end
            end
        end
    end
endgenerate

always @(posedge clk) begin
    if (aq_fire && aq_last) begin
        if (qb_w)
            qsq[9:5] <= aq_shift;
        else
            qsq[4:0] <= aq_shift;
    end
end

always @(posedge clk) begin
    if (aq_fire) begin
        qb_i <= aq_last ? {QIW{1'b0}} : qb_i + 1'b1;
        if (aq_last)
            qb_w <= !qb_w;
    end
    if (go || rst) begin
        qb_i <= {QIW{1'b0}};
        qb_w <= 1'b0;
    end
end

// ---- K/V read requests, one per head in head order ---------------------------------

reg [QHW-1:0] hreq_k;
reg [QHW-1:0] hreq_v;
reg [HW-1:0]  kvh_k;
reg [HW-1:0]  kvh_v;
reg [GQW-1:0] gq_k;
reg [GQW-1:0] gq_v;

wire kb = hreq_k[0];
assign m_kreq_valid = run && hreq_k != HEADS && qfull[kb] && !qreq[kb];
assign m_kreq_layer = layer_r;
assign m_kreq_head = kvh_k;
assign m_kreq_first = {PW{1'b0}};
assign m_kreq_last = pos_r;
wire kreq_fire = m_kreq_valid && m_kreq_ready;

// the V request of a head goes out after its K request
assign m_vreq_valid = run && hreq_v != hreq_k;
assign m_vreq_layer = layer_r;
assign m_vreq_head = kvh_v;
assign m_vreq_first = {PW{1'b0}};
assign m_vreq_last = pos_r;
wire vreq_fire = m_vreq_valid && m_vreq_ready;

always @(posedge clk) begin
    if (kreq_fire) begin
        hreq_k <= hreq_k + 1'b1;
        gq_k <= gq_k == GQ_LAST ? {GQW{1'b0}} : gq_k + 1'b1;
        if (gq_k == GQ_LAST)
            kvh_k <= kvh_k + 1'b1;
    end
    if (vreq_fire) begin
        hreq_v <= hreq_v + 1'b1;
        gq_v <= gq_v == GQ_LAST ? {GQW{1'b0}} : gq_v + 1'b1;
        if (gq_v == GQ_LAST)
            kvh_v <= kvh_v + 1'b1;
    end
    if (go) begin
        hreq_k <= {QHW{1'b0}};
        hreq_v <= {QHW{1'b0}};
        kvh_k <= {HW{1'b0}};
        kvh_v <= {HW{1'b0}};
        gq_k <= {GQW{1'b0}};
        gq_v <= {GQW{1'b0}};
    end
end

// ---- score pipe, stage 0: K beat in, query slice out of the bank -------------------
//
// Every stage of the row pipe (score pipe, max, exp2, value pipe) moves on
// adv. adv is low only when the value pipe needs a V beat that is not there,
// or when a finished head waits for the back end. A cycle without a K beat
// moves a bubble.

wire adv;

reg [QHW-1:0] fe_head;
reg [PW-1:0]  fe_row;
reg [NBW-1:0] fe_beat;
reg [BGW-1:0] fe_gsub;

wire fe_more = run && fe_head != hreq_k;
assign s_k_ready = adv && fe_more;
wire k_fire = s_k_valid && s_k_ready;
wire fb = fe_head[0];
wire fe_rlast = fe_beat == BEAT_LAST;
wire fe_hlast = fe_rlast && fe_row == pos_r;

always @(posedge clk) begin
    if (k_fire) begin
        fe_beat <= fe_rlast ? {NBW{1'b0}} : fe_beat + 1'b1;
        fe_gsub <= fe_gsub == GSUB_LAST ? {BGW{1'b0}} : fe_gsub + 1'b1;
        if (fe_rlast)
            fe_row <= fe_hlast ? {PW{1'b0}} : fe_row + 1'b1;
        if (fe_hlast)
            fe_head <= fe_head + 1'b1;
    end
    if (go) begin
        fe_head <= {QHW{1'b0}};
        fe_row <= {PW{1'b0}};
        fe_beat <= {NBW{1'b0}};
        fe_gsub <= {BGW{1'b0}};
    end
end

// bank states (set and clear never meet on one bank: the writer only fills
// an empty bank, the requester only flags a full one, the K side only
// empties a requested one)
always @(posedge clk) begin
    if (aq_fire && aq_last)
        qfull[qb_w] <= 1'b1;
    if (kreq_fire)
        qreq[kb] <= 1'b1;
    if (k_fire && fe_hlast) begin
        qfull[fb] <= 1'b0;
        qreq[fb] <= 1'b0;
    end
    if (rst) begin
        qfull <= 2'b00;
        qreq <= 2'b00;
    end
end

// beat fe_beat of bank fb
wire [31:0]        qr_idx = (fb ? NB : 0) + {{(32 - NBW){1'b0}}, fe_beat};
wire [BEAT*16-1:0] q_beat = qm[qr_idx * BEAT * 16 +: BEAT * 16];
wire [4:0]         q_sq = qsq[fb * 5 +: 5];

// ---- score pipe, stage 1: BEAT products q * k ---------------------------------------

reg                  f1_v;
reg [BEAT*PROD_W-1:0] f1_prod;
reg [EW-1:0]         f1_ek;
reg [4:0]            f1_sq;
reg                  f1_rfirst;  // first beat of a row
reg                  f1_rlast;   // last beat of a row
reg                  f1_hlast;   // last beat of a head
reg                  f1_first;   // a beat of the head's row 0
reg                  f1_gfirst;  // first beat of a group
reg                  f1_glast;   // last beat of a group

wire [BEAT*PROD_W-1:0] prod_now;

genvar j;
generate
    for (j = 0; j < BEAT; j = j + 1) begin : g_qk
        wire signed [15:0]     qa = q_beat[j*16 +: 16];
        wire signed [KB-1:0]   ka = s_k_mant[j*KB +: KB];
        wire signed [PROD_W-1:0] pr = qa * ka;
        assign prod_now[j*PROD_W +: PROD_W] = pr;
    end
endgenerate

always @(posedge clk) begin
    if (adv) begin
        f1_v <= k_fire;
        f1_prod <= prod_now;
        f1_ek <= s_k_exp;
        f1_sq <= q_sq;
        f1_rfirst <= fe_beat == {NBW{1'b0}};
        f1_rlast <= fe_rlast;
        f1_hlast <= fe_hlast;
        f1_first <= fe_row == {PW{1'b0}};
        f1_gfirst <= fe_gsub == {BGW{1'b0}};
        f1_glast <= fe_gsub == GSUB_LAST;
    end
    if (rst)
        f1_v <= 1'b0;
end

// ---- score pipe, stage 2: sum over each group slice of the beat ---------------------

reg                  f2_v;
reg [NGB*SS_W-1:0]   f2_ss;
reg [EW-1:0]         f2_ek;
reg [4:0]            f2_sq;
reg                  f2_rfirst, f2_rlast, f2_hlast, f2_first, f2_gfirst, f2_glast;

wire [NGB*SS_W-1:0]  ss_now;

genvar s;
generate
    for (s = 0; s < NGB; s = s + 1) begin : g_slice
        reg signed [SS_W-1:0]   acc;
        reg signed [PROD_W-1:0] term;
        integer n;
        always @* begin
            acc = {SS_W{1'b0}};
            for (n = 0; n < GL; n = n + 1) begin
                term = f1_prod[(s * GL + n) * PROD_W +: PROD_W];
                acc = acc + {{(SS_W - PROD_W){term[PROD_W-1]}}, term};
            end
        end
        assign ss_now[s*SS_W +: SS_W] = acc;
    end
endgenerate

always @(posedge clk) begin
    if (adv) begin
        f2_v <= f1_v;
        f2_ss <= ss_now;
        f2_ek <= f1_ek;
        f2_sq <= f1_sq;
        f2_rfirst <= f1_rfirst;
        f2_rlast <= f1_rlast;
        f2_hlast <= f1_hlast;
        f2_first <= f1_first;
        f2_gfirst <= f1_gfirst;
        f2_glast <= f1_glast;
    end
    if (rst)
        f2_v <= 1'b0;
end

// ---- score pipe, stage 3: group sums (across beats when KV_GROUP > BEAT) ------------

reg                  f3_v;
reg [NGB*PS_W-1:0]   f3_ps;
reg [EW-1:0]         f3_ek;
reg [4:0]            f3_sq;
reg                  f3_tv;      // the beat completes its group(s): terms are valid
reg                  f3_rfirst, f3_rlast, f3_hlast, f3_first;

wire [NGB*PS_W-1:0]  ps_now;
reg signed [PS_W-1:0] pacc;      // partial group sum (BPG > 1)

generate
    if (BPG > 1) begin : g_gacc
        // NGB = 1: one group spans BPG beats
        wire signed [SS_W-1:0] ss0 = f2_ss[SS_W-1:0];
        wire signed [PS_W-1:0] ss0x = {{(PS_W - SS_W){ss0[SS_W-1]}}, ss0};
        assign ps_now = f2_gfirst ? ss0x : pacc + ss0x;
    end else begin : g_gnoacc
        // a slice is a whole group (SS_W = PS_W); no partial sums
        assign ps_now = f2_ss;
        wire unused_acc = &{1'b0, f2_gfirst, pacc};
    end
endgenerate

always @(posedge clk) begin
    if (adv && f2_v)
        pacc <= ps_now[PS_W-1:0];
end

always @(posedge clk) begin
    if (adv) begin
        f3_v <= f2_v;
        f3_ps <= ps_now;
        f3_ek <= f2_ek;
        f3_sq <= f2_sq;
        f3_tv <= f2_glast;
        f3_rfirst <= f2_rfirst;
        f3_rlast <= f2_rlast;
        f3_hlast <= f2_hlast;
        f3_first <= f2_first;
    end
    if (rst)
        f3_v <= 1'b0;
end

// ---- score pipe, stage 4: times the score constant ---------------------------------

reg                  f4_v;
reg [NGB*PC_W-1:0]   f4_pc;
reg [EW-1:0]         f4_ek;
reg [4:0]            f4_sq;
reg                  f4_tv, f4_rfirst, f4_rlast, f4_hlast, f4_first;

wire [NGB*PC_W-1:0]  pc_now;

generate
    for (s = 0; s < NGB; s = s + 1) begin : g_mulc
        wire signed [PS_W-1:0] ps = f3_ps[s*PS_W +: PS_W];
        wire signed [PC_W-1:0] pc = ps * SC;
        assign pc_now[s*PC_W +: PC_W] = pc;
    end
endgenerate

always @(posedge clk) begin
    if (adv) begin
        f4_v <= f3_v;
        f4_pc <= pc_now;
        f4_ek <= f3_ek;
        f4_sq <= f3_sq;
        f4_tv <= f3_tv;
        f4_rfirst <= f3_rfirst;
        f4_rlast <= f3_rlast;
        f4_hlast <= f3_hlast;
        f4_first <= f3_first;
    end
    if (rst)
        f4_v <= 1'b0;
end

// ---- score pipe, stage 5: sat32(round_shift(psum * C, 36 - sq - ek)) per group -------

reg                  f5_v;
reg [NGB*32-1:0]     f5_term;
reg                  f5_tv, f5_rfirst, f5_rlast, f5_hlast, f5_first;

wire [NGB*32-1:0]    term_now;

generate
    for (s = 0; s < NGB; s = s + 1) begin : g_term
        wire signed [PC_W-1:0] pc = f4_pc[s*PC_W +: PC_W];
        // sh = 36 - sq - ek in [-12, 36] (two's complement in 8 bits)
        wire [7:0]             sh = 8'd36 - {3'd0, f4_sq} - {3'd0, f4_ek[s*5 +: 5]};
        wire                   sh_pos = !sh[7] && sh != 8'd0;
        // right: floor(v / 2^sh) + bit sh-1 = (t >>> 1) + t[0], t = v >>> (sh - 1)
        wire [7:0]             rsh = sh - 8'd1;
        wire signed [PC_W-1:0] rt = pc >>> rsh[5:0];
        wire signed [PC_W-1:0] rth = rt >>> 1;
        wire signed [PC_W-1:0] rr = rth + {{(PC_W - 1){1'b0}}, rt[0]};
        // left (sh <= 0): exact in SL_W bits, saturated below
        wire [7:0]             lsh = 8'd0 - sh;
        wire signed [SL_W-1:0] pcx = {{12{pc[PC_W-1]}}, pc};
        wire signed [SL_W-1:0] ll = pcx <<< lsh[3:0];
        wire [SL_W-1:0]        v = sh_pos ? {{12{rr[PC_W-1]}}, rr} : ll;
        wire                   v_hi = !v[SL_W-1] && |v[SL_W-2:31];
        wire                   v_lo = v[SL_W-1] && (!(&v[SL_W-2:31]) || v[30:0] == 31'd0);
        wire [31:0]            t = v_hi ? 32'h7fffffff : v_lo ? 32'h80000001 : v[31:0];
        assign term_now[s*32 +: 32] = t;
        wire unused_sh = &{1'b0, rsh[7:6], lsh[7:4]};
    end
endgenerate

always @(posedge clk) begin
    if (adv) begin
        f5_v <= f4_v;
        f5_term <= term_now;
        f5_tv <= f4_tv;
        f5_rfirst <= f4_rfirst;
        f5_rlast <= f4_rlast;
        f5_hlast <= f4_hlast;
        f5_first <= f4_first;
    end
    if (rst)
        f5_v <= 1'b0;
end

// ---- score pipe, stage 6: z = sat32(z + term) over the groups of a row -------------

reg                  f6_tok;     // a row's score is complete
reg signed [31:0]    f6_z;
reg                  f6_hlast, f6_first;
reg signed [31:0]    zacc;       // running score of the current row

reg signed [31:0]    z_now;
reg signed [32:0]    z_sum;
integer g;
always @* begin
    g = 0;
    z_sum = 33'sd0;
    z_now = f5_rfirst ? 32'sd0 : zacc;
    if (f5_tv) begin
        for (g = 0; g < NGB; g = g + 1) begin
            z_sum = {z_now[31], z_now} + {f5_term[g*32 + 31], f5_term[g*32 +: 32]};
            if (!z_sum[32] && z_sum[31])
                z_now = 32'sh7fffffff;
            else if (z_sum[32] && (!z_sum[31] || z_sum[30:0] == 31'd0))
                z_now = 32'sh80000001;
            else
                z_now = z_sum[31:0];
        end
    end
end

always @(posedge clk) begin
    if (adv && f5_v)
        zacc <= z_now;
end

always @(posedge clk) begin
    if (adv) begin
        f6_tok <= f5_v && f5_rlast;
        f6_z <= z_now;
        f6_hlast <= f5_hlast;
        f6_first <= f5_first;
    end
    if (rst)
        f6_tok <= 1'b0;
end

// ---- online softmax: integer running max, exp2 argument, rescale -------------------

// M / 2^16 (M = ceil(z) of the row that set it: -32767 .. 32768)
reg signed [16:0]   mi;
// ceil(z / 2^16) = floor((z + 65535) / 2^16)
wire signed [32:0]  zsum = {f6_z[31], f6_z} + 33'sd65535;
wire signed [16:0]  zci = zsum[32:16];
wire signed [33:0]  z34 = {{2{f6_z[31]}}, f6_z};
wire signed [33:0]  m34 = {mi[16], mi, 16'd0};
wire                upd = f6_first || z34 > m34;
wire signed [16:0]  mn = upd ? zci : mi;
wire signed [33:0]  x_now = z34 - {mn[16], mn, 16'd0};
wire signed [17:0]  dfull = {zci[16], zci} - {mi[16], mi};
// rescale shift: 0 when the max stays; clamped (any d >= O_W gives 0)
wire [DW-1:0]       d_now = (f6_first || !upd) ? {DW{1'b0}} :
                            (dfull > $signed({{(18 - DW){1'b0}}, D_MAX})) ? D_MAX : dfull[DW-1:0];

reg                 s0_v;
reg signed [33:0]   s0_x;
reg [DW-1:0]        s0_d;
reg                 s0_first, s0_hlast;

always @(posedge clk) begin
    if (adv && f6_tok)
        mi <= mn;
end

always @(posedge clk) begin
    if (adv) begin
        s0_v <= f6_tok;
        s0_x <= x_now;
        s0_d <= d_now;
        s0_first <= f6_first;
        s0_hlast <= f6_hlast;
    end
    if (rst)
        s0_v <= 1'b0;
end

// p = exp2(z - M): 3 cycles, moving on adv; the row's flags ride alongside
wire        e_v;
wire [16:0] e_y;

${EXP2_MODULE} #(
    .X_W(34),
    .LUT_FILE(EXP2_FILE)
) u_exp2 (
    .clk(clk),
    .rst(rst),
    .ce(adv),
    .s_valid(s0_v),
    .s_x(s0_x),
    .m_valid(e_v),
    .m_y(e_y)
);

reg [3*DW-1:0] ed_d;
reg [2:0]      ed_first;
reg [2:0]      ed_hlast;

always @(posedge clk) begin
    if (adv) begin
        ed_d <= {ed_d[2*DW-1:0], s0_d};
        ed_first <= {ed_first[1:0], s0_first};
        ed_hlast <= {ed_hlast[1:0], s0_hlast};
    end
end

wire [DW-1:0] e_d = ed_d[3*DW-1:2*DW];
wire          e_first = ed_first[2];
wire          e_hlast = ed_hlast[2];

// ---- value pipe, stage 0: a row's p meets its NB V beats ----------------------------
//
// Rows leave the score pipe at most one per NB cycles (a row is NB K beats
// and every stage moves in lockstep), so one row's V beats are taken in the
// NB advancing cycles from its p on, before the next p can arrive.

reg           vs_act;    // beats 1..NB-1 of the current row still to take
reg [NBW-1:0] vs_beat;
reg [16:0]    vs_p;
reg [DW-1:0]  vs_d;
reg           vs_first, vs_hlast;

wire           needs_v = e_v || vs_act;
wire [NBW-1:0] cur_beat = e_v ? {NBW{1'b0}} : vs_beat;
wire [16:0]    cur_p = e_v ? e_y : vs_p;
wire [DW-1:0]  cur_d = e_v ? e_d : vs_d;
wire           cur_first = e_v ? e_first : vs_first;
wire           cur_hlast = e_v ? e_hlast : vs_hlast;

// the back end
reg  hdone;       // a finished head waits in o / l for the hand-off
reg  [1:0] bk_busy; // reciprocal slot s holds a head
reg  hs_in;       // slot of the next hand-off (heads alternate when NDIV = 2)
wire handoff = hdone && !bk_busy[hs_in];

assign adv = !(needs_v && !s_v_valid) && !(hdone && bk_busy[hs_in]);
assign s_v_ready = adv && needs_v;

always @(posedge clk) begin
    if (adv && needs_v) begin
        if (e_v) begin
            vs_p <= e_y;
            vs_d <= e_d;
            vs_first <= e_first;
            vs_hlast <= e_hlast;
            vs_beat <= NB_ONE;
        end else begin
            vs_beat <= vs_beat + 1'b1;
        end
    end
end

always @(posedge clk) begin
    if (adv && needs_v)
        vs_act <= e_v ? (NB > 1) : vs_beat != BEAT_LAST;
    if (rst)
        vs_act <= 1'b0;
end

reg           v0_v;
reg [16:0]    v0_p;
reg [MW-1:0]  v0_vm;
reg [EW-1:0]  v0_ev;
reg [NBW-1:0] v0_beat;
reg [DW-1:0]  v0_d;
reg           v0_first, v0_b0, v0_hl;

always @(posedge clk) begin
    if (adv) begin
        v0_v <= needs_v;
        v0_p <= cur_p;
        v0_vm <= s_v_mant;
        v0_ev <= s_v_exp;
        v0_beat <= cur_beat;
        v0_d <= cur_d;
        v0_first <= cur_first;
        v0_b0 <= e_v;
        v0_hl <= cur_hlast && cur_beat == BEAT_LAST;
    end
    if (rst)
        v0_v <= 1'b0;
end

// ---- value pipe, stage 1: BEAT products p * vm ---------------------------------------

reg                  v1_v;
reg [BEAT*VP_W-1:0]  v1_prod;
reg [16:0]           v1_p;
reg [EW-1:0]         v1_ev;
reg [NBW-1:0]        v1_beat;
reg [DW-1:0]         v1_d;
reg                  v1_first, v1_b0, v1_hl;

wire [BEAT*VP_W-1:0] vprod_now;

generate
    for (j = 0; j < BEAT; j = j + 1) begin : g_pv
        wire signed [17:0]     pa = {1'b0, v0_p};
        wire signed [KB-1:0]   va = v0_vm[j*KB +: KB];
        wire signed [VP_W-1:0] pr = pa * va;
        assign vprod_now[j*VP_W +: VP_W] = pr;
    end
endgenerate

always @(posedge clk) begin
    if (adv) begin
        v1_v <= v0_v;
        v1_prod <= vprod_now;
        v1_p <= v0_p;
        v1_ev <= v0_ev;
        v1_beat <= v0_beat;
        v1_d <= v0_d;
        v1_first <= v0_first;
        v1_b0 <= v0_b0;
        v1_hl <= v0_hl;
    end
    if (rst)
        v1_v <= 1'b0;
end

// ---- value pipe, stage 2: round_shift(p * vm, 8 - ev) -------------------------------

reg                  v2_v;
reg [BEAT*T_W-1:0]   v2_term;
reg [16:0]           v2_p;
reg [NBW-1:0]        v2_beat;
reg [DW-1:0]         v2_d;
reg                  v2_first, v2_b0, v2_hl;

wire [BEAT*T_W-1:0]  vterm_now;

genvar n;
generate
    for (s = 0; s < NGB; s = s + 1) begin : g_vslice
        // exponent of group slice s
        wire [4:0]             ev = v1_ev[s*5 +: 5];
        for (n = 0; n < GL; n = n + 1) begin : g_vterm
            localparam integer J = s * GL + n;
            // round_shift(pr, 8 - ev) = round_shift(pr << ev, 8) for every ev
            // >= 0 (same floor, same rounding bit): one left shifter and a
            // fixed rounding. |term| <= 2^40 under the cache's exponent bound,
            // so pr << ev fits XV_W = T_W + 8 bits.
            wire signed [VP_W-1:0] pr = v1_prod[J*VP_W +: VP_W];
            wire [XV_W-1:0]        px = {{(XV_W - VP_W){pr[VP_W-1]}}, pr};
            wire [XV_W-1:0]        xs = px << ev;
            assign vterm_now[J*T_W +: T_W] = xs[XV_W-1:8] + {{(T_W - 1){1'b0}}, xs[7]};
            // below the rounding bit
            wire unused_xs = &{1'b0, xs[6:0]};
        end
    end
endgenerate

always @(posedge clk) begin
    if (adv) begin
        v2_v <= v1_v;
        v2_term <= vterm_now;
        v2_p <= v1_p;
        v2_beat <= v1_beat;
        v2_d <= v1_d;
        v2_first <= v1_first;
        v2_b0 <= v1_b0;
        v2_hl <= v1_hl;
    end
    if (rst)
        v2_v <= 1'b0;
end

// ---- value pipe, stage 3: o and l, rescaled by d when the max moved ----------------

reg [HEAD_SIZE*O_W-1:0] o_acc;   // o[i] of the current head
reg [L_W-1:0]           l_acc;   // l of the current head

wire [BEAT*O_W-1:0]     onew;

generate
    for (j = 0; j < BEAT; j = j + 1) begin : g_oacc
        // o[v2_beat * BEAT + j]: an NB-way select, one constant slice per
        // beat. Not o_acc[(v2_beat * BEAT + j) * O_W +: O_W]: that relies on
        // yosys' peepopt shiftmul, which 0.23 misses in the flattened decoder
        // (wreduce leaves the index $mul 32 bits wide), so each j became a
        // barrel shifter over all HEAD_SIZE * O_W bits (15m: 8 of 2448 bits;
        // its synth_ecp5 decoder 285,016 LUT4 with them, 25,507 without)
        reg [O_W-1:0] oc_sel;
        integer k;
        always @* begin
            oc_sel = o_acc[j*O_W +: O_W];
            for (k = 1; k < NB; k = k + 1)
                if ({{(32 - NBW){1'b0}}, v2_beat} == k)
                    oc_sel = o_acc[(k * BEAT + j) * O_W +: O_W];
        end
        wire signed [O_W-1:0] oc = oc_sel;
        wire signed [O_W-1:0] ot = oc >>> (v2_d - 1'b1);
        wire signed [O_W-1:0] oth = ot >>> 1;
        wire signed [O_W-1:0] ors = (v2_d == {DW{1'b0}}) ? oc :
                                    oth + {{(O_W - 1){1'b0}}, ot[0]};
        wire signed [T_W-1:0] tm = v2_term[j*T_W +: T_W];
        wire signed [O_W-1:0] tmx = {{(O_W - T_W){tm[T_W-1]}}, tm};
        assign onew[j*O_W +: O_W] = v2_first ? tmx : ors + tmx;
    end
endgenerate

// the row's beat v2_beat updates o[v2_beat * BEAT .. + BEAT - 1] (one
// enable per slice: no wide shifters)
integer ob, b;
always @(posedge clk) begin
    for (ob = 0; ob < NB; ob = ob + 1)
        if (adv && v2_v && {{(32 - NBW){1'b0}}, v2_beat} == ob)
            for (b = 0; b < BEAT; b = b + 1)
                o_acc[(ob * BEAT + b) * O_W +: O_W] <= onew[b*O_W +: O_W];
end

wire [L_W-1:0] lt = l_acc >> (v2_d - 1'b1);
wire [L_W-1:0] lrs = (v2_d == {DW{1'b0}}) ? l_acc : (lt >> 1) + {{(L_W - 1){1'b0}}, lt[0]};

always @(posedge clk) begin
    if (adv && v2_v && v2_b0)
        l_acc <= v2_first ? {{(L_W - 17){1'b0}}, v2_p} : lrs + {{(L_W - 17){1'b0}}, v2_p};
end

always @(posedge clk) begin
    hdone <= (hdone && !handoff) || (adv && v2_v && v2_hl);
    if (rst)
        hdone <= 1'b0;
end

// ---- back end: hand-off, reciprocal, output -----------------------------------------
//
// Two stages, so that a head's reciprocal runs while the previous head's
// outputs leave: a reciprocal slot (o_hold, a divider) takes a finished
// head at the hand-off; when the divider is done and the output stage is
// free (or issuing its last element) the head moves on (xfer) with its R
// and pl into the output stage (o_out), which issues its HEAD_SIZE outputs.
// With NDIV = 2 slots (HEAD_SIZE < 18) heads alternate between two
// dividers, so a head costs the back end max(9, HEAD_SIZE) cycles instead
// of HEAD_SIZE + 19 (one slot: max(18, HEAD_SIZE)).

localparam integer OH_W = HEAD_SIZE * O_W;
reg [OH_W-1:0]          o_out;
reg [16:0]              r_out;
reg [PLW-1:0]           pl_out;
reg                     bk_out;   // the output stage is issuing a head's outputs
reg [1:0]               rc_pend;  // slot s: divider done, its head waits for the output stage
reg                     hs_out;   // slot of the next transfer
reg [HSW-1:0]           oidx;
reg [QHW-1:0]           bk_head;  // heads issued so far in this call
wire [1:0]              rc_done;
wire [1:0]              rc_busy;
wire [2*17-1:0]         rc_r;
wire [2*PLW-1:0]        rc_pl;
wire [2*OH_W-1:0]       o_hold;

genvar sl;
generate
    for (sl = 0; sl < 2; sl = sl + 1) begin : g_slot
        if (sl < NDIV) begin : g_div
            localparam [0:0] SLB = sl;
            wire go_s = handoff && hs_in == SLB;
            reg [OH_W-1:0] oh_r;
            always @(posedge clk) begin
                if (go_s)
                    oh_r <= o_acc;
            end
            assign o_hold[sl*OH_W +: OH_W] = oh_r;

            ${RECIP_MODULE} #(
                .L_W(L_W)
            ) u_recip (
                .clk(clk),
                .rst(rst),
                .start(go_s),
                .s_l(l_acc),
                .busy(rc_busy[sl]),
                .done(rc_done[sl]),
                .m_r(rc_r[sl*17 +: 17]),
                .m_pl(rc_pl[sl*PLW +: PLW])
            );
        end else begin : g_none
            // an unsized 0, zero-extended: a {OH_W{1'b0}} replication is
            // over Verilator's 8192-bit WIDTHCONCAT limit for wide heads
            assign o_hold[sl*OH_W +: OH_W] = 0;
            assign rc_busy[sl] = 1'b0;
            assign rc_done[sl] = 1'b0;
            assign rc_r[sl*17 +: 17] = 17'd0;
            assign rc_pl[sl*PLW +: PLW] = {PLW{1'b0}};
        end
    end
endgenerate

// output pipe: advances when its output register is free or taken
reg                  out_v;
reg [31:0]           out_data;
reg                  out_last;
wire                 ob_en = !out_v || m_out_ready;
wire                 issue_o = bk_out && ob_en;
wire                 oidx_last = oidx == ELEM_LAST;
wire                 o_free = !bk_out || (issue_o && oidx_last);
wire                 xfer = (rc_done[hs_out] || rc_pend[hs_out]) && o_free;

always @(posedge clk) begin
    if (xfer) begin
        o_out <= o_hold[hs_out*OH_W +: OH_W];
        r_out <= rc_r[hs_out*17 +: 17];
        pl_out <= rc_pl[hs_out*PLW +: PLW];
    end
end

integer si;
always @(posedge clk) begin
    for (si = 0; si < 2; si = si + 1) begin
        if (handoff && hs_in == si[0])
            bk_busy[si] <= 1'b1;
        else if (xfer && hs_out == si[0])
            bk_busy[si] <= 1'b0;
        if (xfer && hs_out == si[0])
            rc_pend[si] <= 1'b0;
        else if (rc_done[si])
            rc_pend[si] <= 1'b1;
    end
    if (handoff)
        hs_in <= NDIV > 1 ? !hs_in : 1'b0;
    if (xfer)
        hs_out <= NDIV > 1 ? !hs_out : 1'b0;
    if (xfer)
        bk_out <= 1'b1;
    else if (issue_o && oidx_last)
        bk_out <= 1'b0;
    if (rst) begin
        bk_busy <= 2'b00;
        rc_pend <= 2'b00;
        hs_in <= 1'b0;
        hs_out <= 1'b0;
        bk_out <= 1'b0;
    end
end

always @(posedge clk) begin
    if (xfer)
        oidx <= {HSW{1'b0}};
    else if (issue_o)
        oidx <= oidx + 1'b1;
    if (issue_o && oidx_last)
        bk_head <= bk_head + 1'b1;
    if (go)
        bk_head <= {QHW{1'b0}};
end

// O0: tq = round_shift(o[i], pl - 15), clamped to 41 bits (any |tq| >= 2^40
// saturates the output anyway since R >= 2^15)
wire signed [O_W-1:0] oh = o_out[oidx * O_W +: O_W];
wire [PLW-1:0]        tsh = pl_out > 15 ? pl_out - 15 : {PLW{1'b0}};
wire signed [O_W-1:0] oht = oh >>> (tsh - 1'b1);
wire signed [O_W-1:0] ohth = oht >>> 1;
wire signed [O_W-1:0] tq = (tsh == {PLW{1'b0}}) ? oh : ohth + {{(O_W - 1){1'b0}}, oht[0]};
localparam signed [O_W-1:0] TQ_MAX = {{(O_W - TQ_W + 1){1'b0}}, {(TQ_W - 1){1'b1}}};
wire signed [O_W-1:0] tqc = tq > TQ_MAX ? TQ_MAX : tq < -TQ_MAX ? -TQ_MAX : tq;

reg                   o0_v;
reg signed [TQ_W-1:0] o0_tq;
reg [16:0]            o0_r;
reg                   o0_last;

always @(posedge clk) begin
    if (ob_en) begin
        o0_v <= issue_o;
        o0_tq <= tqc[TQ_W-1:0];
        o0_r <= r_out;
        o0_last <= oidx_last && bk_head == HEAD_LAST;
    end
    if (rst)
        o0_v <= 1'b0;
end

// O1: tq * R
reg                   o1_v;
reg signed [OP_W-1:0] o1_prod;
reg                   o1_last;
wire signed [17:0]    o0_rs = {1'b0, o0_r};

always @(posedge clk) begin
    if (ob_en) begin
        o1_v <= o0_v;
        o1_prod <= o0_tq * o0_rs;
        o1_last <= o0_last;
    end
    if (rst)
        o1_v <= 1'b0;
end

// O2: sat32(round_shift(., 23)) into the output register
wire signed [OP_W-1:0] o1_t = o1_prod >>> 22;
wire signed [OP_W-1:0] o1_th = o1_t >>> 1;
wire signed [OP_W-1:0] o1_r = o1_th + {{(OP_W - 1){1'b0}}, o1_t[0]};
wire                   o1_hi = !o1_r[OP_W-1] && |o1_r[OP_W-2:31];
wire                   o1_lo = o1_r[OP_W-1] && (!(&o1_r[OP_W-2:31]) || o1_r[30:0] == 31'd0);

always @(posedge clk) begin
    if (ob_en) begin
        out_v <= o1_v;
        out_data <= o1_hi ? 32'h7fffffff : o1_lo ? 32'h80000001 : o1_r[31:0];
        out_last <= o1_last;
    end
    if (rst)
        out_v <= 1'b0;
end

assign m_out_valid = out_v;
assign m_out_data = out_data;
assign m_out_last = out_last;
assign out_fire = out_v && m_out_ready;

// beats are counted, so the streams' last flags are not needed; the
// reciprocal's busy is implied by bk_busy; tqc fits TQ_W bits; the
// ceiling needs only the integer part of z + 65535
wire unused_ok = &{1'b0, s_k_last, s_v_last, rc_busy, tqc[O_W-1:TQ_W], zsum[15:0]};

endmodule

`resetall
