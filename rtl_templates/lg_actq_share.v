`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: activation quantizer, Q16 -> A16, lean form (template
 * rtl_templates/lg_actq_share.v, emitted by lg_emit_actq instead of
 * lg_actq.v when the configuration has mul_share (--mul-share); C twin
 * lg_ref_actq in src/ref_actq.c). Same module, parameters, ports, numerics
 * and handshake as the one-cycle form; pass 2 is serial.
 *
 * What is smaller than lg_actq.v: pass 1 is the same (max |x| as the OR of
 * the magnitudes over bits 31..15, |x| there as (x[31:15] - borrow) ^ sgn,
 * a parallel leading-one detector). Pass 2 replaces the 17-bit-window
 * barrel shifter (about 134 LUTs) by two serial shift registers of one LUT
 * a bit (a_reg, 33 bits, 4 bits a step; b_reg, 20 bits, 1 bit a step), and
 * b_reg is also the output register (the rounding adder drives m_a_data;
 * no separate output or pipeline registers). The clamp is folded into the
 * rounding bit as one "t[16] != t[15] and t[15:0] uniform" term (iCE40,
 * COLS 64 / COLS2 172, VL 1, yosys 0.23: 240 -> 178 SB_LUT4, 72 -> 93 FFs,
 * estimated LC 248 -> 185).
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
 * Latency and throughput: one input beat per cycle, then one output beat
 * every PER = 5 cycles (a transfer phase and four shift phases). The first
 * output is valid 12 cycles after the handshake of the last input (the
 * first read; the transfer into a_reg; its period in a_reg; the transfer
 * into b_reg; its period in b_reg). With no stalls the last output
 * handshake comes 6 * NBT + 6 cycles after the first input handshake
 * (NBT - 1 input cycles, 12, then 5 * (NBT - 1)), and the next vector's
 * first input can be taken the cycle after it. Backpressure delays the
 * transfer phase (the output waits there) and so the whole pipeline.
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
// a buffer read is issued (pass 2: see ph_reg below)
wire rd_issue;
wire rd_en;
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
            if (rd_en)
                rd_reg <= mem[idx_reg];
        end
    end else begin : g_word
        reg [VL*32-1:0] word;

        always @(posedge clk) begin
            if (x_fire)
                word <= s_x_data;
        end

        always @(posedge clk) begin
            if (rd_en)
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

// ---- pass 2: serial shift, two stages of one LUT a bit -----------------------

// t = 2x >>> s (s = 4 q + r, q = s[4:2] in 0..4, r = s[1:0] in 0..3) in two
// pipeline stages of PER = 5 cycles a beat: a_reg takes 2x from the buffer's
// registered read and shifts it by 4 in q of its PER - 1 = 4 shift phases,
// b_reg takes its low 20 bits and shifts them by 1 in r of its phases (the
// window of t is b_reg[16:0] then: 20 = 17 + 3 bits suffice). A shift
// register loads or shifts (one LUT a bit); holding is the FF's enable.
//
// ph_reg: 0 is the transfer phase (buffer read -> a_reg -> b_reg, all at
// once, when b_reg's element, the output, is invalid or being taken: it
// waits there otherwise), then shift phases 1..4; the next buffer read is
// issued in phase 4. In pass 1 ph_reg rests at 4, so pass 2 starts with the
// first read. s_reg is final from the cycle after the last input (the first
// transfer), before the first shift.
localparam [2:0] PH_LAST = 3'd4;
reg [2:0] ph_reg;
wire ph0 = ph_reg == 3'd0;
wire xfer = !load_reg && ph0 && adv;
assign rd_issue = !load_reg && rd_left_reg && ph_reg == PH_LAST;
assign rd_en = rd_issue;

always @(posedge clk) begin
    if (load_reg)
        ph_reg <= PH_LAST;
    else if (ph0)
        ph_reg <= adv ? 3'd1 : 3'd0;
    else
        // ph + 1 as gates: yosys maps the add to a carry chain whose start
        // needs a feed-in cell of its own
        ph_reg <= ph_reg == PH_LAST ? 3'd0
                : {ph_reg[2] ^ (ph_reg[1] & ph_reg[0]), ph_reg[1] ^ ph_reg[0], !ph_reg[0]};
    if (rst)
        ph_reg <= PH_LAST;
end

// shift enables: stage a in phases 1..q, stage b in phases 1..r
// (a <= b as gates: yosys maps a compare to a carry chain, whose cells
// hold nothing else)
function le3(input [2:0] a, input [2:0] b);
    le3 = !((a[2] & ~b[2]) | (~(~a[2] & b[2]) &
            ((a[1] & ~b[1]) | (~(~a[1] & b[1]) & a[0] & ~b[0]))));
endfunction
wire a_sh = !ph0 && le3(ph_reg, s_reg[4:2]);
wire b_sh = !ph0 && le3(ph_reg, {1'b0, s_reg[1:0]});

// stage valid flags: a read issued in phase 4 is taken at the next transfer
// (rd_pend); b_reg holds the last element when no read followed it
reg rd_pend_reg;
reg a_valid_reg, b_valid_reg, b_last_reg;

always @(posedge clk) begin
    if (rd_issue)
        rd_pend_reg <= 1'b1;
    else if (xfer)
        rd_pend_reg <= 1'b0;
    if (xfer) begin
        a_valid_reg <= rd_pend_reg;
        b_valid_reg <= a_valid_reg;
        b_last_reg <= !rd_pend_reg;
    end
    if (rst) begin
        rd_pend_reg <= 1'b0;
        a_valid_reg <= 1'b0;
        b_valid_reg <= 1'b0;
    end
end

wire [VL*16-1:0] result;

genvar g;
generate
    for (g = 0; g < VL; g = g + 1) begin : g_lane
        reg [32:0] a_reg;
        reg [19:0] b_reg;

        always @(posedge clk) begin
            if (xfer || a_sh)
                a_reg <= ph0 ? {rd_reg[32*g +: 32], 1'b0} : {{4{a_reg[32]}}, a_reg[32:4]};
            if (xfer || b_sh)
                b_reg <= ph0 ? a_reg[19:0] : {b_reg[19], b_reg[19:1]};
        end

        // round half up and clamp (as the one-cycle form): (t >>> 1) + t[0]
        // = floor(x / 2^s) + bit s-1, in [-32768, 32768]; the two ends come
        // from t = 2^16 - 1 (the rounding bit is dropped: 32767) and
        // t = -2^16 (one is added instead: -32767)
        wire [16:0] t = b_reg[16:0];
        wire rbit = t[0] ^ (t[16] != t[15] && t[15:0] == {16{t[15]}});
        assign result[16*g +: 16] = t[16:1] + {15'd0, rbit};
        wire unused_b = &{1'b0, b_reg[19:17]};
    end
endgenerate

// ---- output: b_reg, rounded -----------------------------------------------------

// b_reg is the output register: its element is valid in the transfer phase
// and stays there (ph_reg waits at 0) until it is taken; the transfer that
// takes it loads the next one. No path from an input to an output.
assign adv = m_a_ready || !b_valid_reg;
assign m_a_valid = ph0 && b_valid_reg;
assign m_a_data = result;
assign m_a_last = b_last_reg;
assign m_a_shift = s_reg;

endmodule

`resetall
