`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: token embedding lookup from the weight stream, I8E row -> Q16
 * stream (template rtl_templates/lg_embstream.v, C twin lg_ref_embed in
 * src/ref_matvec.c; emitted by lg_emit_embstream, src/emit_wmem.c).
 *
 * Why: lg_embed keeps the embedding table in its own ROM (vocab x dim bytes:
 * 66 EBR for stories260K), which a small FPGA cannot spare. With a shared
 * classifier the table is already in the weight stream: the classifier's
 * rows are the embedding rows, quantized once. So this unit asks the weight
 * source (on-chip ROM, QSPI flash, DRAM) for the BPR beats of row t, a range
 * read like any other, and dequantizes them; the decoder starts the layer
 * stream once that range is done.
 *
 * Beats (docs/architecture.md, "The weight stream"): row t of the table is
 * beats BASE + t * BPR .. BASE + t * BPR + BPR - 1, BPR = ceil(DIM / LANES);
 * beat b carries mantissas of elements b * LANES + k (k < LANES; zero past
 * DIM) and NDX = DXW / 4 dexps, lane k using dexp k / GROUP when LANES >
 * GROUP, else the one dexp of the beat's group.
 *
 * Numerics (bit-exact with the C twin and with lg_embed):
 *   x[i] = sat32(round_shift(m[i], -(EBASE + dexp + 16)))
 * a saturating left shift when e = EBASE + dexp + 16 >= 0, otherwise a
 * right shift by -e rounded half up.
 *
 * Small on purpose (it is in the iCE40 build): EBASE is a parameter, so the
 * shift is v = m * 2^dexp (a 4-bit barrel shift of the int8) followed by a
 * constant shift of v (wiring) with the saturation or an 8-bit rounding
 * increment, built in rather than lg_i8e_shift's shifts by any e; the
 * output register keeps only the bits x can occupy; the lane is the
 * element index's low bits (LANES a power of two), no beat counter (the
 * row's last element in the output register closes the intake), and the
 * last beat address is the start's with its low bits set when BPR is a
 * power of two dividing BASE (iCE40, the iCEBreaker shape, with the shift
 * submodule it had: 321 -> 103 SB_LUT4, 119 -> 18 carries, 81 -> 60 FFs),
 * and the elements are read from the source's own output register rather
 * than a copy of the beat (-20 FFs that no LUT could share a cell with).
 *
 * Parameters: VOCAB (rows), DIM (row length), GROUP, LANES, DXW (beat dexp
 * bits), EBASE (the table's exponent base), BASE (first beat of row 0 in
 * the stream), AW (beat address width).
 *
 * Handshake contract:
 *  - s_tok: valid/ready, a 32-bit id; s_tok_ready is high while no row is
 *    being read (a register). An id >= VOCAB is consumed, sets err_oob
 *    (until the next valid id) and requests nothing.
 *  - w_start: one-cycle pulse with w_start_addr / w_last_addr (the row's
 *    beats), the cycle after the id is taken; the weight source must be idle
 *    then (the decoder only asks between token streams), or drop a beat it
 *    still offers with the start (lg_qspi_stream: a beat offered in the
 *    w_start cycle is not looked at).
 *  - s_w: valid/ready beats (AXI-stream rules: valid stays high and data
 *    stable until ready). The unit reads the elements straight from the
 *    offered beat and raises ready with its last element (no beat register:
 *    the source already holds the beat; so ready follows m_x_ready within
 *    the cycle); it looks at a beat only while one of the row is still
 *    due, so beats of a later range are never taken.
 *  - m_x: valid/ready, DIM signed Q16 values in order, m_x_last on the
 *    last; a registered output, valid and data stable until ready.
 *
 * Latency and throughput: one element per cycle from a held beat; a beat
 * is held from the cycle after it is first seen valid (the cycle after the
 * previous beat's handshake at the earliest: one bubble per beat) and
 * taken with its last element. With a source answering in R cycles
 * and no output stall, a row takes about R + DIM + BPR cycles.
 */
module ${MODULE} #(
    // tokens (rows of the table, >= 2)
    parameter VOCAB = ${VOCAB},
    // row length (model dim, >= 2)
    parameter DIM = ${DIM},
    // I8E group size (inputs sharing one dexp)
    parameter GROUP = ${GROUP},
    // weight stream lanes (mantissas per beat) and dexp bits per beat
    parameter LANES = ${LANES},
    parameter DXW = ${DXW},
    // the table's exponent base: weight = m * 2^(EBASE + dexp)
    parameter integer EBASE = ${EBASE},
    // first beat of row 0 in the weight stream, and the beat address width
    parameter BASE = ${BASE},
    parameter AW = ${AW}
) (
    input  wire                 clk,
    input  wire                 rst,

    /*
     * Token id input
     */
    input  wire                 s_tok_valid,
    output wire                 s_tok_ready,
    input  wire [31:0]          s_tok_data,

    /*
     * Range request to the weight source, and its beats
     */
    output wire                 w_start,
    output wire [AW-1:0]        w_start_addr,
    output wire [AW-1:0]        w_last_addr,
    input  wire                 s_w_valid,
    output wire                 s_w_ready,
    input  wire [LANES*8-1:0]   s_w_mant,
    input  wire [DXW-1:0]       s_w_dexp,

    /*
     * Embedding row output (Q16)
     */
    output wire                 m_x_valid,
    input  wire                 m_x_ready,
    output wire [31:0]          m_x_data,
    output wire                 m_x_last,

    /*
     * Status
     */
    output wire                 err_oob
);

// ---- derived sizes ------------------------------------------------------------

localparam integer BPR = (DIM + LANES - 1) / LANES;
localparam integer NDX = DXW / 4;
localparam integer TW = $clog2(VOCAB);
localparam integer LW = LANES > 1 ? $clog2(LANES) : 1;
localparam integer XW = $clog2(DIM);
localparam integer GSH = $clog2(GROUP);
localparam integer NXW = NDX > 1 ? $clog2(NDX) : 1;
localparam integer BSH = $clog2(BPR);
// shift of a group: e = EOFF + dexp, dexp in 0..15
localparam integer EOFF = EBASE + 16;
// EOFF >= 0: v = m * 2^dexp (23 bits, |v| <= 2^22) shifted left by LSH
// (any nonzero value saturates from 31 on); EOFF < 0: shifted right by RSH
// and rounded, |x| <= 2^(22-RSH) (RSH >= 23 rounds every v to 0), so the
// output register keeps RW bits, sign-extended
localparam integer LSH = EOFF > 32 ? 32 : (EOFF < 0 ? 0 : EOFF);
localparam integer RSH = EOFF >= 0 ? 1 : (-EOFF > 23 ? 23 : -EOFF);
localparam integer RW = EOFF >= 0 ? 32 : (RSH >= 23 ? 2 : 24 - RSH);
// lane index = low bits of the element index (LANES a power of two <= DIM)
localparam LANE_OF_ELEM = LANES > 1 && (1 << LW) == LANES && LW <= XW;
// row start = BASE + t * BPR: when BPR is a power of two dividing BASE, the
// last beat is the start with its low bits set (no adder)
localparam LAST_OR = (1 << BSH) == BPR && BASE % BPR == 0;

localparam [31:0] VOCAB_U = VOCAB;
localparam [31:0] BPR_U = BPR;
localparam [31:0] BASE_U = BASE;
localparam [31:0] BPR_M1 = BPR - 1;
localparam [31:0] DIM_M1 = DIM - 1;
localparam [31:0] LANES_M1 = LANES - 1;
localparam [AW-1:0] BASE_A = BASE_U[AW-1:0];
localparam [AW-1:0] BPR_A = BPR_U[AW-1:0];
localparam [AW-1:0] BPR_M1_A = BPR_M1[AW-1:0];
localparam [TW-1:0] VOCAB_T = VOCAB_U[TW-1:0];
localparam [XW-1:0] ELEM_LAST = DIM_M1[XW-1:0];
localparam [LW-1:0] LANE_LAST = LANES_M1[LW-1:0];

// bad parameter combinations are rejected at elaboration
initial begin
    if (VOCAB < 2 || DIM < 2 || GROUP < 2 || LANES < 1 || NDX < 1 ||
        (LANES > GROUP && NDX != LANES / GROUP) || (LANES <= GROUP && NDX != 1)) begin
        $error("Error: VOCAB, DIM >= 2, and DXW must hold max(1, LANES / GROUP) dexps (instance %m)");
        $finish;
    end
    if (EBASE < -200 || EBASE > 200) begin
        $error("Error: EBASE must be in -200..200 (instance %m)");
        $finish;
    end
    if (BASE + VOCAB * BPR > (1 << AW)) begin
        $error("Error: the table's beats do not fit AW address bits (instance %m)");
        $finish;
    end
end

// ---- token intake and the range request ----------------------------------------

reg busy_reg;   // token accepted .. last element taken
reg err_reg;
reg req_reg;    // w_start pulse
reg [AW-1:0] start_reg;

wire tok_fire = s_tok_valid && !busy_reg;
wire [TW-1:0] tok_idx = s_tok_data[TW-1:0];
// id < VOCAB: no bit above the index, and the index below VOCAB unless
// VOCAB is 2^TW
wire tok_lo_ok;
generate
    if ((1 << TW) == VOCAB) begin : g_tok_pow2
        assign tok_lo_ok = 1'b1;
        wire unused_vt = ^VOCAB_T;
    end else begin : g_tok_cmp
        assign tok_lo_ok = tok_idx < VOCAB_T;
    end
endgenerate
wire tok_ok = s_tok_data[31:TW] == {(32-TW){1'b0}} && tok_lo_ok;
// row start beat BASE + t * BPR (a constant multiplier; TW <= AW as the
// table fits AW bits)
wire [AW-1:0] row_start = BASE_A + {{(AW-TW){1'b0}}, tok_idx} * BPR_A;
wire out_fire = m_x_valid && m_x_ready;

assign s_tok_ready = !busy_reg;
assign err_oob = err_reg;
assign w_start = req_reg;
assign w_start_addr = start_reg;

generate
    if (LAST_OR && BSH > 0) begin : g_last_or
        assign w_last_addr = {start_reg[AW-1:BSH], {BSH{1'b1}}};
        wire unused_start = ^start_reg[BSH-1:0];
    end else begin : g_last_add
        assign w_last_addr = start_reg + BPR_M1_A;
    end
endgenerate

always @(posedge clk) begin
    req_reg <= tok_fire && tok_ok;
    if (tok_fire && tok_ok)
        start_reg <= row_start;
    if (tok_fire)
        err_reg <= !tok_ok;
    if (tok_fire && tok_ok)
        busy_reg <= 1'b1;
    else if (out_fire && m_x_last)
        busy_reg <= 1'b0;
    if (rst) begin
        req_reg <= 1'b0;
        err_reg <= 1'b0;
        busy_reg <= 1'b0;
    end
end

// ---- the beat being output ---------------------------------------------------------

// No copy of the beat: while bv_reg is high the source offers the beat
// (s_w_valid high, and by the AXI-stream rules it stays high with the data
// stable until the handshake, which comes with the beat's last element).
reg               bv_reg;     // a beat is held (offered, not yet taken)
reg [XW-1:0]      elem_reg;   // element index of the lane being output
wire [LW-1:0]     lane;       // its lane in the beat

reg               m_valid_reg;
reg [RW-1:0]      m_data_reg;
reg               m_last_reg;

// a beat is due while a row is open, none is held and the row's last
// element has not moved to the output (it stays there, m_x_last high,
// until taken, which closes the row): so no beat past the range is held;
// an offered beat that is due is held from the next cycle on (the cycle a
// beat register used to load it)
// (not in the w_start cycle: a source that streams on past a range, like
// lg_qspi_stream, may still offer a beat of the previous burst then, which
// it drops with this start)
wire w_hold = s_w_valid && busy_reg && !req_reg && !bv_reg && !(m_valid_reg && m_last_reg);
// the output register is free or being taken: the next element moves
wire adv = bv_reg && (!m_valid_reg || m_x_ready);
wire elem_last = elem_reg == ELEM_LAST;
wire beat_end = lane == LANE_LAST || elem_last;
// the beat is taken as its last element moves
assign s_w_ready = adv && beat_end;

// the element index wraps to 0 after each row's last element
always @(posedge clk) begin
    if (adv)
        elem_reg <= elem_last ? {XW{1'b0}} : elem_reg + 1'b1;
    if (rst)
        elem_reg <= {XW{1'b0}};
end

generate
    if (LANE_OF_ELEM) begin : g_lane_elem
        assign lane = elem_reg[LW-1:0];
    end else if (LANES == 1) begin : g_lane_one
        assign lane = 1'b0;
    end else begin : g_lane_cnt
        reg [LW-1:0] lane_reg;

        always @(posedge clk) begin
            if (adv)
                lane_reg <= beat_end ? {LW{1'b0}} : lane_reg + 1'b1;
            if (rst)
                lane_reg <= {LW{1'b0}};
        end
        assign lane = lane_reg;
    end
endgenerate

always @(posedge clk) begin
    if (w_hold)
        bv_reg <= 1'b1;
    else if (adv && beat_end)
        bv_reg <= 1'b0;
    if (rst)
        bv_reg <= 1'b0;
end

// ---- dequantize the lane: shift, round, saturate ---------------------------------

// x = sat32(round_shift(m, -(EOFF + dexp))) as v = m * 2^dexp (exact, 23
// bits) and a constant shift of v by EOFF: left with saturation, or right
// rounded half up, floor(v / 2^RSH) + bit RSH-1 of v; that bit can only be
// set when dexp < RSH, and then floor(v / 2^RSH) = m >>> (RSH - dexp) is in
// -64..63, so the rounding is an 8-bit increment whose carry (-1 + 1 = 0)
// clears the sign bits above.
wire signed [7:0] mant = s_w_mant[8*lane +: 8];
wire [NXW-1:0] dsel;
generate
    if (NDX > 1) begin : g_ndx
        wire [LW-1:0] grp = lane >> GSH;
        assign dsel = grp[NXW-1:0];
        wire unused_grp = ^grp;
    end else begin : g_one
        assign dsel = 1'b0;
    end
endgenerate
wire [3:0] dexp = s_w_dexp[4*dsel +: 4];

wire signed [63:0] v = {{56{mant[7]}}, mant} <<< dexp;
wire [RW-1:0] result;

generate
    if (EOFF >= 0) begin : g_left
        wire signed [63:0] w = v <<< LSH;
        // symmetric saturation to +-(2^31 - 1)
        wire hi_zero = w[63:31] == {33{1'b0}};
        wire hi_ones = w[63:31] == {33{1'b1}};
        wire fits = hi_zero || (hi_ones && w[30:0] != {31{1'b0}});
        assign result = fits ? w[31:0] : (w[63] ? 32'h8000_0001 : 32'h7fff_ffff);
    end else begin : g_right
        wire signed [63:0] q = v >>> RSH;
        wire rbit = v[RSH-1];
        wire [8:0] inc = {1'b0, q[7:0]} + {8'd0, rbit};
        if (RW > 8) begin : g_wide
            assign result = {q[RW-1:8] ^ {(RW-8){inc[8]}}, inc[7:0]};
        end else begin : g_narrow
            assign result = inc[RW-1:0];
        end
        wire unused_q = ^{q[63:RW], inc};
    end
endgenerate
wire unused_v = ^v;

// ---- output register ---------------------------------------------------------------

assign m_x_valid = m_valid_reg;
assign m_x_data = {{(33-RW){m_data_reg[RW-1]}}, m_data_reg[RW-2:0]};
assign m_x_last = m_last_reg;

always @(posedge clk) begin
    if (adv) begin
        m_data_reg <= result;
        m_last_reg <= elem_last;
    end
    if (adv)
        m_valid_reg <= 1'b1;
    else if (m_x_ready)
        m_valid_reg <= 1'b0;
    if (rst)
        m_valid_reg <= 1'b0;
end

endmodule

`resetall
