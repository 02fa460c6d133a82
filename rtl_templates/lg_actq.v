`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: activation quantizer, Q16 -> A16 (template
 * rtl_templates/lg_actq.v, C twin lg_ref_actq in src/ref_actq.c).
 *
 * Small on purpose (it is in every vector's path and, in the attention, in
 * every head's): max |x| is tracked as the OR of the magnitudes (the shift
 * only needs bitlen(max), and bitlen(max) = bitlen(OR), so no magnitude
 * comparators), and only over bits 31..15 (s depends on no others), |x|
 * there is (x[31:15] - borrow) ^ sgn (one LUT and one carry per bit); the
 * rounding shifter keeps a 17-bit window, which is all a mantissa can
 * occupy once s is known, shifting 2x by s (no s = 0 special case), and
 * the clamp is folded into the rounding bit; the buffer is read only in
 * pass 2 (no read-first emulation) and the output is one register with a
 * pipeline enable, not a skid buffer (iCE40, COLS 64 / COLS2 172, VL 1:
 * 592 -> 403 -> 240 SB_LUT4, 136 -> 59 -> 37 carries, 180 -> 72 FFs).
 *
 * Why: the mat-vec engine multiplies int16 mantissas, so every Q16 vector
 * entering a mat-vec is turned into block floating point with one shift s
 * for the whole vector. s depends on the largest magnitude, which is only
 * known after the last element, hence two passes over a local buffer.
 *
 * Numerics (bit-exact with the C twin):
 *  pass 1: maxabs = max |x[i]| (x = -2^31 gives 2^31; Q16 vectors are
 *          symmetric-saturated so it does not occur in the decoder, but the
 *          C twin defines it and so does this unit);
 *          s = max(0, bitlen(maxabs) - 15) by a leading-one detector (0..17);
 *  pass 2: m[i] = clamp(round_shift(x[i], s), -32767, 32767), round half up
 *          ((x >>> s) + bit s-1), clamped because rounding can reach 32768.
 * No divider, no multiplier.
 *
 * Parameters: COLS (vector length, >= 2), VL (elements per beat, >= 1;
 * default 1), COLS2 (0, the default, or a second vector length >= 2).
 *
 * Two lengths (COLS2 > 0): each vector is COLS long, or COLS2 long when
 * s_x_sel is high with its first beat (s_x_sel is sampled there only), and
 * the buffer holds the longer. So one quantizer serves the decoder's dim
 * vectors and its hidden (W2) vector, which never overlap in time. A vector is NBT = ceil(COLS / VL) beats; element b*VL + i is
 * lane i of beat b (bits [32*i +: 32] in, [16*i +: 16] out); lanes past COLS
 * in the last beat are ignored on input (they take no part in max |x|) and
 * undefined on output. VL > 1 lets a vector cross in NBT cycles each way
 * (the decoder feeds the mat-vec activation buffer LANES-wide: one element
 * per cycle cost as much as a short mat-vec run); the buffer is one RAM of
 * VL * 32-bit words.
 *
 * Handshake contract:
 *  - s_x: valid/ready, NBT beats per vector (of the vector's length). s_x_ready is high while
 *    the unit is loading a vector (from reset, and again after the last
 *    output of the previous vector has been taken).
 *  - m_a: valid/ready, NBT beats of mantissas in input order, m_a_last on
 *    the last one; m_a_shift (s) is valid with every beat and constant over
 *    the vector. A registered output: valid stays high and data stable
 *    until ready; backpressure stalls the read pipeline without loss
 *    (m_a_ready enables it combinationally; no path from an input to an
 *    output).
 *  - The next vector is accepted only after the current one has left (one
 *    buffer, no overlap of pass 1 and pass 2).
 *
 * Latency and throughput: one input beat per cycle, then one output beat per
 * cycle. The first output is valid 4 cycles after the handshake of the last
 * input (shift decode overlaps the first buffer read; then read, shift,
 * round/clamp into the output register). With no stalls the last output
 * handshake comes 2 * NBT + 2 cycles after the first input handshake, and
 * the next vector's first input can be taken the cycle after it.
 */
module ${MODULE} #(
    // vector length (>= 2)
    parameter COLS = ${COLS},
    // elements per beat (>= 1)
    parameter VL = 1,
    // a second vector length (s_x_sel), 0: none
    parameter COLS2 = 0
) (
    input  wire         clk,
    input  wire         rst,

    /*
     * Q16 input stream
     */
    input  wire         s_x_valid,
    output wire         s_x_ready,
    input  wire         s_x_sel,
    input  wire [VL*32-1:0] s_x_data,

    /*
     * A16 output stream
     */
    output wire         m_a_valid,
    input  wire         m_a_ready,
    output wire [VL*16-1:0] m_a_data,
    output wire [4:0]   m_a_shift,
    output wire         m_a_last
);

// ---- derived sizes ------------------------------------------------------------

// beats per vector, valid lanes of the last beat (per length), buffer depth
localparam NBT = (COLS + VL - 1) / VL;
localparam RAG = COLS - (NBT - 1) * VL;
localparam NBT2 = COLS2 > 0 ? (COLS2 + VL - 1) / VL : 1;
localparam RAG2 = COLS2 > 0 ? COLS2 - (NBT2 - 1) * VL : VL;
localparam NBMAX = NBT > NBT2 ? NBT : NBT2;
localparam AW = (NBMAX > 1) ? $clog2(NBMAX) : 1;
localparam [31:0] NBT_M1 = NBT - 1;
localparam [AW-1:0] IDX_LAST = NBT_M1[AW-1:0];
localparam [31:0] NBT2_M1 = NBT2 - 1;
localparam [AW-1:0] IDX_LAST2 = NBT2_M1[AW-1:0];

// bad parameter combinations are rejected at elaboration
initial begin
    if (COLS < 2 || VL < 1 || COLS2 < 0 || COLS2 == 1) begin
        $error("Error: COLS must be >= 2, COLS2 0 or >= 2 and VL >= 1 (instance %m)");
        $finish;
    end
end

// ---- control ------------------------------------------------------------------

// pipeline advance: the output register is free or being taken (pass 2)
wire adv;

// load_reg: pass 1 (accepting input); otherwise pass 2 (reading out)
reg load_reg;
// pass 2: reads still to issue
reg rd_left_reg;
// input write index in pass 1, buffer read index in pass 2
reg [AW-1:0] idx_reg;

assign s_x_ready = load_reg;
wire x_fire = s_x_valid && s_x_ready;
// the vector's length: s_x_sel with its first beat, held in sel_reg
reg sel_reg;
wire first_in = load_reg && idx_reg == {AW{1'b0}};
wire sel = COLS2 > 0 && (first_in ? s_x_sel : sel_reg);
wire idx_last = sel ? idx_reg == IDX_LAST2 : idx_reg == IDX_LAST;

always @(posedge clk) begin
    if (x_fire && first_in)
        sel_reg <= sel;
    if (rst)
        sel_reg <= 1'b0;
end
wire rd_issue = !load_reg && rd_left_reg && adv;
wire out_fire_last = m_a_valid && m_a_ready && m_a_last;

always @(posedge clk) begin
    if (x_fire && idx_last)
        load_reg <= 1'b0;
    else if (out_fire_last)
        load_reg <= 1'b1;
    if (rst)
        load_reg <= 1'b1;
end

always @(posedge clk) begin
    if (x_fire && idx_last)
        rd_left_reg <= 1'b1;
    else if (rd_issue && idx_last)
        rd_left_reg <= 1'b0;
    if (rst)
        rd_left_reg <= 1'b0;
end

// one index serves both passes: it wraps to 0 after the last input and
// after the last read
always @(posedge clk) begin
    if (x_fire || rd_issue)
        idx_reg <= idx_last ? {AW{1'b0}} : idx_reg + 1'b1;
    if (rst)
        idx_reg <= {AW{1'b0}};
end

// ---- pass 1: buffer and max |x| ---------------------------------------------

// (NBT or NBT2, VL) Q16 inputs: a RAM, or a plain register when a vector
// is one beat (the attention's query at VL >= head_size), which tools would
// otherwise map as a one-word memory in flip-flops
reg [VL*32-1:0] rd_reg; // pass 2, stage 1 (below)

generate
    if (NBMAX > 1) begin : g_ram
        reg [VL*32-1:0] mem [0:NBMAX-1];

        always @(posedge clk) begin
            if (x_fire)
                mem[idx_reg] <= s_x_data;
        end

        // read only in pass 2 (writes only in pass 1): a read never meets a
        // write, so the RAM needs no read-first emulation (tools see the
        // enables exclusive: no attribute needed)
        always @(posedge clk) begin
            if (adv && !load_reg)
                rd_reg <= mem[idx_reg];
        end
    end else begin : g_word
        reg [VL*32-1:0] word;

        always @(posedge clk) begin
            if (x_fire)
                word <= s_x_data;
        end

        always @(posedge clk) begin
            if (adv)
                rd_reg <= word;
        end
    end
endgenerate

// s = max(0, bitlen(max |x|) - 15) only depends on bits 31..15 of max |x|,
// so only those are kept: |x|[31:15] = x[31:15] for x >= 0, and
// ~((x - 1)[31:15]) = (x[31:15] - (x[14:0] == 0)) ^ ones for x < 0
// (|-2^31| = 2^31 is bit 16 here). Lanes past COLS in the last beat count
// as 0.
reg [16:0] x_abs;
reg [16:0] lane_abs;
reg lane_sgn;
integer ln;
always @* begin
    x_abs = 17'd0;
    for (ln = 0; ln < VL; ln = ln + 1) begin
        lane_sgn = s_x_data[32*ln + 31];
        lane_abs = (s_x_data[32*ln + 15 +: 17] +
                    {17{lane_sgn && s_x_data[32*ln +: 15] == 15'd0}}) ^ {17{lane_sgn}};
        // bitlen(max) = bitlen(OR): no magnitude comparators
        if ((sel ? ln < RAG2 : ln < RAG) || !idx_last)
            x_abs = x_abs | lane_abs;
    end
end
reg [16:0] maxabs_reg;

// the first input of a vector restarts the maximum
always @(posedge clk) begin
    if (x_fire) begin
        maxabs_reg <= idx_reg == {AW{1'b0}} ? x_abs : maxabs_reg | x_abs;
    end
end

// leading-one detect: s = 0 for max |x| < 2^15, else 1 + the index of the
// top set bit of maxabs_reg (bit 31 - 15 = 16: s = 17). Registered every
// cycle; maxabs is frozen during pass 2, so s is stable from the cycle after
// the last input (when the first read is issued).
reg [4:0] s_new;
integer k;
always @* begin
    s_new = 5'd0;
    for (k = 0; k < 17; k = k + 1) begin
        if (maxabs_reg[k])
            s_new = k[4:0] + 5'd1;
    end
end

reg [4:0] s_reg;

always @(posedge clk) begin
    s_reg <= s_new;
end

// ---- pass 2, stage 1: buffer read ------------------------------------------------

// rd_reg: the buffer's registered read (g_ram / g_word above)
reg rd_valid_reg;
reg rd_last_reg;

always @(posedge clk) begin
    if (adv) begin
        rd_valid_reg <= rd_issue;
        rd_last_reg <= idx_last;
    end
    if (rst)
        rd_valid_reg <= 1'b0;
end

// ---- pass 2, stage 2: t = 2x >>> s -------------------------------------------------

reg [VL*17-1:0] t_reg;
reg t_valid_reg;
reg t_last_reg;

wire [VL*16-1:0] result;

genvar g;
generate
    for (g = 0; g < VL; g = g + 1) begin : g_lane
        // t = 2x >>> s, i.e. x >>> (s - 1) for s > 0 and 2x for s = 0 (then
        // the rounding below adds t[0] = 0). |x| < 2^(15+s) for every element
        // (s comes from their maximum), so t is in [-2^16, 2^16): a 17-bit
        // window suffices
        wire signed [32:0] x2 = {rd_reg[32*g +: 32], 1'b0};
        wire signed [32:0] sh = x2 >>> s_reg;
        always @(posedge clk) begin
            if (adv)
                t_reg[17*g +: 17] <= sh[16:0];
        end

        // stage 3: (t >>> 1) + t[0] = floor(x / 2^s) + bit s-1, in
        // [-32768, 32768], clamped to -32767, 32767. The two ends come from
        // t = 2^16 - 1 (the rounding bit is dropped: 32767) and t = -2^16
        // (one is added instead: -32767), so the clamp is the rounding bit
        wire [16:0] t = t_reg[17*g +: 17];
        wire t_top = !t[16] && t[15:0] == 16'hffff;
        wire t_bot = t[16] && t[15:0] == 16'h0000;
        wire rbit = (t[0] && !t_top) || t_bot;
        assign result[16*g +: 16] = t[16:1] + {15'd0, rbit};
        // bits above the window are copies of its sign bit
        wire unused_sh = &{1'b0, sh[32:17]};
    end
endgenerate

always @(posedge clk) begin
    if (adv) begin
        t_valid_reg <= rd_valid_reg;
        t_last_reg <= rd_last_reg;
    end
    if (rst)
        t_valid_reg <= 1'b0;
end

// (pass 2, stage 3, round half up and clamp into the output register: g_lane)

// ---- output register ----------------------------------------------------------

// The pipeline (buffer read, shift, output register) moves whenever the
// output register is free or being taken. It stays full behind a stalled
// output, so every output still follows the previous handshake by one cycle
// (the cycles of the skid-buffered form this replaced, without its parked
// copy of the data).
reg m_valid_reg;
reg [VL*16-1:0] m_data_reg;
reg m_last_reg;

assign adv = m_a_ready || !m_valid_reg;
assign m_a_valid = m_valid_reg;
assign m_a_data = m_data_reg;
assign m_a_last = m_last_reg;
assign m_a_shift = s_reg;

always @(posedge clk) begin
    if (adv) begin
        m_valid_reg <= t_valid_reg;
        m_data_reg <= result;
        m_last_reg <= t_last_reg;
    end
    if (rst)
        m_valid_reg <= 1'b0;
end

endmodule

`resetall
