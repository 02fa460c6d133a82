`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: token embedding lookup, I8E row -> Q16 stream (template
 * rtl_templates/lg_embed.v, C twin lg_ref_embed in src/ref_matvec.c; image
 * writer lg_emit_embed_hex in src/emit_wmem.c).
 *
 * Why: the embedding is the one random access into the weights (one row per
 * token), so it has its own ROM instead of riding on the weight stream.
 *
 * ROM image (INIT_FILE, one byte per word): row t starts at word
 * t * (DIM + NG); inside a row each group g (GROUP inputs, the last one may
 * be ragged) is one word holding its dexp (0..15, upper 4 bits zero)
 * followed by the group's int8 mantissas. Reading a row is then one
 * sequential walk of a byte-wide block RAM: the dexps cost 1/GROUP extra
 * bits and one cycle per group, and no second ROM or dexp buffer is needed.
 *
 * Numerics (bit-exact with the C twin):
 *   x[i] = sat32(round_shift(m[i], -(EBASE + dexp[g(i)] + 16)))
 * i.e. a saturating left shift when e = EBASE + dexp + 16 >= 0, otherwise a
 * right shift by -e rounded half up (floor(m / 2^s) + bit s-1 of m).
 *
 * Parameters: VOCAB (rows, >= 2), DIM (row length, >= 2), GROUP (I8E group
 * size, >= 2), EBASE (the matrix's ebase, signed), INIT_FILE.
 *
 * Handshake contract:
 *  - s_tok: valid/ready, a 32-bit token id. s_tok_ready is high while no
 *    row is being read (a register, no combinational path).
 *  - An id >= VOCAB is consumed, sets err_oob and produces no output;
 *    err_oob stays high until the next valid id is accepted (or reset).
 *    The ROM is never addressed with it.
 *  - m_x: valid/ready, DIM signed Q16 values in order, m_x_last on the last.
 *    Valid stays high and data stable until ready; backpressure stalls the
 *    ROM reads without loss (skid buffer, m_x_ready does not reach the ROM).
 *
 * Latency and throughput: the first element is valid 4 cycles after the
 * token handshake (row address, dexp read, mantissa read, output register);
 * then one element per cycle except one bubble per group boundary (the
 * dexp word). Without stalls a row takes DIM + NG - 2 cycles from the first
 * output to the last, and the next token is accepted the cycle after the
 * last output is taken (token handshake to last output handshake:
 * DIM + NG + 2 cycles).
 */
module ${MODULE} #(
    // tokens (rows of the table, >= 2)
    parameter VOCAB = ${VOCAB},
    // row length (model dim, >= 2)
    parameter DIM = ${DIM},
    // I8E group size (inputs sharing one dexp, >= 2)
    parameter GROUP = ${GROUP},
    // the matrix exponent base: weight = m * 2^(EBASE + dexp)
    parameter integer EBASE = ${EBASE},
    // $readmemh image (see above)
    parameter INIT_FILE = "${INIT_FILE}"
) (
    input  wire        clk,
    input  wire        rst,

    /*
     * Token id input
     */
    input  wire        s_tok_valid,
    output wire        s_tok_ready,
    input  wire [31:0] s_tok_data,

    /*
     * Embedding row output (Q16)
     */
    output wire        m_x_valid,
    input  wire        m_x_ready,
    output wire [31:0] m_x_data,
    output wire        m_x_last,

    /*
     * Status
     */
    output wire        err_oob
);

// ---- derived sizes ------------------------------------------------------------

// groups per row and ROM words per row (one dexp word per group)
localparam NG = (DIM + GROUP - 1) / GROUP;
localparam STRIDE = DIM + NG;
localparam DEPTH = VOCAB * STRIDE;
localparam AW = $clog2(DEPTH);
localparam TW = $clog2(VOCAB);
localparam SW = $clog2(STRIDE);
localparam GW = $clog2(GROUP + 1);
// shift of a group: e = EOFF + dexp, dexp in 0..15
localparam integer EOFF = EBASE + 16;

localparam [31:0] VOCAB_U = VOCAB;
localparam [31:0] STRIDE_M1 = STRIDE - 1;
localparam [SW-1:0] WORD_LAST = STRIDE_M1[SW-1:0];
localparam [31:0] GROUP_U = GROUP;
localparam [GW-1:0] GPOS_LAST = GROUP_U[GW-1:0];
localparam [31:0] STRIDE_U = STRIDE;
localparam [AW-1:0] STRIDE_A = STRIDE_U[AW-1:0];

// bad parameter combinations are rejected at elaboration
initial begin
    if (VOCAB < 2 || DIM < 2 || GROUP < 2) begin
        $error("Error: VOCAB, DIM and GROUP must be >= 2 (instance %m)");
        $finish;
    end
    if (EBASE < -200 || EBASE > 200) begin
        $error("Error: EBASE must be in -200..200 (instance %m)");
        $finish;
    end
end

// ---- token intake -------------------------------------------------------------

// pipeline advance: the registered ready of the output skid buffer
wire adv;

reg busy_reg;    // token accepted .. last element taken
reg rd_left_reg; // ROM reads still to issue for the row
reg err_reg;
reg [AW-1:0] addr_reg;
reg [SW-1:0] word_reg; // word within the row
reg [GW-1:0] gpos_reg; // word within the group: 0 = the dexp word

assign s_tok_ready = !busy_reg;
assign err_oob = err_reg;
wire tok_fire = s_tok_valid && !busy_reg;
wire tok_ok = s_tok_data < VOCAB_U;
wire rd_en = rd_left_reg && adv;
wire word_last = word_reg == WORD_LAST;
wire out_fire_last = m_x_valid && m_x_ready && m_x_last;

// row base t * STRIDE; only computed for ids in range (tok_ok), so the ROM
// never sees an address outside the table
wire [TW-1:0] tok_idx = s_tok_data[TW-1:0];
wire [AW-1:0] row_base = tok_idx * STRIDE_A;
wire unused_tok = ^s_tok_data[31:TW];

always @(posedge clk) begin
    if (tok_fire && tok_ok)
        busy_reg <= 1'b1;
    else if (out_fire_last)
        busy_reg <= 1'b0;
    if (rst)
        busy_reg <= 1'b0;
end

always @(posedge clk) begin
    if (tok_fire)
        err_reg <= !tok_ok;
    if (rst)
        err_reg <= 1'b0;
end

always @(posedge clk) begin
    if (tok_fire && tok_ok)
        rd_left_reg <= 1'b1;
    else if (rd_en && word_last)
        rd_left_reg <= 1'b0;
    if (rst)
        rd_left_reg <= 1'b0;
end

// address, word and group-position counters
always @(posedge clk) begin
    if (tok_fire && tok_ok) begin
        addr_reg <= row_base;
        word_reg <= {SW{1'b0}};
        gpos_reg <= {GW{1'b0}};
    end else if (rd_en) begin
        addr_reg <= addr_reg + 1'b1;
        word_reg <= word_reg + 1'b1;
        gpos_reg <= (gpos_reg == GPOS_LAST) ? {GW{1'b0}} : gpos_reg + 1'b1;
    end
end

// ---- stage 1: ROM read ----------------------------------------------------------

reg [7:0] rom [0:DEPTH-1];
initial $readmemh(INIT_FILE, rom);

reg [7:0] q_reg;
reg q_valid_reg; // q holds a word of the row
reg q_dexp_reg;  // ... and it is a dexp word
reg q_last_reg;

always @(posedge clk) begin
    if (rd_en)
        q_reg <= rom[addr_reg];
end

always @(posedge clk) begin
    if (adv) begin
        q_valid_reg <= rd_en;
        q_dexp_reg <= gpos_reg == {GW{1'b0}};
        q_last_reg <= word_last;
    end
    if (rst)
        q_valid_reg <= 1'b0;
end

// ---- the group's shift, decoded when its dexp word passes ------------------------

// e = EOFF + dexp. Left shifts are clamped to 32 (any nonzero mantissa
// saturates by then), right shifts to 15 (an int8 rounds to 0 from 9 on).
wire signed [31:0] e_new = EOFF + $signed({28'd0, q_reg[3:0]});
wire signed [31:0] e_neg = -e_new;
reg sh_left_reg;
reg [5:0] sh_lamt_reg;
reg [3:0] sh_ramt_reg; // right shift amount minus one
wire unused_e = ^{e_new[31:6], e_neg[31:4], q_reg[7:4]};

always @(posedge clk) begin
    if (adv && q_valid_reg && q_dexp_reg) begin
        sh_left_reg <= e_new >= 0;
        sh_lamt_reg <= (e_new > 32) ? 6'd32 : (e_new < 0 ? 6'd0 : e_new[5:0]);
        sh_ramt_reg <= (e_new >= 0) ? 4'd0 : ((e_neg > 15) ? 4'd14 : e_neg[3:0] - 4'd1);
    end
end

// ---- stage 2: shift, round, saturate (into the skid buffer) ----------------------

wire [31:0] result;

${SHIFT_MODULE} u_shift (
    .mant(q_reg),
    .sh_left(sh_left_reg),
    .sh_lamt(sh_lamt_reg),
    .sh_ramt(sh_ramt_reg),
    .result(result)
);

wire in_valid = q_valid_reg && !q_dexp_reg;

// ---- output skid buffer (alexforencich axis_register, SKID mode) -------------

reg s_ready_reg;
reg m_valid_reg;
reg [31:0] m_data_reg;
reg m_last_reg;
reg tmp_valid_reg;
reg [31:0] tmp_data_reg;
reg tmp_last_reg;

assign adv = s_ready_reg;
assign m_x_valid = m_valid_reg;
assign m_x_data = m_data_reg;
assign m_x_last = m_last_reg;

// ready next cycle if the output is taken, or nothing can fill the temp slot
wire s_ready_early = m_x_ready || (!tmp_valid_reg && (!m_valid_reg || !in_valid));

always @(posedge clk) begin
    s_ready_reg <= s_ready_early;
    if (s_ready_reg) begin
        if (m_x_ready || !m_valid_reg) begin
            // output free: the element goes straight to the output register
            m_valid_reg <= in_valid;
            m_data_reg <= result;
            m_last_reg <= q_last_reg;
        end else begin
            // output stalled: park the element in the temp slot
            tmp_valid_reg <= in_valid;
            tmp_data_reg <= result;
            tmp_last_reg <= q_last_reg;
        end
    end else if (m_x_ready) begin
        // reads frozen: drain the temp slot
        m_valid_reg <= tmp_valid_reg;
        m_data_reg <= tmp_data_reg;
        m_last_reg <= tmp_last_reg;
        tmp_valid_reg <= 1'b0;
    end
    if (rst) begin
        s_ready_reg <= 1'b0;
        m_valid_reg <= 1'b0;
        tmp_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
