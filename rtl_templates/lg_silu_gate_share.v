`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: SwiGLU gate, y = silu(h1) * h3 element by element (Q16),
// mul_share form: one 16x16 multiplier (one SB_MAC16) for everything.
//
// Why: the iCE40 UP5K has 8 DSPs for the whole decoder; the streaming form
// (lg_silu_gate.v) spends 9 on one element per cycle, far more rate than the
// mat-vec feeding it delivers. This form runs each element through a
// sequence of 16x16 unsigned products on one multiplier and one 33-bit
// accumulator that only adds (products; the rounding constants are preset):
//   |h1|           h1' = h1 ^ s1 (s1 = [h1 < 0], one's complement, the XOR in
//                  a1's input multiplexer) plus s1, through the multiplier:
//                  h1'lo * 1 + s1, then h1'hi * 0xffff and h1'hi * 1 (that
//                  is, h1'hi * 2^16 in 16-bit operands): no 32-bit adder of
//                  its own, 4 cycles more (one of them puts |h1| into a1)
//   sigmoid(h1)    D * fr, table from ${SIGMOID_MODULE} (T - 1: v - 1 fits
//                  16 bits)
//   |silu|         |h1| in 16-bit chunks times sg (v - 1, or ~(v - 1) =
//                  65536 - v reflected), and times sgc (the + 1 of v = (v -
//                  1) + 1: no adder for it)
//   |y|            |silu| x |h3|: four chunk products and two of the
//                  h3 sign (below)
// Signs are handled in sign-magnitude: for a product p = +-b (b >= 0),
// round(p, 16) = +-floor((b + 2^15 - [p < 0]) / 2^16), so each magnitude
// starts from the rounding constant 2^15 or 2^15 - 1, low chunks first, and
// the accumulator shifts right by 16 (arithmetically) between chunk weights.
// h3 is read as h3' = h3 ^ s3 (s3 = [h3 < 0]) with |h3| = h3' + s3: the
// + s3 as two more products |silu|lo * s3 and |silu|hi * s3 (no adder).
// |y| - n comes out instead of |y| (n = [y < 0]: the constant of the last
// magnitude is 2^15 - n - n * 2^16, two's complement), so -|y| = ~(|y| - 1)
// is a plain inversion: no output adder. The result stays in the accumulator
// and, its low half, in a1[15:0] (|silu|lo is done with by then: no copy
// register), saturated in place by one more step (synchronous sets and
// resets: no output multiplexer), until it is taken; the next element
// starts at that edge at the earliest. m_data = w ^ n is one XOR per bit
// from registers, which the consumer's input multiplexer absorbs (a
// saturation function in front of it cost the decoder a LUT per bit).
//
// C twin: lg_ref_silu_gate (src/ref_silu.c), bit-exact:
//   sg = sigmoid(h1); silu = round(h1 * sg, 16); y = sat32(round(silu * h3, 16))
// (round half up: floor(v / 2^16) + bit 15 of v; sat32 symmetric).
//
// Latency / throughput (no stalls): an element starts on an edge where both
// inputs are valid (and the previous output is gone or going); its inputs
// are taken on the 19th edge after that, its result is on m_* from the 20th
// and taken on the 21st at the earliest (LG_SILU_SHARE_ELEM = 21;
// LG_SILU_SHARE_LAT = 2 edges after the inputs' handshake), where the next
// element can start: one element per 21 cycles while m_ready stays high.
//
// Handshakes: s_h1, s_h3 and m are valid/ready streams (a transfer on a clock
// edge with valid and ready high; valid stays high and data stable until
// ready). The unit reads its inputs in place while it works on them (no
// input register for h3) and takes both, joined, on the same edge, at the
// end of step Y3 (ready is high in that step only; both valids are high
// then). An element starts only while the previous output is gone or being
// taken (m_valid low or m_ready high): the start writes a1 and n and the
// steps acc, m_data's sources.

module ${MODULE} #(
    // $readmemh image of the sigmoid table
    parameter SIGMOID_FILE = "${SIGMOID_FILE}"
) (
    input  wire        clk,
    input  wire        rst,

    // ---- input: h1 (gate, Q16) ------------------------------------------
    input  wire        s_h1_valid,
    output wire        s_h1_ready,
    input  wire [31:0] s_h1_data,

    // ---- input: h3 (up projection, Q16) ---------------------------------
    input  wire        s_h3_valid,
    output wire        s_h3_ready,
    input  wire [31:0] s_h3_data,

    // ---- output: silu(h1) * h3 (Q16) ------------------------------------
    output reg         m_valid,
    input  wire        m_ready,
    output reg  [31:0] m_data
);

// ---- sequence steps ---------------------------------------------------------
localparam [4:0] S_IN  = 5'd0;  // idle: both inputs valid starts the element
                                 // (a1 = h1', acc = 2^15 - 1, sg = 0xffff, c = 1)
localparam [4:0] S_A0  = 5'd1;  // acc = (acc >> 16 = 0) + h1'lo * c + s1
localparam [4:0] S_A1  = 5'd2;  // acc += h1'hi * sg              (sg = 0xffff)
localparam [4:0] S_A1C = 5'd3;  // acc += h1'hi * c = |h1|
localparam [4:0] S_CPA = 5'd4;  // a1 = acc = |h1|
localparam [4:0] S_SMP = 5'd5;  // the table stage reads T[i+1] (ce)
//                     5'd6        SG0: the table stage reads T[i]
localparam [4:0] S_LD  = 5'd7;  // sg = D (the table stage's step)
localparam [4:0] S_SG  = 5'd8;  // sg = sigmoid(h1) - sgc (interpolation product)
localparam [4:0] S_U0  = 5'd9;  // acc = 2^15 - n1 + |h1|lo * sg
localparam [4:0] S_UC0 = 5'd10; // acc += |h1|lo * c              (c = sgc)
localparam [4:0] S_U1  = 5'd11; // acc = (acc >> 16) + |h1|hi * sg
localparam [4:0] S_UC1 = 5'd12; // acc += |h1|hi * c = |silu|
localparam [4:0] S_CP  = 5'd13; // a1 = acc = |silu|; c = s3
localparam [4:0] S_Y0  = 5'd14; // acc = 2^15 - n - n * 2^16 + |silu|lo * h3'lo
localparam [4:0] S_Y0C = 5'd15; // acc += |silu|lo * c
localparam [4:0] S_Y1  = 5'd16; // acc = (acc >> 16) + |silu|lo * h3'hi
localparam [4:0] S_Y2  = 5'd17; // acc += |silu|hi * h3'lo
localparam [4:0] S_Y2C = 5'd18; // acc += |silu|hi * c
localparam [4:0] S_Y3  = 5'd19; // acc = (acc >> 16) + |silu|hi * h3'hi; a1[15:0] = acc[15:0];
                                 // the inputs' handshake
localparam [4:0] S_ST  = 5'd20; // w = |y| - n = {acc[15:0], a1[15:0]} saturated in place;
                                 // m_valid: y = w ^ n out

reg [4:0] st;

// An element starts when both inputs are valid and the previous output is
// gone (or goes at the same edge): a1[15:0], acc and n, m_data's sources,
// are then free. The inputs are read where they are (valid inputs hold
// their data until the handshake: no register for h3) and taken, joined,
// at the end of step Y3, the last to read h3.
wire out_free = !m_valid || m_ready;
wire start = st == S_IN && out_free && s_h1_valid && s_h3_valid;
assign s_h1_ready = st == S_Y3;
assign s_h3_ready = st == S_Y3;

// Sign and magnitude of h1 (|-2^31| = 2^31 still fits 32 bits): a1 takes
// h1' = h1 ^ s1 (|h1| - s1, the XOR in a1's input multiplexer) and steps
// A0-A1C add s1 back on the accumulator (where a separate |x| = (x - s) ^ s
// cost a carry chain of 32 LUTs). h3 stays two's complement: |h3| = h3' +
// s3 with h3' = h3 ^ s3 (every bit; the XOR in the multiplier's operand
// multiplexer) and the + s3 as two more products, |silu|lo * s3 and
// |silu|hi * s3 (steps Y0C, Y2C).
wire [31:0] h1_x = s_h1_data ^ {32{s_h1_data[31]}};
wire [31:0] h3_x = s_h3_data ^ {32{s_h3_data[31]}};

reg [31:0] a1;  // h1', from step CPA |h1|, after CP |silu|, after Y3 a1[15:0] = (|y| - n)[15:0]
reg        z;   // the sigmoid is 0 (h1 <= -16): the h3' products are 0
reg        n1;  // h1 < 0: silu < 0 (or 0)
reg        n;   // the sign of silu * h3 (h1 < 0 xor h3 < 0)
wire        y_sat;    // |y| >= 2^31 (output, below)
reg  [32:0] acc;      // the accumulator
wire [32:0] acc_next; // its next value (below)
always @(posedge clk) begin
    if (start) begin
        a1 <= h1_x;
        n1 <= s_h1_data[31];
        n <= s_h1_data[31] ^ s_h3_data[31];
    end
    if (st == S_CPA || st == S_CP)
        a1 <= acc[31:0]; // |h1|; at CP |h1| is done with: |silu| (<= 2^31)
    if (st == S_Y3)      // |silu|lo is done with (Y0, Y1): the output's low
        a1[15:0] <= acc[15:0]; // half, saved before the last shift
    if (st == S_ST && y_sat)
        a1[15:0] <= {15'h7fff, !n}; // w[15:0] of w = 2^31 - 1 - n
end

// ---- sigmoid table stage --------------------------------------------------------
// It reads T[i+1] (ce) and T[i] on the edges ending steps SMP and SG0, from
// a1 = |h1|, which holds from step CPA until step CP; step LD takes its D into sg (m_d is
// valid in that step only), step SG uses m_t, m_fr and m_sat (from a1; m_neg
// is n1).
wire [15:0] sg_t;
wire [15:0] sg_d;
wire [10:0] sg_fr;
wire        sg_neg;
wire        sg_sat;

${SIGMOID_MODULE} #(
    .LUT_FILE(SIGMOID_FILE)
) sigmoid_i (
    .clk(clk),
    .ce(st == S_SMP),
    .s_abs(a1),
    .s_neg(n1),
    .m_t(sg_t),
    .m_d(sg_d),
    .m_fr(sg_fr),
    .m_neg(sg_neg),
    .m_sat(sg_sat)
);

// ---- the shared multiplier ------------------------------------------------------
reg [15:0] sg;  // 0xffff (steps A1), D (step LD), then sigmoid(h1) = sg + sgc, 0 .. 65536
reg        c;   // 1 in the A steps, v = (v - 1) + 1 (sgc, h1 >= 0; a
                // reflected sigmoid has none) in the U steps, s3 (h3 < 0)
                // in the Y steps

// mul_a: a1's halves (SG: a1[10:0] = fr, the rest masked) * D (sg).
// mul_b: sg (A1, SG, U0, U1), a half of h3' (Y0-Y3; 0 for z) or the 1-bit
// c (A0, A1C, UC0, UC1, Y0C, Y2C): one LUT per bit for the half and its
// XOR, one for the choice.
wire a_hi = st == S_A1 || st == S_A1C || st == S_U1 || st == S_UC1 || st == S_Y2 ||
            st == S_Y2C || st == S_Y3;
wire a_mk = st == S_SG;
wire b_hi = st == S_Y1 || st == S_Y3;
wire b_h3 = (st == S_Y0 || st == S_Y1 || st == S_Y2 || st == S_Y3) && !z;
wire b_sg = st == S_A1 || st == S_SG || st == S_U0 || st == S_U1;
wire b_c  = st == S_A0 || st == S_A1C || st == S_UC0 || st == S_UC1 || st == S_Y0C ||
            st == S_Y2C;
wire [15:0] mul_a = {(a_hi ? a1[31:27] : a1[15:11]) & {5{!a_mk}},
                     a_hi ? a1[26:16] : a1[10:0]};
wire [15:0] h3_h = b_hi ? h3_x[31:16] : h3_x[15:0];
wire [15:0] mul_b = (sg & {16{b_sg}}) | (h3_h & {16{b_h3}}) | {15'd0, c && b_c};

wire [31:0] mul_p = mul_a * mul_b;

// ---- sigmoid: v = T + ((D * fr + 1024) >> 11), reflected for h1 < 0 ---------------
// sg_u = v - 1 (the table holds T - 1; 16 bits as v <= 65536). The sigmoid
// is sg + sgc: v = (v - 1) + 1 (sgc = 1), reflected 65536 - v = ~(v - 1)
// (sgc = 0), two more products (no adder). |h1| >= 16 (sg_sat): v = 65536,
// as v - 1 = 0xffff (a synchronous set); reflected, the sigmoid is 0: z
// zeroes the h3 products instead (y = 0). sg holds D before (step LD: the
// multiplier's b operand has one source less), and 0xffff for step A1 (the
// same synchronous set, at the start).
wire [15:0] sg_u = sg_t + mul_p[26:11] + {15'd0, mul_p[10]};
always @(posedge clk) begin
    if ((st == S_SG && sg_sat) || start)
        sg <= 16'hffff;
    else if (st == S_LD || st == S_SG)
        sg <= st == S_LD ? sg_d : sg_u ^ {16{sg_neg}};
    if (start)
        c <= 1'b1;
    if (st == S_SG) begin
        c <= !sg_neg;
        z <= sg_sat && sg_neg;
    end
    if (st == S_CP)
        c <= s_h3_data[31] && !z;
end


// ---- accumulator (magnitudes; |y| - n >= -1 in the Y steps) ---------------------------
// In the Y steps acc is a two's complement value (33 bits hold it: the sums
// stay below 2^32 as |silu| <= 2^31 and h3' <= 2^31 - 1).
// The rounding constants are 2^15 - 1 plus the carry in (!n1 in U0, !n in Y0):
// 2^15 - 1 is preset in step SG (no input multiplexer), the Y0 constant is
// 2^15 - 1 - n * 2^16. Step A0 adds s1 = n1 to h1'lo on a zero base: acc
// is preset to 2^15 - 1 at the start too, and A0 shifts it out.
wire acc_sh = st == S_A0 || st == S_U1 || st == S_Y1 || st == S_Y3; // the next weight
wire [32:0] base = st == S_Y0 ? {{17{n}}, 1'b0, 15'h7fff}
                 : acc_sh ? {{16{acc[32]}}, acc[32:16]} : acc;
wire cin = st == S_A0 ? n1 : st == S_U0 ? !n1 : st == S_Y0 && !n;

assign acc_next = base + {1'b0, mul_p} + {32'd0, cin};
// the steps that add: A0-A1C, U0-UC1, Y0-Y3 (decoded as the steps that do
// not: range compares of st map to carry chains of cells of their own)
wire acc_add = !(st == S_IN || st == S_CPA || st == S_SMP || st == S_SMP + 5'd1 || st == S_LD ||
                 st == S_CP || st == S_ST);

// Both presets (the start's 2^15 - 1 and step ST's saturated w[31:16] =
// 0x7fff, see below) set bits 14:0 and clear the rest: one synchronous
// set/reset net and one enable for all 33 flip-flops (bits 32:16 are not
// read after ST). With ST's preset on bits 15:0 alone, bits 15 and 16 had
// different set/reset nets, and nextpnr cut the carry chain there: about
// 4 ns on the gate's longest path (docs/fpga.md, "Carry-chain
// legalisation").
always @(posedge clk) begin
    if (st == S_SG || start || (st == S_ST && y_sat))
        acc <= {18'd0, 15'h7fff};
    else if (acc_add)
        acc <= acc_next;
end

// ---- output: w = |y| - n = {acc, a1[15:0]} (acc = w >> 16), sat32, sign -----------------
// |y| >= 2^31 saturates: w >= 2^31, or w = 2^31 - 1 with n (y = -2^31). Step
// ST writes the saturated w = 2^31 - 1 - n over it in place (synchronous sets
// and resets of acc and a1, no multiplexer), so y = w ^ n (-|y| = ~(|y| - 1)):
// an XOR per bit, which the consumer's input multiplexer absorbs.
wire [31:0] w = {acc[15:0], a1[15:0]};
assign      y_sat = (!acc[32] && |acc[31:15]) ||           // w >= 2^31
                    (acc[32:15] == 18'd0 && &w[30:0] && n); // w = 2^31 - 1, y < 0

always @(*)
    m_data = w ^ {32{n}};

// ---- sequencer -------------------------------------------------------------------------
always @(posedge clk) begin
    if (st == S_IN) begin
        if (start)
            st <= S_A0;
    end else if (st == S_ST) begin
        st <= S_IN;
    end else begin
        st <= st + 5'd1;
    end
    if (st == S_ST)
        m_valid <= 1'b1; // the previous output is gone (start waited for it)
    else if (m_ready)
        m_valid <= 1'b0;
    if (rst) begin
        st <= S_IN;
        m_valid <= 1'b0;
    end
end

// D * fr < 2^27 (D_W + 11 bits <= 27): the top product bits are 0 while
// interpolating; fr is read as a1[10:0] (mul_a).
wire unused_ok = &{1'b0, mul_p[31:27], sg_fr};

endmodule

`resetall
