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
 * a saturating left shift when e = EBASE + dexp + 16 >= 0 (clamped to 32),
 * otherwise a right shift by -e (clamped to 15) rounded half up.
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
 *    then (the decoder only asks between token streams).
 *  - s_w: valid/ready beats; ready only while a beat of the row is still
 *    due and none is held, so beats of a later range are never taken.
 *  - m_x: valid/ready, DIM signed Q16 values in order, m_x_last on the
 *    last; a registered output, valid and data stable until ready.
 *
 * Latency and throughput: one element per cycle from a held beat; a beat
 * is taken in the cycle after the previous one's last element left the
 * beat register (one bubble per beat). With a source answering in R cycles
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
localparam integer BW = $clog2(BPR + 1);
localparam integer GSH = $clog2(GROUP);
localparam integer NXW = NDX > 1 ? $clog2(NDX) : 1;
// shift of a group: e = EOFF + dexp, dexp in 0..15
localparam integer EOFF = EBASE + 16;

localparam [31:0] VOCAB_U = VOCAB;
localparam [31:0] BPR_U = BPR;
localparam [31:0] BASE_U = BASE;
localparam [31:0] BPR_M1 = BPR - 1;
localparam [31:0] DIM_M1 = DIM - 1;
localparam [31:0] LANES_M1 = LANES - 1;
localparam [BW-1:0] BPR_B = BPR_U[BW-1:0];
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
reg [BW-1:0] beats_left_reg;

wire tok_fire = s_tok_valid && !busy_reg;
wire tok_ok = s_tok_data < VOCAB_U;
wire [TW-1:0] tok_idx = s_tok_data[TW-1:0];
// row start beat BASE + t * BPR (a constant multiplier; only for ids in range)
wire [31:0] row_start = BASE_U + {{(32-TW){1'b0}}, tok_idx} * BPR_U;
wire unused_tok = ^{s_tok_data[31:TW], row_start[31:AW]};
wire out_fire = m_x_valid && m_x_ready;

assign s_tok_ready = !busy_reg;
assign err_oob = err_reg;
assign w_start = req_reg;
assign w_start_addr = start_reg;
assign w_last_addr = start_reg + BPR_M1[AW-1:0];

always @(posedge clk) begin
    req_reg <= tok_fire && tok_ok;
    if (tok_fire && tok_ok)
        start_reg <= row_start[AW-1:0];
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

// ---- the beat register -----------------------------------------------------------

reg               bv_reg;     // a beat is held
reg [LANES*8-1:0] bm_reg;
reg [DXW-1:0]     bd_reg;
reg [LW-1:0]      lane_reg;
reg [XW-1:0]      elem_reg;   // element index of the lane being output

reg               m_valid_reg;
reg [31:0]        m_data_reg;
reg               m_last_reg;

assign s_w_ready = busy_reg && !bv_reg && beats_left_reg != {BW{1'b0}};
wire w_fire = s_w_valid && s_w_ready;
// the output register is free or being taken: the next element moves
wire adv = bv_reg && (!m_valid_reg || m_x_ready);
wire elem_last = elem_reg == ELEM_LAST;

always @(posedge clk) begin
    if (tok_fire && tok_ok) begin
        beats_left_reg <= BPR_B;
        elem_reg <= {XW{1'b0}};
        lane_reg <= {LW{1'b0}};
    end else begin
        if (w_fire) begin
            bm_reg <= s_w_mant;
            bd_reg <= s_w_dexp;
            beats_left_reg <= beats_left_reg - 1'b1;
        end
        if (adv) begin
            elem_reg <= elem_last ? {XW{1'b0}} : elem_reg + 1'b1;
            lane_reg <= (lane_reg == LANE_LAST || elem_last) ? {LW{1'b0}} : lane_reg + 1'b1;
        end
    end
end

always @(posedge clk) begin
    if (w_fire)
        bv_reg <= 1'b1;
    else if (adv && (lane_reg == LANE_LAST || elem_last))
        bv_reg <= 1'b0;
    if (rst || (tok_fire && tok_ok))
        bv_reg <= 1'b0;
end

// ---- dequantize the lane: shift, round, saturate ---------------------------------

wire signed [7:0] mant = bm_reg[8*lane_reg +: 8];
wire [NXW-1:0] dsel;
generate
    if (NDX > 1) begin : g_ndx
        wire [LW-1:0] grp = lane_reg >> GSH;
        assign dsel = grp[NXW-1:0];
        wire unused_grp = ^grp;
    end else begin : g_one
        assign dsel = 1'b0;
    end
endgenerate
wire [3:0] dexp = bd_reg[4*dsel +: 4];

// e = EOFF + dexp; left shifts clamped to 32 (any nonzero mantissa saturates
// by then), right shifts to 15 (an int8 rounds to 0 from 9 on)
wire signed [31:0] e_new = EOFF + $signed({28'd0, dexp});
wire signed [31:0] e_neg = -e_new;
wire sh_left = e_new >= 0;
wire [5:0] sh_lamt = (e_new > 32) ? 6'd32 : (e_new < 0 ? 6'd0 : e_new[5:0]);
wire [3:0] sh_ramt = (e_new >= 0) ? 4'd0 : ((e_neg > 15) ? 4'd14 : e_neg[3:0] - 4'd1);
wire unused_e = ^{e_new[31:6], e_neg[31:4]};

wire [31:0] result;

${SHIFT_MODULE} u_shift (
    .mant(mant),
    .sh_left(sh_left),
    .sh_lamt(sh_lamt),
    .sh_ramt(sh_ramt),
    .result(result)
);

// ---- output register ---------------------------------------------------------------

assign m_x_valid = m_valid_reg;
assign m_x_data = m_data_reg;
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
