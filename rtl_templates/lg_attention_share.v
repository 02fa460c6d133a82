`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: multi-head attention of one layer at one position, over the K/V
 * rows 0..pos held by lg_kvcache; the lean form (--mul-share 1; template
 * rtl_templates/lg_attention_share.v, the default form is lg_attention.v;
 * C twin lg_ref_attention_head in src/ref_attention.c, once per head).
 *
 * Why: on a small FPGA (iCE40 UP5K: 5,280 LC, 8 DSP) the pipelined form
 * costs too much: per-lane multipliers, per-lane o rescale shifters, o and
 * two reciprocal slots in flip-flops, a wide constant multiply and a wide
 * output multiply. This form does the same arithmetic one element at a time
 * with ONE 16x16 signed multiply a step (two SB_MAC16, see the multiplier
 * below: each has fewer operand sources) and ONE round-shifter:
 * wide products are taken over several cycles in 15-bit limbs into one
 * accumulator, the query and o live in one small RAM of 32-bit words (two
 * block RAMs; o[i] as a low and a high word, read and written in the two
 * steps of a V element), the query quantizer and the reciprocal divider are
 * inline and use the same shifter and registers, and so does exp2: its unit
 * (${EXP2_MODULE}, lg_exp2_share.v) is only the table read (T alone, one
 * block RAM), the interpolation is two multiplier steps and the rounding one
 * shifter step. The shifter's adder also adds the V term to the rescaled o
 * and p to the rescaled l (no separate o or l adder), l doubles as the
 * divisor, R as p's register, the score z as the output register, the
 * wide multiply operand as the addend's register, and the shifter is no
 * wider than o (right shifts; a 13-bit pre-shift window of
 * the accumulator for the left shifts) and shifts by at most 31 (o's high
 * word holds o >>> 30, which gives o's rescale by d >= 31; a score shift s
 * >= 32 is taken from floor(psum * SCORE_C / 2^15)).
 * Heads run strictly one after another (no overlap of query, rows, back end).
 *
 * Numerics (bit-exact with the C twin and the default form), per query head
 * h (K/V head h / (N_HEADS / N_KV_HEADS)):
 *   (qm, sq) = actq(q_h)      (lg_ref_actq, inline: two passes, see below)
 *   row t:  z_t = sum_g sat32(round_shift(psum_g * SCORE_C, 36 - sq - ek_g)),
 *           sat32 after each add, groups in order
 *           t = 0 or z_t > M:  M' = ceil(z_t), d = (M' - M) >> 16 (0 for t = 0)
 *           p = exp2(z_t - M')          (lg_ref_exp2: table read in ${EXP2_MODULE})
 *           l = round_shift(l, d) + p
 *           o[i] = round_shift(o[i], d) + round_shift(p * vm[i], 8 - ev_g(i))
 *   end:    R = floor(2^(pl+16) / l), pl = bitlen(l) - 1  (as lg_recip)
 *           out[i] = sat32(round_shift(round_shift(o[i], pl - 15) * R, 23))
 * Multiplies: q * k in one step; p * vm as vm * p_lo + (vm * p_hi) << 15
 * (p = p_hi 2^15 + p_lo); psum * SCORE_C and tq * R as LA x 2 limb products
 * (15-bit unsigned limbs, the top limb of the wide operand signed), summed
 * modulo 2^ACC_W, exact since the result fits ACC_W bits; the output's
 * last product is added as floor(tq_0 R_0 / 2^15), unshifted, so acc ends
 * at floor(tq * R / 2^15) and out = sat32(round_shift(acc, 8)) (the same:
 * round_shift(x, s) depends on floor(x / 2^(s-1)) only). Every round_shift
 * (score term, p * vm term, o and l rescale, tq, output, query mantissas,
 * exp2) is one shared shifter: round_shift(x, s) = (t >>> 1) + t[0], t =
 * (x << P) >>> (s + P - 1), for any s >= 1 - P (left shifts exact): P = 1
 * (o, query, l, acc), 13 (acc's low bits:
 * the V term, s >= -12, and a score with s < 0, whose acc outside the
 * window saturates); amounts 0 .. 2^AMT_W - 1 (AMT_W = 5 for SEQ_LEN <=
 * 2^12, 6 above, for l's clearing shift): o's rescale by d >= 31 is
 * (hw << 1) >>> (d - 30) of its high word hw = o >>> 30 (= floor(o / 2^30)),
 * the score's with s >= 32 takes acc = floor(psum * SCORE_C / 2^15) (the
 * limb sum's last product added as floor(ma_0 SC_0 / 2^15), as the output
 * does) and shifts it by s - 15, l's by d >= 31 shifts by 2^AMT_W - 1
 * (l = 0 then). A tq outside 41 bits saturates the output directly, as
 * the default form's clamp to +-(2^40 - 1) does (|tq| >= 2^40 saturates the
 * output anyway since R >= 2^15).
 *
 * Latency and throughput: one head after another; the K/V requests of a head
 * go out when its query starts loading. With the query offered every cycle,
 * the cache serving its streams and the output always ready, a head costs
 *   QH + (pos + 1) * RC + BH cycles,
 *   QH = 2 * HEAD_SIZE + 1 (the query's two passes, and the cycle between
 *        them that writes pass 1's last raw value: the raw values reach
 *        the RAM a cycle late, through the pending write wh_*),
 *   RC = 3 * HEAD_SIZE + (HEAD_SIZE / KV_GROUP) * (2 * LA + 2) + 7 per row
 *        (HEAD_SIZE q*k steps, per group the sum's move into the wide
 *        operand, 2 LA limb steps and the term, max, 3 for exp2 (table
 *        read and interpolation, interpolation, rounding), the first V
 *        element's take (and the l update), HEAD_SIZE V elements of two
 *        steps (the term and o update of one overlap the next one's
 *        product), 2 for the last element's term and o update),
 *   BH = L_W + 17 + HEAD_SIZE * (2 * LA + 2) (reciprocal: load, L_W - 1
 *        normalising steps, 17 quotient steps; HEAD_SIZE outputs of 2 LA + 2
 *        steps), L_W = 17 + clog2(SEQ_LEN),
 * LA = ceil((max(PS_W, 41) - 1) / 15) limbs (PS_W = 15 + KV_BITS +
 * clog2(KV_GROUP)), and a call takes
 *   N_HEADS * (QH + (pos + 1) * RC + BH) + 2
 * cycles from the start cycle to the done cycle (lg_attn_cycles(); the 2:
 * the start cycle and the last output's transfer). stories260K at the
 * iCEBreaker shape (head 8, kv_bits 8, kv_group 8, seq 256): LA = 3,
 * QH = 17, RC = 39 cycles per row and head, BH = 106; 1,298 cycles at
 * pos 0, 80,858 at pos 255 (the default form at lanes 4: 4 cycles per row
 * and head, 207 cycles at pos 0, 8,262 at pos 255). A row's score waits
 * while an output is pending (never without output stalls: z and the
 * output share a register).
 *
 * Parameters: HEAD_SIZE, N_HEADS, N_KV_HEADS (divides N_HEADS), LAYERS,
 * KV_BITS (4..16), KV_GROUP (divides HEAD_SIZE), SEQ_LEN, LANES (power of
 * two; only sets the K/V beat), SCORE_C (round(log2(e) / sqrt(HEAD_SIZE) *
 * 2^20), < 2^21), EXP2_FILE (the exp2 unit's table image).
 *
 * Handshake contract (as the default form, except that start_layer and
 * start_pos are not captured):
 *  - start: one-cycle pulse while busy is low; start_layer and start_pos
 *    must be held from it until done (lg_decoder holds them: its layer and
 *    position registers; no copy here). start_pos >= SEQ_LEN or start_layer >= LAYERS sets
 *    err (sticky until rst) and pulses done the next cycle with no output.
 *  - s_q: valid/ready, the N_HEADS * HEAD_SIZE query values (Q16, after
 *    RoPE, head-major), accepted only while busy, a head at a time.
 *  - m_kreq / m_vreq: read requests to lg_kvcache (valid/ready; rows 0..pos
 *    of the head's K/V head), one per query head, in head order.
 *  - s_k / s_v: the row streams of those requests (valid/ready; BEAT
 *    mantissas and the beat's exponent(s) per transfer, the beat held with
 *    ready low while its elements are taken one per step); *_last is not
 *    needed (the unit counts beats). A missing beat stalls the unit.
 *  - m_out: valid/ready, N_HEADS * HEAD_SIZE Q16 values, head-major; last on
 *    the final one. Valid stays high and data stable until ready.
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
    // lanes of the default form: sets the K/V beat width only
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

// Elements per beat, as the default form (lg_attn_beat): the largest power
// of two <= max(1, LANES / 2) that divides HEAD_SIZE and divides or is a
// multiple of KV_GROUP. The cache's beat; taken here one element per step.
localparam integer B_LANES = LANES >= 2 ? LANES / 2 : 1;
localparam integer P2_HS = HEAD_SIZE & (~HEAD_SIZE + 1);
localparam integer P2_G = KV_GROUP & (~KV_GROUP + 1);
localparam integer B_HS = B_LANES < P2_HS ? B_LANES : P2_HS;
localparam integer BEAT = (P2_G == KV_GROUP || B_HS < P2_G) ? B_HS : P2_G;
localparam integer KB = KV_BITS;
// groups per beat (exponents), elements per group slice of a beat
localparam integer NGB = BEAT > KV_GROUP ? BEAT / KV_GROUP : 1;
localparam integer GL = BEAT > KV_GROUP ? KV_GROUP : BEAT;
localparam integer GQA = N_HEADS / N_KV_HEADS;
localparam integer MW = BEAT * KB;
localparam integer EW = NGB * 5;
// port and counter widths
localparam integer LW = LAYERS > 1 ? $clog2(LAYERS) : 1;
localparam integer HW = N_KV_HEADS > 1 ? $clog2(N_KV_HEADS) : 1;
localparam integer PW = SEQ_LEN > 1 ? $clog2(SEQ_LEN) : 1;
localparam integer QHW = $clog2(N_HEADS + 1);
localparam integer HSW = HEAD_SIZE > 1 ? $clog2(HEAD_SIZE) : 1;
localparam integer BJW = BEAT > 1 ? $clog2(BEAT) : 1;
localparam integer GLS = $clog2(GL);
localparam integer GIW = KV_GROUP > 1 ? $clog2(KV_GROUP) : 1;
localparam integer GQW = GQA > 1 ? $clog2(GQA) : 1;
// score: group sum (|q| <= 2^15 - 1, |k| <= 2^(KB-1): |psum| < KV_GROUP *
// 2^(14+KB)), times SCORE_C (< 2^21; counted at its own bit length, 20 at
// head 8, so that the accumulator is no wider than the product needs),
// left-shifted by up to 12 (36 - sq - ek >= 36 - 17 - 31 = -12)
localparam integer PS_W = 15 + KB + $clog2(KV_GROUP);
localparam integer PC_W = PS_W + $clog2(SCORE_C + 1);
// value: shifted term (|term| <= 2^40), o (<= SEQ_LEN terms: |o| <= 2^40 *
// SEQ_LEN), l
localparam integer T_W = 42;
localparam integer O_W = 42 + $clog2(SEQ_LEN);
localparam integer L_W = 17 + $clog2(SEQ_LEN);   // l <= SEQ_LEN * 2^16
// output: tq clamped to 41 bits; the accumulator ends the output product at
// floor(tq * R / 2^15) (|tq| < 2^40, R <= 2^16: 43 bits, one spare)
localparam integer TQ_W = 41;
localparam integer OA_W = TQ_W + 3;
// limb products: the wide operand (psum or tq) in MA_W bits, LA limbs of 15
// bits (the top one signed, <= 16 bits); the other (SCORE_C, R or p, all in
// 0 .. 2^21 - 1) in two limbs
localparam integer MA_W = PS_W > TQ_W ? PS_W : TQ_W;
localparam integer LA = (MA_W - 1 + 14) / 15;
localparam integer MAX_W = 15 * LA + 1;          // ma sign-extended to whole limbs
localparam integer MCW = $clog2(2 * LA);
// the addend register also holds the wide operand (in S_C and S_OM), as
// whole limbs with the top one signed (MAX_W bits: it shifts by a limb a
// position, see ma)
localparam integer TR_W = T_W > MAX_W ? T_W : MAX_W;
localparam integer ACC_W = PC_W > OA_W ? PC_W : OA_W;
// the shared round-shifter: xs = x << P, t = xs >>> (s + P - 1), y = (t >>> 1)
// + t[0] (+ an addend): P = 1 for right shifts (o, query, tq, l's rescale,
// acc: score with s >= 0, exp2, output), P = 13 for the left shifts down to s = -12
// (acc: the V term p * (vm << CV) of TV_W bits, the score with s < 0 in a
// window of W13 >= 32 bits whose overflow saturates). Y_W bits out.
localparam integer TV_W = 33;
localparam integer Y1_0 = O_W > ACC_W ? O_W : ACC_W;
localparam integer Y1_1 = Y1_0 > L_W ? Y1_0 : L_W;
localparam integer Y1 = Y1_1 > 32 ? Y1_1 : 32;
localparam integer Y13 = TV_W + 12 > 44 ? TV_W + 12 : 44;
localparam integer Y_W = Y1 > Y13 ? Y1 : Y13;
localparam integer XS_W = Y_W + 1;
localparam integer W13 = XS_W - 13;
localparam integer AX_W = ACC_W > XS_W ? ACC_W : XS_W;
// V mantissas enter the multiplier pre-shifted left by CV (they stay within
// 13 bits), their term's shift is 8 - ev + CV >= -12 (ev <= 33 - KB)
localparam integer CV = KB < 13 ? 13 - KB : 0;
// shift amounts: at most 31 (o's rescale by d >= 31 is taken from o's high
// word, o >>> 30, by d - 30 <= O_W - 30; a score with s >= 32 from floor(acc
// / 2^15) by s - 15; l's rescale by d >= 31 by LCL, which clears any l)
localparam integer SMAX0 = O_W - 30 > L_W + 2 ? O_W - 30 : L_W + 2;
localparam integer SMAX = SMAX0 > 31 ? SMAX0 : 31;
localparam integer AMT_W = $clog2(SMAX + 1);
localparam integer LCL_I = (1 << AMT_W) - 1;
localparam [31:0] LCL32 = LCL_I;
localparam [8:0] LCL = LCL32[8:0];
localparam integer DW = $clog2(O_W + 1);
localparam integer PLW = 6;

localparam [31:0] HS_M1 = HEAD_SIZE - 1;
localparam [31:0] BEAT_M1 = BEAT - 1;
localparam [31:0] G_M1 = KV_GROUP - 1;
localparam [31:0] GQA_M1 = GQA - 1;
localparam [31:0] NH32 = N_HEADS;
localparam [31:0] OW32 = O_W;
localparam [31:0] MC_LAST32 = 2 * LA - 1;
localparam [HSW-1:0] ELEM_LAST = HS_M1[HSW-1:0];
localparam [BJW-1:0] BJ_LAST = BEAT_M1[BJW-1:0];
localparam [GIW-1:0] GI_LAST = G_M1[GIW-1:0];
localparam [GQW-1:0] GQ_LAST = GQA_M1[GQW-1:0];
localparam [QHW-1:0] HEADS = NH32[QHW-1:0];
localparam [QHW-1:0] HEAD_LAST = HEADS - 1'b1;
localparam [DW-1:0] D_MAX = OW32[DW-1:0];
localparam [DW-1:0] D_30 = 30;
localparam [MCW-1:0] MC_LAST = MC_LAST32[MCW-1:0];
localparam [31:0] CV32 = CV;
localparam [8:0] CV9 = CV32[8:0];
// SCORE_C in two limbs (constants)
localparam [31:0] SC32 = SCORE_C;
localparam [20:0] SC21 = SC32[20:0];

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

// ---- control ------------------------------------------------------------------------

localparam [3:0] S_IDLE = 4'd0;   // no head in work (or the last output waits)
localparam [3:0] S_Q = 4'd1;      // query of the head: the quantizer's two passes
localparam [3:0] S_K = 4'd2;      // q * k, one element per step
localparam [3:0] S_P = 4'd14;     // group sum through the shifter into ma
localparam [3:0] S_C = 4'd3;      // group sum * SCORE_C, limb products
localparam [3:0] S_T = 4'd4;      // score term, z += term
localparam [3:0] S_M = 4'd5;      // running max, exp2 argument
localparam [3:0] S_E = 4'd6;      // exp2 interpolation and rounding; l update
localparam [3:0] S_V = 4'd7;      // V elements: two steps each, pipelined (vs)
localparam [3:0] S_R = 4'd8;      // reciprocal: start (remainder, tsh)
localparam [3:0] S_N = 4'd9;      // reciprocal: normalise the divisor
localparam [3:0] S_D = 4'd13;     // reciprocal: 17 quotient bits
localparam [3:0] S_O0 = 4'd10;    // output: tq
localparam [3:0] S_OM = 4'd11;    // output: tq * R, limb products
localparam [3:0] S_O2 = 4'd12;    // output: rounded, saturated, into the register

reg [3:0]     st;
reg           run;
// the layer and position: held at the ports from start to done (no copy)
wire [LW-1:0] layer_r = start_layer;
wire [PW-1:0] pos_r = start_pos[PW-1:0];
wire          start_ok = {{(32 - LW){1'b0}}, start_layer} < LAYERS && start_pos < SEQ_LEN;
wire          go = start && !run && start_ok;
wire          out_fire;

assign busy = run;

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

// counters: query head, its K/V head, element of the head (every phase walks
// the elements 0..HEAD_SIZE-1 in order), element of the group, row, limb step
reg [QHW-1:0] head;
reg [HW-1:0]  kvh;
reg [GQW-1:0] gq;
reg [HSW-1:0] ei;
reg [GIW-1:0] gi;
reg [PW-1:0]  row;
reg [MCW-1:0] mc;
reg [2:0]     vs;          // V step (VS_*)
reg [HSW-1:0] eo;          // V: element of the o update (ei: of the V take)
reg           vp;          // V: an element's term and o update are pending
reg           vall;        // V: the row's last element has been taken
reg [8:0]     ev_t;        // V: 20 + CV - ev of the element whose term is taken
                           // (one group a row: ev_r, the same, and ev_t is unused)
// V steps, element i: A (acc = v_i p_hi; term of i-1), B (acc = acc << 15 +
// v_i p_lo; o update of i-1; take element i+1), W (wait for a V element),
// D1 / D2 (term / o update of the last element)
localparam [2:0] VS_W = 3'd0;
localparam [2:0] VS_A = 3'd1;
localparam [2:0] VS_B = 3'd2;
localparam [2:0] VS_D1 = 3'd3;
localparam [2:0] VS_D2 = 3'd4;
reg           zf;          // the next score term is the row's first

wire [BJW-1:0] ej = ei[BJW-1:0] & BJ_LAST;   // element of the beat
wire           e_last = ei == ELEM_LAST;
wire [HSW-1:0] ei_inc = e_last ? {HSW{1'b0}} : ei + 1'b1;

// ---- query: the quantizer's two passes, inline -----------------------------------
//
// (qm, sq) = actq(q_h) without a quantizer unit: pass 1 takes the head's
// HEAD_SIZE elements (one a cycle) into the o RAM (free until the head's
// first row) and ORs their magnitudes (bitlen(max |x|) = bitlen(OR |x|));
// pass 2 reads them back one a step through the shared round-shifter
// (round_shift(x, sq)), clamps to +-32767 and writes the query RAM.
reg            q_ph;      // 0: pass 1, 1: pass 2
reg  [31:15]   q_or;      // OR of |x| so far (bits 31..15: all sq needs)
wire           q_fire = s_q_valid && s_q_ready;
assign s_q_ready = run && st == S_Q && !q_ph;
// |x| bits 31..15 (x = -2^31 gives 2^31): ~x + 1 for x < 0, whose carry
// into bit 15 is x[14:0] == 0
wire           q_sg = s_q_data[31];
wire [31:15]   q_abs = (s_q_data[31:15] ^ {17{q_sg}}) +
                       {16'd0, q_sg && s_q_data[14:0] == 15'd0};
// sq = max(0, bitlen(OR) - 15): the highest set bit among bits 31..15
reg  [4:0]     sq_now;
integer        qb;
always @* begin
    sq_now = 5'd0;
    for (qb = 15; qb < 32; qb = qb + 1)
        if (q_or[qb])
            sq_now = qb[4:0] - 5'd14;
end

// 36 - sq: the head's part of the score shift 36 - sq - ek
reg [5:0] sq36_r;
always @(posedge clk) begin
    if (q_fire)
        q_or <= q_or | q_abs;
    if (st != S_Q)
        q_or <= 17'd0;
    if (st == S_Q && q_ph)
        sq36_r <= 6'd36 - {1'b0, sq_now};
end

// RAMs are read at the element counter's next value, so the read data is
// always element ei's (the writes never hit the element being read)
// (pass 1's raw values reach the RAM a cycle late, through the pending
// write wh_*: pass 2 starts once the last one is written, one cycle after
// the last value)
reg            wh_p;      // a write through wh_d is due (see the RAM)
wire           q_step = st == S_Q && q_ph && !wh_p;
wire           k_take = st == S_K && s_k_valid;
wire           v_take;
wire           v_step = st == S_V && ((vs == VS_B && vp) || vs == VS_D2);
wire [HSW-1:0] eo_nxt = !v_step ? eo : eo == ELEM_LAST ? {HSW{1'b0}} : eo + 1'b1;
wire           o_step = st == S_O2 && (!out_v || m_out_ready);
wire           e_adv = q_fire || q_step || k_take || v_take || o_step;
wire [HSW-1:0] ei_nxt = e_adv ? ei_inc : ei;

// ---- K/V read requests, one per head when its query starts ----------------------

reg kreq_p, vreq_p;
assign m_kreq_valid = kreq_p;
assign m_kreq_layer = layer_r;
assign m_kreq_head = kvh;
assign m_kreq_first = {PW{1'b0}};
assign m_kreq_last = pos_r;
assign m_vreq_valid = vreq_p;
assign m_vreq_layer = layer_r;
assign m_vreq_head = kvh;
assign m_vreq_first = {PW{1'b0}};
assign m_vreq_last = pos_r;

// ---- the multiplier and the accumulator ------------------------------------------

// the exp2 table stage's outputs (T[i] - 98304, then T[i+1] - 98304; n + 8 of x; see
// u_exp2); the fraction is z[7:0] (x keeps z's low 16 bits; zo holds z
// until the next row's S_T)
wire [15:0] e_d;
wire [4:0]  e_n;
wire        e_one;
// S_E step: 0 T[i] product, 1 D product, 2 rounding; 3: the row's first
// S_V cycle, which updates l
reg  [1:0]  e_ph;

reg  signed [ACC_W-1:0] acc;
reg  [PLW-1:0]          tsh;       // max(0, pl - 15) (see the reciprocal)
reg  [31:0]             zo;        // the score z of the row; the output data
wire [15:0]             ma_limb;   // the limb of the wide operand (psum or tq)
reg  [16:0]             p_r;       // p of the current row; R in the back end
reg  signed [15:0]      v_r;       // V element
reg  [8:0]              ev_r;      // its term's shifter amount, 20 + CV - ev
// element select of a beat's exponents (one per group slice)
wire [BJW-1:0] eg = ej >> GLS;
wire [4:0] k_ex = s_k_exp[eg*5 +: 5];
wire [4:0] v_ex = s_v_exp[eg*5 +: 5];

// the score shift s = 36 - sq - ek (-12 .. 36) of the group being summed,
// taken with its K elements (flip-flops behind their own logic): s < 0
// (sc_neg) is taken in the P = 13 window, by s + 12; s >= 32 (sc_big): the
// score product ends as floor(psum * SCORE_C / 2^15) (as the output product
// does), shifted by s - 15 (round_shift(x, s) depends on floor(x / 2^(s-1))
// only); else by s. sc_a is that amount (mod 2^7: s - 15 = s + 113).
wire [6:0]              s_new = {1'b0, sq36_r} - {2'd0, k_ex};
reg  [6:0]              sc_a;
reg                     sc_neg, sc_big;

// Limb products by Horner's rule, highest limb position first, so the
// accumulator shifts by 15 instead of each product being placed: step mc of
// 2 LA takes limb ca = LA - (mc + 2) / 2 of ma and limb cb = !mc[0] of the
// narrow operand, after shifting acc left by 15 when mc is odd (position
// LA: (LA-1, 1); then per position t = LA-1 .. 1: (t, 0), (t-1, 1); then
// (0, 0)). Limb ca is always ma's top limb: ma (term_r) shifts left by a
// limb after every odd step (no limb multiplexer; the top limb is signed in
// the first two steps only). The V product p * vm is the same with one limb: (1), (0). The
// output product's last step (0, 0) adds floor(product / 2^15) instead,
// unshifted: acc ends at floor(tq * R / 2^15) (exact: the earlier steps sum
// multiples of 2^15).
wire             cb = !mc[0];
wire             ma_top = mc[MCW-1:1] == {(MCW - 1){1'b0}};
assign ma_limb = {ma_top && term_r[MAX_W-1], term_r[MAX_W-2 -: 15]};
wire [20:0]      nb = st == S_C ? SC21 : {4'd0, p_r};
wire [15:0]      nb_limb = cb ? {10'd0, nb[20:15]} : {1'b0, nb[14:0]};

wire [KB-1:0]    k_el = s_k_mant[ej*KB +: KB];
wire [KB-1:0]    v_el = s_v_mant[ej*KB +: KB];

// Two 16x16 multipliers (two SB_MAC16) whose products are summed (in the
// second one's adder): one for q * k and the exp2 interpolation, one for
// the limb and V products, so that each has two or three operand sources
// instead of one multiplier with five; the other's product is 0 in every
// step (mul_b1 = 0 outside S_K and S_E; ma, term_r, is 0 in S_K and S_E)
reg  signed [15:0]     mul_a1, mul_b1, mul_a2, mul_b2;
reg                    mul_sh;      // acc << 15 before the add (Horner step)
reg                    mul_en, mul_clr;
wire                   o_low = (st == S_OM || (st == S_C && sc_big)) && mc == MC_LAST;
always @* begin
    mul_a1 = e_d;
    mul_b1 = 16'sd0;
    mul_a2 = ma_limb;
    mul_b2 = nb_limb;
    mul_sh = mc[0] && !o_low;
    mul_en = 1'b0;
    mul_clr = mc == {MCW{1'b0}};
    case (st)
        S_K: begin
            mul_a1 = qrd;
            mul_b1 = {{(16 - KB){k_el[KB-1]}}, k_el};
            mul_sh = 1'b0;
            mul_en = k_take;
            mul_clr = gi == {GIW{1'b0}};
        end
        S_C, S_OM: mul_en = 1'b1;
        S_E: begin
            // exp2 interpolation: acc = (T[i] << 8) + 128 + D * fr, D =
            // T[i+1] - T[i], as step 0: acc = 98304 * 256 + 128 + (T[i] -
            // 98304) * (256 - fr) (the clear value carries the constants),
            // step 1: acc += (T[i+1] - 98304) * fr (T[256] = 2^17 is read as
            // T[0] = 2^16: the clear value adds the missing 2^16 fr for i = 255)
            mul_b1 = e_ph == 2'd0 ? {7'd0, e_nfr} : {8'd0, z[7:0]};
            mul_sh = 1'b0;
            mul_en = !e_ph[1];
            mul_clr = e_ph == 2'd0;
        end
        S_V: begin
            mul_a2 = v_r;
            mul_en = vs == VS_A || vs == VS_B;
            mul_clr = vs == VS_A;
        end
        default: ;
    endcase
end

wire signed [31:0]      mul_p = mul_a1 * mul_b1 + mul_a2 * mul_b2;
// (the output's last product is tq_0 * R_0 >= 0)
wire signed [31:0]      mul_q = o_low ? {15'd0, mul_p[31:15]} : mul_p;
wire signed [ACC_W-1:0] mul_px = {{(ACC_W - 32){mul_q[31]}}, mul_q};
// 98304 * 256 = 3 * 2^23, + 2^16 fr when i = 255 (bits 16..24), + 128 (not
// for x = 0, e_one)
// 256 - fr = {b, ~m} of fr - 1 = {b, m} (9 bits): a decrement, whose carry
// chain takes z as it is (256 - fr would take a LUT a bit for ~fr as the
// carry input); the complement rides in mul_b1's multiplexer
wire [8:0]              e_fm1 = {1'b0, z[7:0]} - 9'd1;
wire [8:0]              e_nfr = {e_fm1[8], ~e_fm1[7:0]};     // 256 - fr
wire                    e_255 = &z[15:8];
// (384 + fr written out: bits 6:0 fr's, 7 and 8 !fr[7], 9 fr[7]; no adder)
wire [9:0]              e_top = e_255 ? {z[7], !z[7], !z[7], z[6:0]} : 10'd384;
wire [25:0]             acc_c = st == S_E ? {e_top, 8'd0, !e_one, 7'd0} : 26'd0;
wire signed [ACC_W-1:0] acc_in = mul_clr ? {{(ACC_W - 26){1'b0}}, acc_c} :
                                 mul_sh ? {acc[ACC_W-16:0], 15'd0} : acc;
wire signed [ACC_W-1:0] acc_nxt = acc_in + mul_px;

always @(posedge clk) begin
    if (mul_en)
        acc <= acc_nxt;
end

// ---- the round-shifter: y = round_shift(x, s) + term_r ---------------------------

// the RAM holds 32-bit words (two block RAMs side by side): o[i] as a low
// word (o mod 2^32) and a high word (o >>> 30, sign-extended: its bits 1:0
// repeat the low word's 31:30), the raw query and the query mantissas as
// one word each
localparam integer OH_W = O_W - 32;   // bits of o above the low word
localparam integer OW_W = O_W - 30;   // bits of the high word (o >>> 30)
reg  [31:0]             rd_q;      // the RAM's read data
reg  [OH_W-1:0]         o_hi;      // o[eo] / o[ei] >> 32, read the cycle before;
                                   // o's sign when d_alt (V)
// o[eo] (V), o[ei] (output) assembled; the raw query (pass 2) is one word,
// sign-extended by two bits in place of the high word's low bits: all that
// y[16:0] sees for s <= 17 (its higher bits are not used); by st alone
// (of S_Q only pass 2's steps use y), not by the step's decode
wire [OH_W-1:0]         o_hx = {o_hi[OH_W-1:2], st == S_Q ? {2{rd_q[31]}} : o_hi[1:0]};
wire signed [O_W-1:0]   ord = {o_hx, rd_q};
wire [15:0]             qrd = rd_q[15:0];
// l, held inverted (~l): the reciprocal's subtraction rem - l = rem + l_acc
// + 1 then takes the register straight into its carry chain (a subtraction
// of l needs a LUT a bit for ~l as the carry's input); the inversion rides
// in the LUTs in front of l_acc and in the shifter's source multiplexer
reg  [L_W-1:0]          l_acc;     // ~l; the reciprocal's divisor in S_N, S_D
reg  [DW-1:0]           d_r;       // d, or d - 30 when d >= 31 (d_alt)
reg                     d_alt;
// the addend: the V term of the o update (VS_A/D1 -> VS_B/D2) or p of the l
// update (S_E step 2 -> the row's first S_V cycle), 0 in every other cycle
// (and, in S_C and S_OM, the wide operand: see ma)
reg  signed [TR_W-1:0]  term_r;
wire                    l_upd = st == S_V && e_ph == 2'd3;

wire signed [AX_W:0]    acc_x = {{(AX_W + 1 - ACC_W){acc[ACC_W-1]}}, acc};
// the P = 13 window of acc: a value outside W13 bits saturates the score
// (a score with s >= 32 comes as floor(acc / 2^15), shifted by s - 15)
wire                    ov13 = |acc_x[AX_W:W13-1] && !(&acc_x[AX_W:W13-1]);
// The shifter's source (xsel) and amount (amt) are registers, loaded the
// cycle before their use from the state that follows (a decode of st, vs,
// e_ph and d_alt in front of the shifter was the unit's critical path): the
// source operands (sc_a, e_n, d_r, ev, tsh, sq) are registers that are
// stable by then, or (ev) loaded at the same edge, whose next value is
// taken. Uses of y, by the state they come in (source, amount; where the
// registers are loaded):
//   S_P      acc, by 0: the group sum                        S_K
//   S_T      acc (P 1, or P 13 for s < 0), by sc_a: s + 12    S_P, S_C, S_T
//            (s < 0), s - 15 of floor(acc / 2^15) (s >= 32),
//            else s
//   S_E 2    acc, by e_n = n + 8: 2^x = round_shift(acc,      S_E 0, 1
//            n + 8) (see ${EXP2_MODULE}; e_n is held from
//            the cycle after S_M)
//   S_V l    l, by d (LCL when d_alt)                        S_E 2
//   S_V A/D1 acc (P 13), by ev: the V term                   S_V W, B (and l)
//   S_V B/D2 o, by d_r: the rescale                          S_V A, D1
//   S_O0     o, by tsh: tq                                   S_D, S_O2
//   S_O2     acc, by 8: round_shift(tq R, 23) =              S_OM, S_O2
//            round_shift(floor(tq R / 2^15), 8)
//   S_Q 2    the raw query, by sq                            S_Q
// (pass 2's first cycle writes the last raw value and takes no step, so sq
// is loaded from the final OR before the first step)
// (a simulation check below compares them with the decode they replace)
localparam [1:0] XS_ACC = 2'd0;   // acc, P 1
localparam [1:0] XS_A13 = 2'd1;   // acc, P 13
localparam [1:0] XS_ORD = 2'd2;   // o / the raw query, P 1
localparam [1:0] XS_L = 2'd3;     // l, P 1
wire [8:0]              ev_new = 9'd20 + CV9 - {4'd0, v_ex};
wire [8:0]              ev_nx = HEAD_SIZE == KV_GROUP ? (v_take ? ev_new : ev_r) :
                                vs == VS_B ? ev_r : ev_t;
reg  [1:0]              xsel;      // the source (XS_*)
reg  [AMT_W-1:0]        amt;       // s + P - 1
reg  [1:0]              xsel_n;
reg  [8:0]              ss_n;
always @* begin
    xsel_n = XS_ORD;
    ss_n = {3'd0, tsh};
    case (st)
        S_K: begin
            xsel_n = XS_ACC;
            ss_n = 9'd0;
        end
        S_P, S_C, S_T: begin
            xsel_n = {1'b0, sc_neg};
            ss_n = {2'd0, sc_a};
        end
        S_E: if (e_ph == 2'd2) begin
            xsel_n = XS_L;
            ss_n = d_alt ? LCL : {{(9 - DW){1'b0}}, d_r};
        end else begin
            xsel_n = XS_ACC;
            ss_n = {4'd0, e_n};
        end
        S_V: if (vs == VS_A || vs == VS_D1) begin
            ss_n = {{(9 - DW){1'b0}}, d_r};
        end else begin
            xsel_n = XS_A13;
            ss_n = ev_nx;
        end
        S_OM: begin
            xsel_n = XS_ACC;
            ss_n = 9'd8;
        end
        S_O2: if (!o_step) begin
            xsel_n = XS_ACC;
            ss_n = 9'd8;
        end
        S_Q: ss_n = {4'd0, sq_now};
        default: ;
    endcase
end
always @(posedge clk) begin
    xsel <= xsel_n;
    amt <= ss_n[AMT_W-1:0];
end

`ifndef SYNTHESIS
// the decode the registers replace, compared in every cycle that uses y
reg  [1:0]              xsel_ref;
reg  [8:0]              ss_ref;
always @* begin
    xsel_ref = 2'd0;
    ss_ref = 9'd8;
    case (st)
        S_P: ss_ref = 9'd0;
        S_T: begin
            xsel_ref = {1'b0, sc_neg};
            ss_ref = {2'd0, sc_a};
        end
        S_E: ss_ref = {4'd0, e_n};
        S_V: if (l_upd) begin
            xsel_ref = 2'd3;
            ss_ref = d_alt ? LCL : {{(9 - DW){1'b0}}, d_r};
        end else if (vs == VS_B || vs == VS_D2) begin
            xsel_ref = 2'd2;
            ss_ref = {{(9 - DW){1'b0}}, d_r};
        end else begin
            xsel_ref = 2'd1;
            ss_ref = HEAD_SIZE == KV_GROUP ? ev_r : ev_t;
        end
        S_O0: begin
            xsel_ref = 2'd2;
            ss_ref = {3'd0, tsh};
        end
        S_Q: begin
            xsel_ref = 2'd2;
            ss_ref = {4'd0, sq_now};
        end
        default: ;
    endcase
end
wire y_use = st == S_P || (st == S_T && !out_v) || (st == S_E && e_ph == 2'd2) ||
             (st == S_V && (l_upd || vs != VS_W)) || st == S_O0 || o_step || q_step;
always @(posedge clk) begin
    if (!rst && y_use && (xsel != xsel_ref || amt != ss_ref[AMT_W-1:0])) begin
        $display("Error: %m: shifter source %0d amount %0d, the state's %0d %0d",
                 xsel, amt, xsel_ref, ss_ref[AMT_W-1:0]);
        $stop;
    end
end
wire unused_ref = &{1'b0, ss_ref[8:AMT_W]};
`endif

wire [Y_W:0]            ord_y = {{(Y_W + 1 - O_W){ord[O_W-1]}}, ord};
wire [Y_W-2:0]          l_y = {{(Y_W - 1 - L_W){1'b0}}, ~l_acc};
reg  [XS_W-1:0]         xs;
always @* begin
    case (xsel)
        2'd0: xs = {acc_x[Y_W-1:0], 1'b0};
        2'd1: xs = {acc_x[W13-1:0], 13'd0};
        2'd2: xs = {ord_y[Y_W-1:0], 1'b0};
        default: xs = {1'b0, l_y, 1'b0};
    endcase
end
// (a log shifter, largest step first)
reg  [XS_W-1:0]         xt;
integer                 bs;
always @* begin
    xt = xs;
    for (bs = AMT_W - 1; bs >= 0; bs = bs - 1)
        if (amt[bs])
            xt = $signed(xt) >>> (1 << bs);
end
// (an addend fits T_W bits; term_r may be a bit wider than y)
localparam integer YA_W = (Y_W > TR_W ? Y_W : TR_W) + 1;
wire [YA_W-1:0]         add_x = {{(YA_W - TR_W){term_r[TR_W-1]}}, term_r};
wire [Y_W-1:0]          add_y = add_x[Y_W-1:0];
// (t >>> 1) + addend + t[0] in one adder (bit 0: t[0] + t[0] carries t[0])
wire [Y_W:0]            ysum = {xt[XS_W-1:1], xt[0]} + {add_y, xt[0]};
wire [Y_W-1:0]          y = ysum[Y_W:1];
// sat32(y), for the score term and the output (zo) only. A forced
// saturation: an output whose tq did not fit 41 bits (tq's sign), a
// left-shifted score whose acc did not fit the window (acc's sign).
// The RAM takes y_w instead: y unsaturated (the o updates, S_V), and the
// query mantissas (pass 2) clamped to +-32767 (|y| <= 32768: y[16] is its
// sign; a query mantissa's bits 31:16 are never read: they stay y's). The
// two are apart so that zo's flip-flops pack with y_sat's LUTs.
reg                     tq_sg;
wire                    tq_ov;     // tq did not fit (below: from S_O0's partial tests)
wire                    q_md = st == S_Q;
wire                    sat_f = (st == S_O2 && tq_ov) || (st == S_T && sc_neg && ov13);
wire                    sat_s = st == S_O2 ? tq_sg : acc[ACC_W-1];
// The two saturate flags come from the shifter's output t, in parallel with
// the adder instead of after its carry chain: y_sat's users (S_T, S_O2) have
// no addend (term_r is cleared after S_C and S_OM), so y = u + r with u = t
// >>> 1, r = t[0] (no wrap: r = 1 needs a shift by 1 or more, which leaves
// u's top two bits equal). y > 2^31 - 1 iff u >= 2^31 or u = 2^31 - 1 and
// r; y <= -2^31 iff u < -2^31 or u = -2^31 and !r.
wire [Y_W-1:0]          yu = xt[XS_W-1:1];
wire                    yr = xt[0];
wire                    u_s = yu[Y_W-1];
wire                    u_hz = yu[Y_W-2:31] == {(Y_W - 32){1'b0}};
wire                    u_ho = &yu[Y_W-2:31];
wire                    y_hi = sat_f ? !sat_s : !u_s && (!u_hz || (&yu[30:0] && yr));
wire                    y_lo = sat_f ? sat_s : u_s && (!u_ho || (yu[30:0] == 31'd0 && !yr));
wire                    y_z15 = y[14:0] == 15'd0;
wire [31:0]             y_sat = y_hi ? 32'h7fffffff : y_lo ? 32'h80000001 : y[31:0];
`ifndef SYNTHESIS
// the flags' premise, checked in every simulation
always @(posedge clk) begin
    if (!rst && (st == S_T || st == S_O2) && term_r != {TR_W{1'b0}}) begin
        $display("Error: %m: an addend in a state that saturates y");
        $stop;
    end
end
`endif
// the query clamp: 32768 -> 32767 (qh), -32768 -> -32767 (ql)
wire                    q_qh = q_md && !y[16] && y[15];
wire                    q_ql = q_md && y[16] && y[15] && y_z15;
wire [31:0]             y_w = {y[31:16], y[15] && (!q_md || y[16]),
                               y[14:1] | {14{q_qh}}, y[0] || q_qh || q_ql};
// ma: term_r's low MAX_W bits, loaded with y in S_P (the group sum, y =
// acc) and S_O0 (tq) and shifted through S_C / S_OM (whose y is not used);
// a tq outside 41 bits saturates its output, whatever its product

// ---- score: z = sat32(z + term) over the groups of a row -----------------------
//
// z shares its register (zo) with the output data: a row's S_T waits while
// an output is pending (never without output stalls). One group a row
// (HEAD_SIZE = KV_GROUP): z = sat32(term), no adder.

localparam integer NG = HEAD_SIZE / KV_GROUP;
wire signed [31:0] z = zo;
wire               zf_e = NG == 1 || zf;
wire signed [32:0] z_sum = {y_sat[31], y_sat} + (zf_e ? 33'sd0 : {z[31], z});
wire [31:0]        z_sat = NG == 1 ? y_sat :
                           (!z_sum[32] && z_sum[31]) ? 32'h7fffffff :
                           (z_sum[32] && (!z_sum[31] || z_sum[30:0] == 31'd0)) ? 32'h80000001 :
                           z_sum[31:0];

// ---- online softmax: integer running max, exp2 argument, rescale ---------------

// M / 2^16 = mh + mc (M = ceil(z) of the row that set it: mh = floor(z /
// 2^16), mc = (z mod 2^16 != 0)); ceil(z / 2^16) = zh + c likewise, and z > M
// iff ceil(z / 2^16) > M / 2^16 (M a multiple of 2^16), so every compare and
// subtract is on the top 16 bits: dz = zh - mh - mc (one subtraction, mc as
// its borrow), ceil(z / 2^16) - M / 2^16 = dz + c; x = z - M' keeps z's low
// 16 bits, its top part is -c when M moves (M' = ceil(z)), else dz
// (held inverted, ~mh and ~mc: the subtraction's carry chain takes the
// registers as they are, and their flip-flops pack with the inverting LUTs
// instead of taking cells of their own as copies of z)
reg signed [15:0]   mh_n;
reg                 mcr_n;
wire                rfirst = row == {PW{1'b0}};
wire                zc = |z[15:0];
wire [18:0]         dz_s = {{2{z[31]}}, z[31:16], 1'b1} + {{2{mh_n[15]}}, mh_n, mcr_n};
wire signed [17:0]  dz = dz_s[18:1];
wire                dz0 = dz == 18'd0;
wire                upd = rfirst || (!dz[17] && !dz0) || (dz0 && zc);
// x, as much of it as the exp2 stage reads: its sign, floor(x / 2^16) mod
// 2^5 and whether floor(x / 2^16) >= -32, in 24 bits (x_hi[17:5] is all
// ones or has its sign bit clear or set, as {x_hi[17], 2 x (&x_hi[17:5])})
wire                x_sg = upd ? zc : dz[17];
wire                x_a1 = upd ? zc : &dz[17:5];
wire [4:0]          x_ip = upd ? {5{zc}} : dz[4:0];
wire signed [23:0]  x_now = {x_sg, x_a1, x_a1, x_ip, z[15:0]};
// d = min(dz + c, O_W) when M moves; the first row's rescale shifts by O_W,
// which gives 0 for any O_W-bit value (o's low words and l are not cleared;
// its high words are sign-extended o >>> 30 from power-up on, see omem)
wire [DW:0]         d_inc = dz[DW-1:0] + {{(DW - 1){1'b0}}, zc};
// (x > a constant as logic, bit by bit from the top: as a compare cell it
// becomes a carry chain taking a LUT a bit for ~x as its input)
function automatic gt_c(input [DW:0] x, input [DW:0] c);
    integer gi_;
    reg gt_, eq_;
    begin
        gt_ = 1'b0;
        eq_ = 1'b1;
        for (gi_ = DW; gi_ >= 0; gi_ = gi_ - 1) begin
            gt_ = gt_ || (eq_ && x[gi_] && !c[gi_]);
            eq_ = eq_ && x[gi_] == c[gi_];
        end
        gt_c = gt_;
    end
endfunction
wire                d_big = |dz[17:DW] || gt_c(d_inc, {1'b0, D_MAX});
wire [DW-1:0]       d_now = rfirst ? D_MAX : !upd ? {DW{1'b0}} : d_big ? D_MAX : d_inc[DW-1:0];

// the exp2 table stage: T[i] - 98304 the cycle after S_M, T[i+1] - 98304
// the next (T[0]'s for i = 255), and n + 8 of x; the interpolation and
// rounding run on the multiplier and the shifter in the three S_E steps
// (e_ph 0: acc = 98304 * 256 + 128 + (T[i] - 98304) * (256 - fr); 1: acc +=
// (T[i+1] - 98304) fr; 2: p = round_shift(acc, n + 8)); l = round_shift(l,
// d) + p in the row's first S_V cycle. The table stage reads T[i+1] at
// x[15:8] + 1 of its input after S_M: x keeps z's low 16 bits, and zo (z) is
// written in S_T and S_O2 only, so they are held through S_E.

${EXP2_MODULE} #(
    .X_W(24),
    .LUT_FILE(EXP2_FILE)
) u_exp2 (
    .clk(clk),
    .s_valid(st == S_M),
    .s_x(x_now),
    .m_d(e_d),
    .m_n(e_n),
    .m_one(e_one)
);
// p = y[16:0]: x = 0 (e_one: i = 0, fr = 0, n + 8 = 8) drops the rounding
// constant, acc = 2^24 gives 65536; n >= 18 comes as n + 8 = 31, which
// rounds acc < 2^25 to 0

// the addend register: loaded for the next cycle's o or l update, else 0;
// as ma loaded in S_P and S_O0 and shifted left by a limb after every odd
// limb step but the last (term_clr is kept as a net so that synthesis clears
// term_r by the flip-flops' synchronous reset instead of an AND in front of
// every bit)
wire                  term_ld = (st == S_V && (vs == VS_A || vs == VS_D1)) ||
                                (st == S_E && e_ph == 2'd2) || st == S_P || st == S_O0;
wire                  term_hold = (st == S_C || st == S_OM) && mc != MC_LAST;
(* keep *) wire       term_clr;
assign term_clr = !term_ld && !term_hold;
// (y sign-extended to TR_W bits: Y_W may be a bit narrower than MAX_W)
localparam integer YT_W = (Y_W > TR_W ? Y_W : TR_W) + 1;
wire [YT_W-1:0]       y_t = {{(YT_W - Y_W){y[Y_W-1]}}, y};
always @(posedge clk) begin
    if (term_clr)
        term_r <= {TR_W{1'b0}};
    else if (!term_hold)
        term_r <= y_t[TR_W-1:0];
    else if (mc[0])
        term_r <= {term_r[TR_W-16:0], 15'd0};
end

// reciprocal step counter (S_N: K - 1 normalising steps, S_D: 17 quotient
// steps; see the reciprocal below)
localparam integer K = L_W - 1;
localparam integer DCW = $clog2(K + 17);
localparam [31:0] K_M1_32 = K - 1;
localparam [DCW-1:0] DC_NORM = K_M1_32[DCW-1:0];
localparam [DCW-1:0] DC_DIV = 16;
reg [DCW-1:0] dc;      // step

// ---- one RAM: o[ei] = round_shift(o[ei], d) + term; the query ---------------------
//
// Half 0 holds o (and the raw query in the query's pass 1), half 1 the query
// mantissas (pass 2 writes them while reading the raw values of half 0). The
// read address is the next cycle's element in the half the next state reads:
// half 1 when the next state is S_K.

// no_rw_check: a read never meets a write of the same word in one cycle
// (see below; checked in simulation), so Yosys builds no read-first logic
(* no_rw_check *)
reg [31:0] omem [0:(4 << HSW) - 1];
// every high word is a sign-extended o >>> 30 from power-up on (the first
// row's rescale by d = O_W >= 31 reads one and gives 0 for any such word)
integer               om_i;
initial begin
    for (om_i = 0; om_i < (4 << HSW); om_i = om_i + 1)
        omem[om_i] = 32'd0;
end
// wh_p (declared with the query): the high word of the last o update is
// due, or in pass 1 the raw query value taken the cycle before (a low word)
reg  [31:0]           wh_d;      // its data (o >>> 30 sign-extended; the raw query)
reg  [HSW-1:0]        wh_a;      // its element
wire                  nx_k = (q_step && e_last) || (st == S_K && !(k_take && gi == GI_LAST)) ||
                             (st == S_T && ei != {HSW{1'b0}}) ||
                             (st == S_V && vs == VS_D2 && row != pos_r);
wire [HSW-1:0]        m_ra = st == S_V ? eo_nxt : st == S_OM ? ei_inc : ei_nxt;
// An o update (v_step) writes the low word, and its high word waits (wh_p)
// for the next cycle that reads a low word (V: A or D1, at the latest the
// next element's A; after a row's last element S_K or the last S_D step),
// so that no write ever meets a read of the same word (yosys then needs no
// read-first emulation). Reads: o's high word, then its low word in the
// cycle before its use (V: A or D1 before the o update; output: S_O2 or the
// last S_D step before S_O0, the high word in S_OM / S_D before), held in
// o_hi when it arrives.
wire                  rd_hi = !nx_k &&
                              ((st == S_V && vs != VS_A && vs != VS_D1) || st == S_OM ||
                               st == S_R || st == S_N || (st == S_D && dc != DC_DIV));
// d >= 31 (d_alt): an o update reads o's high word twice (its sign into
// o_hi, then the word itself in place of the low word: ord = o >>> 30)
// (HEAD_SIZE = 2: pass 1 reads high words, away from wh's low-word writes)
wire                  alt_rd = !nx_k && ((st == S_V && d_alt) || (HEAD_SIZE == 2 && s_q_ready));
reg                   alt_q;     // rd_q holds a high word read for d_alt
wire [HSW+1:0]        m_rda = {nx_k, m_ra, rd_hi || alt_rd};
// (not in reset: wh_d's bits 31:OW_W are a high word's sign only once written
// by v_step, and every high word must stay sign-extended from power-up on)
wire                  wh_w = wh_p && !rd_hi && !rst;
wire                  m_we = v_step || q_step || wh_w;
wire [HSW+1:0]        m_wa = wh_w ? {1'b0, wh_a, !q_md} : {q_step, st == S_V ? eo : ei, 1'b0};
// (y_w: o's low word unsaturated in S_V, the query mantissas clamped)
wire [31:0]           m_wd = wh_w ? wh_d : y_w;
reg                   hi_q;      // rd_q holds a high word
always @(posedge clk) begin
    if (m_we)
        omem[m_wa] <= m_wd;
    rd_q <= omem[m_rda];
    hi_q <= rd_hi;
    alt_q <= alt_rd;
    if (hi_q)
        o_hi <= alt_q ? {OH_W{rd_q[31]}} : rd_q[OW_W-1:2];
    if (wh_w)
        wh_p <= 1'b0;
    if (v_step || q_fire) begin
        wh_p <= 1'b1;
        wh_d <= q_md ? s_q_data : {{(32 - OW_W){y[O_W-1]}}, y[O_W-1:30]};
        wh_a <= q_md ? ei : eo;
    end
    if (rst)
        wh_p <= 1'b0;
end

`ifndef SYNTHESIS
// the no-collision rule, checked in every simulation
always @(posedge clk) begin
    if (m_we && m_wa == m_rda) begin
        $display("Error: %m: read and write of word %0d in one cycle", m_wa);
        $stop;
    end
end
`endif

// ---- the reciprocal R = floor(2^(pl+16) / l), pl = bitlen(l) - 1 -----------------
//
// lg_recip's restoring divider, with its normalisation done in steps instead
// of a leading-one detector and a barrel shifter: S_N shifts the divisor
// left while its top bit is clear, K = L_W - 1 steps (pl = K - shifts; tsh
// counts max(0, pl - 15) down from K - 15), then S_D takes the 17 quotient
// bits. l >= 2^15 from the first row on (every row that moves the max adds
// p >= 2^15, the first row does), so pl >= 15 and l = 0 (lg_recip's R = 0)
// is not reached: neither is handled here.
localparam [31:0] TSH0_32 = K - 15;
localparam [PLW-1:0] TSH0 = TSH0_32[PLW-1:0];
localparam [L_W:0] REM0 = {2'b01, {(L_W - 1){1'b0}}};

reg [L_W:0]   rem;     // partial remainder (< 2 l)
// one subtraction: its borrow is the compare
wire [L_W+1:0] r_dif = {1'b0, rem} + {2'b11, l_acc} + {{(L_W + 1){1'b0}}, 1'b1};
wire          r_ge = !r_dif[L_W+1];
wire [L_W:0]  r_sub = r_ge ? r_dif[L_W:0] : rem;

always @(posedge clk) begin
    case (st)
        S_R: begin
            rem <= REM0;
            tsh <= TSH0;
        end
        S_N: if (l_acc[L_W-1])
            tsh <= tsh - 1'b1;
        S_D: rem <= {r_sub[L_W-1:0], 1'b0};
        default: ;
    endcase
end

always @(posedge clk) begin
    dc <= st == S_R || (st == S_N && dc == DC_NORM) ? {DCW{1'b0}} : dc + 1'b1;
end


// ---- output register ----------------------------------------------------------------

reg        out_v;
reg        out_last;
assign m_out_valid = out_v;
assign m_out_data = zo;
assign m_out_last = out_last;
assign out_fire = out_v && m_out_ready;

// tq = round_shift(o[i], pl - 15), clamped to 41 bits (a value that does not
// fit saturates the output, as the default form's clamp to +-(2^40 - 1))
// Whether tq fits, from the shifter's output as y_sat's flags (S_O0 has no
// addend either: tq = u + r): tq <= 2^40 - 1 iff u < 0 or u <= 2^40 - 1 - r;
// tq >= -2^40 iff u >= 0, u >= -2^40, or u = -2^40 - 1 and r. tq's sign is
// u's wherever it is read (only when tq does not fit: |tq| >= 2^40).
// The five partial tests are flip-flops, loaded in S_O0, and tq_ov their
// combination, read in S_O2 (S_OM between): the whole fit test after the
// shifter was the design's longest path on the UP5K (52.1 ns; docs/fpga.md).
wire           tq_hz_n = yu[O_W-1:TQ_W-1] == {(O_W - TQ_W + 1){1'b0}};
wire           tq_ho_n = &yu[O_W-1:TQ_W-1];
wire           tq_r1_n = yr && &yu[TQ_W-2:0];
wire           tq_md_n = &yu[O_W-1:TQ_W] && !yu[TQ_W-1];
wire           tq_hok = u_s || (tq_hz_n && !tq_r1_n);
wire           tq_lok = !u_s || tq_ho_n || (tq_r1_n && tq_md_n);
wire           tq_fit = tq_hok && tq_lok;
reg            tq_hz, tq_ho, tq_r1, tq_md;
assign         tq_ov = !((tq_sg || (tq_hz && !tq_r1)) && (!tq_sg || tq_ho || (tq_r1 && tq_md)));
`ifndef SYNTHESIS
// the flags' premise and the fit of y itself, checked in every simulation
wire [O_W-1:0] tq_y = y[O_W-1:0];
always @(posedge clk) begin
    if (!rst && st == S_O0 && (term_r != {TR_W{1'b0}} ||
        tq_fit != (&tq_y[O_W-1:TQ_W-1] || !(|tq_y[O_W-1:TQ_W-1])) ||
        (!tq_fit && u_s != tq_y[O_W-1]))) begin
        $display("Error: %m: tq's fit from the shifter differs from y's");
        $stop;
    end
end
// and S_O2's combination of the flip-flops is S_O0's test
reg tq_ov_ref;
always @(posedge clk) begin
    if (st == S_O0)
        tq_ov_ref <= !tq_fit;
    if (!rst && st == S_O2 && tq_ov != tq_ov_ref) begin
        $display("Error: %m: tq_ov %b from the partial tests, S_O0's test %b", tq_ov, tq_ov_ref);
        $stop;
    end
end
`endif
// instead of clamping, S_O0 notes the misfit (tq_ov) and S_O2 saturates
// (|tq| >= 2^40 and R >= 2^15 put |tq * R| / 2^23 above 2^31), whatever
// ma's product

// ---- the sequencer --------------------------------------------------------------------

assign s_k_ready = st == S_K && ej == BJ_LAST;
wire   v_can = st == S_V && (vs == VS_W || (vs == VS_B && !vall));
assign v_take = v_can && s_v_valid;
assign s_v_ready = v_can && ej == BJ_LAST;
wire   head_last = head == HEAD_LAST;

always @(posedge clk) begin
    if (kreq_p && m_kreq_ready)
        kreq_p <= 1'b0;
    if (vreq_p && m_vreq_ready)
        vreq_p <= 1'b0;
    if (out_fire)
        out_v <= 1'b0;
    ei <= ei_nxt;
    eo <= eo_nxt;
    if (v_take) begin
        v_r <= {{(16 - KB){v_el[KB-1]}}, v_el} << CV;
        ev_r <= ev_new;
        if (e_last)
            vall <= 1'b1;
    end
    case (st)
        S_Q: if (q_fire && e_last) begin
            q_ph <= 1'b1;
        end else if (q_step && e_last) begin
            q_ph <= 1'b0;
            st <= S_K;
            zf <= 1'b1;
            row <= {PW{1'b0}};
            gi <= {GIW{1'b0}};
        end
        S_K: if (k_take) begin
            sc_neg <= s_new[6];
            sc_big <= !s_new[6] && s_new[5];
            sc_a <= s_new + (s_new[6] ? 7'd12 : !s_new[6] && s_new[5] ? 7'd113 : 7'd0);
            gi <= gi == GI_LAST ? {GIW{1'b0}} : gi + 1'b1;
            if (gi == GI_LAST)
                st <= S_P;
        end
        S_P: begin
            mc <= {MCW{1'b0}};
            st <= S_C;
        end
        S_C: begin
            mc <= mc + 1'b1;
            if (mc == MC_LAST)
                st <= S_T;
        end
        S_T: if (!out_v) begin
            zo <= z_sat;
            zf <= 1'b0;
            st <= ei == {HSW{1'b0}} ? S_M : S_K;
        end
        S_M: begin
            if (upd) begin
                mh_n <= ~z[31:16];
                mcr_n <= !zc;
            end
            d_alt <= gt_c({1'b0, d_now}, {1'b0, D_30});
            d_r <= gt_c({1'b0, d_now}, {1'b0, D_30}) ? d_now - D_30 : d_now;
            e_ph <= 2'd0;
            st <= S_E;
        end
        S_E: if (e_ph != 2'd2) begin
            e_ph <= e_ph + 1'b1;
        end else begin
            p_r <= y[16:0];
            e_ph <= 2'd3;
            vs <= VS_W;
            vp <= 1'b0;
            vall <= 1'b0;
            mc <= {MCW{1'b0}};
            st <= S_V;
        end
        S_V: begin
            // the row's first S_V cycle: l = round_shift(l, d) + p
            if (l_upd) begin
                l_acc <= ~y[L_W-1:0];
                e_ph <= 2'd0;
            end
            case (vs)
                VS_W: if (v_take)
                    vs <= VS_A;
                VS_A: begin
                    mc <= {{(MCW - 1){1'b0}}, 1'b1};
                    vs <= VS_B;
                end
                VS_B: begin
                    mc <= {MCW{1'b0}};
                    ev_t <= ev_r;
                    vp <= 1'b1;
                    vs <= vall ? VS_D1 : v_take ? VS_A : VS_W;
                end
                VS_D1: begin
                    vs <= VS_D2;
                end
                default: begin
                    vs <= VS_W;
                    zf <= 1'b1;
                    if (row == pos_r) begin
                        st <= S_R;
                    end else begin
                        row <= row + 1'b1;
                        st <= S_K;
                    end
                end
            endcase
        end
        S_R: st <= S_N;
        S_N: begin
            // l << 1 by its own mux, not through the shifter: l_acc's
            // flip-flops then pack with that mux's LUTs (as loads of y they
            // took cells of their own), and l needs no P = 2 source
            if (l_acc[L_W-1])
                l_acc <= {l_acc[L_W-2:0], 1'b1};
            if (dc == DC_NORM)
                st <= S_D;
        end
        S_D: begin
            p_r <= {p_r[15:0], r_ge};
            if (dc == DC_DIV)
                st <= S_O0;
        end
        S_O0: begin
            tq_sg <= u_s;
            tq_hz <= tq_hz_n;
            tq_ho <= tq_ho_n;
            tq_r1 <= tq_r1_n;
            tq_md <= tq_md_n;
            mc <= {MCW{1'b0}};
            st <= S_OM;
        end
        S_OM: begin
            mc <= mc + 1'b1;
            if (mc == MC_LAST)
                st <= S_O2;
        end
        S_O2: if (o_step) begin
            out_v <= 1'b1;
            zo <= y_sat;
            out_last <= head_last && e_last;
            if (!e_last) begin
                st <= S_O0;
            end else if (head_last) begin
                st <= S_IDLE;
            end else begin
                head <= head + 1'b1;
                gq <= gq == GQ_LAST ? {GQW{1'b0}} : gq + 1'b1;
                if (gq == GQ_LAST)
                    kvh <= kvh + 1'b1;
                kreq_p <= 1'b1;
                vreq_p <= 1'b1;
                st <= S_Q;
            end
        end
        default: ;
    endcase
    if (go) begin
        st <= S_Q;
        q_ph <= 1'b0;
        head <= {QHW{1'b0}};
        kvh <= {HW{1'b0}};
        gq <= {GQW{1'b0}};
        ei <= {HSW{1'b0}};
        eo <= {HSW{1'b0}};
        kreq_p <= 1'b1;
        vreq_p <= 1'b1;
    end
    if (rst) begin
        st <= S_IDLE;
        q_ph <= 1'b0;
        kreq_p <= 1'b0;
        vreq_p <= 1'b0;
        out_v <= 1'b0;
        ei <= {HSW{1'b0}};
        eo <= {HSW{1'b0}};
    end
end

// the streams' last flags are not needed (the unit counts elements); the
// remainder's top bit is 0 after a subtraction (rem < 2 l); bits of ceil(z)
// below 2^16;
// y's bits past what a use takes; limb, amount and shifter bits past the
// selected field
wire unused_ok = &{1'b0, s_k_last, s_v_last, r_sub[L_W], ysum[0], ord_y[Y_W], dz_s[0],
                  ss_n[8:AMT_W], mul_p[14:0], acc_x[AX_W:ACC_W],
                  y_t[YT_W-1:TR_W], add_x[YA_W-1:Y_W]};

endmodule

`resetall
