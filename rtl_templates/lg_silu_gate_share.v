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
//   sigmoid(h1)    D * fr, table from ${SIGMOID_MODULE} (T - 1: v - 1 fits
//                  16 bits)
//   |silu|         |h1| in 16-bit chunks times sg (v - 1, or ~(v - 1) =
//                  65536 - v reflected), and times sgc (the + 1 of v = (v -
//                  1) + 1: no adder for it)
//   |y|            |silu| x |h3|: four chunk products
// Signs are handled in sign-magnitude: for a product p = +-b (b >= 0),
// round(p, 16) = +-floor((b + 2^15 - [p < 0]) / 2^16), so each magnitude
// starts from the rounding constant 2^15 or 2^15 - 1, low chunks first, and
// the accumulator shifts right by 16 (arithmetically) between chunk weights.
// |y| - n comes out instead of |y| (n = [y < 0]: the constant of the last
// magnitude is 2^15 - n - n * 2^16, two's complement), so -|y| = ~(|y| - 1)
// is a plain inversion: no output adder. The result stays in the accumulator
// and, its low half, in a1[15:0] (|silu|lo is done with by then: no copy
// register), saturated in place by one more step (synchronous sets and
// resets: no output multiplexer), until it is taken; the next element is
// accepted at that edge at the earliest. m_data = w ^ n is one XOR per bit
// from registers, which the consumer's input multiplexer absorbs (a
// saturation function in front of it cost the decoder a LUT per bit).
//
// C twin: lg_ref_silu_gate (src/ref_silu.c), bit-exact:
//   sg = sigmoid(h1); silu = round(h1 * sg, 16); y = sat32(round(silu * h3, 16))
// (round half up: floor(v / 2^16) + bit 15 of v; sat32 symmetric).
//
// Latency / throughput (no stalls): a pair accepted at a clock edge -> its
// result on m_* after the 15th following edge; the inputs are ready only while
// the unit is idle and its output is empty or being taken, so one element per
// 15 cycles (LG_SILU_SHARE_ELEM) while m_ready stays high.
//
// Handshakes: s_h1, s_h3 and m are valid/ready streams (a transfer on a clock
// edge with valid and ready high; valid stays high and data stable until
// ready). The two inputs are joined: both transfer on the same edge, so each
// ready waits for the other stream's valid. The inputs are ready only while
// the previous output is gone or being taken (m_valid low or m_ready high):
// the handshake writes a1 and n and the steps acc, m_data's sources.

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
localparam [3:0] S_IN  = 4'd0; // idle: the joined handshake
localparam [3:0] S_SMP = 4'd1; // the table stage reads T[i+1] (ce)
//                     4'd2     SG0: the table stage reads T[i]
localparam [3:0] S_LD  = 4'd3; // sg = D (the table stage's step)
localparam [3:0] S_SG  = 4'd4; // sg = sigmoid(h1) - sgc (interpolation product)
localparam [3:0] S_U0  = 4'd5; // acc = 2^15 - n1 + |h1|lo * sg
localparam [3:0] S_UC0 = 4'd6; // acc += |h1|lo * sgc
localparam [3:0] S_U1  = 4'd7; // acc = (acc >> 16) + |h1|hi * sg
localparam [3:0] S_UC1 = 4'd8; // acc += |h1|hi * sgc = |silu|
localparam [3:0] S_CP  = 4'd9; // a1 = acc = |silu|
localparam [3:0] S_Y0  = 4'd10; // acc = 2^15 - n - n * 2^16 + |silu|lo * |h3|lo
localparam [3:0] S_Y1  = 4'd11; // acc = (acc >> 16) + |silu|lo * |h3|hi
localparam [3:0] S_Y2  = 4'd12; // acc += |silu|hi * |h3|lo
localparam [3:0] S_Y3  = 4'd13; // acc = (acc >> 16) + |silu|hi * |h3|hi; a1[15:0] = acc[15:0]
localparam [3:0] S_ST  = 4'd14; // w = |y| - n = {acc[15:0], a1[15:0]} saturated in place;
                                // m_valid: y = w ^ n out

reg [3:0] st;

// The inputs are taken only when the previous output is gone (or goes at
// the same edge): a1[15:0], acc and n, m_data's sources, are then free.
wire out_free = !m_valid || m_ready;
wire idle = st == S_IN && out_free;
assign s_h1_ready = idle && s_h3_valid;
assign s_h3_ready = idle && s_h1_valid;
wire fire = s_h1_valid && s_h3_valid && idle;

// Sign and magnitude of the inputs (|-2^31| = 2^31 still fits 32 bits).
// |x| = (x - s) ^ s for the sign s (-x = ~(x - 1)): one LUT and one carry
// per bit, where s ? -x : x maps to about three LUTs per bit.
wire [31:0] h1_dec = s_h1_data + {32{s_h1_data[31]}};
wire [31:0] h3_dec = s_h3_data + {32{s_h3_data[31]}};
wire [31:0] h1_abs = h1_dec ^ {32{s_h1_data[31]}};
wire [31:0] h3_abs = h3_dec ^ {32{s_h3_data[31]}};

reg [31:0] a1;  // |h1|, after step CP |silu|, after Y3 a1[15:0] = (|y| - n)[15:0]
reg [31:0] a3;  // |h3| (cleared when the sigmoid is 0: y = 0)
reg        n1;  // h1 < 0: silu < 0 (or 0)
reg        n;   // the sign of silu * h3 (h1 < 0 xor h3 < 0)
wire        y_sat;    // |y| >= 2^31 (output, below)
reg  [32:0] acc;      // the accumulator
wire [32:0] acc_next; // its next value (below)
always @(posedge clk) begin
    if (fire) begin
        a1 <= h1_abs;
        n1 <= s_h1_data[31];
        n <= s_h1_data[31] ^ s_h3_data[31];
    end
    if (st == S_CP)
        a1 <= acc[31:0]; // |h1| is done with: |silu| (<= 2^31) goes here
    if (st == S_Y3)      // |silu|lo is done with (Y0, Y1): the output's low
        a1[15:0] <= acc[15:0]; // half, saved before the last shift
    if (st == S_ST && y_sat)
        a1[15:0] <= {15'h7fff, !n}; // w[15:0] of w = 2^31 - 1 - n
end

// ---- sigmoid table stage --------------------------------------------------------
// It reads T[i+1] (ce) and T[i] on the edges ending steps SMP and SG0, from
// a1 = |h1|, which holds until step CP; step LD takes its D into sg (m_d is
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
reg [15:0] sg;  // D (step LD), then sigmoid(h1) = sg + sgc, 0 .. 65536
reg        sgc; // v = (v - 1) + 1 (h1 >= 0; a reflected sigmoid has none)

reg [15:0] mul_a, mul_b;
always @(*) begin
    case (st)
        S_SG:         mul_a = {5'd0, sg_fr}; // (a1[10:0]: a1lo masked) * D (sg)
        S_U0, S_UC0, S_Y0, S_Y1: mul_a = a1[15:0];
        default:      mul_a = a1[31:16];  // U1, UC1, Y2, Y3
    endcase
    case (st)
        S_Y0, S_Y2:   mul_b = a3[15:0];
        S_Y1, S_Y3:   mul_b = a3[31:16];
        S_UC0, S_UC1: mul_b = {15'd0, sgc};
        S_U0, S_U1:   mul_b = sg;
        default:      mul_b = sg;
    endcase
end

wire [31:0] mul_p = mul_a * mul_b;

// ---- sigmoid: v = T + ((D * fr + 1024) >> 11), reflected for h1 < 0 ---------------
// sg_u = v - 1 (the table holds T - 1; 16 bits as v <= 65536). The sigmoid
// is sg + sgc: v = (v - 1) + 1 (sgc = 1), reflected 65536 - v = ~(v - 1)
// (sgc = 0), two more products (no adder). |h1| >= 16 (sg_sat): v = 65536,
// as v - 1 = 0xffff (a synchronous set); reflected, the sigmoid is 0: |h3|
// is cleared instead (a synchronous reset; y = 0). sg holds D before (step
// LD: the multiplier's b operand has one source less).
wire [15:0] sg_u = sg_t + mul_p[26:11] + {15'd0, mul_p[10]};
always @(posedge clk) begin
    if (st == S_SG && sg_sat)
        sg <= 16'hffff;
    else if (st == S_LD || st == S_SG)
        sg <= st == S_LD ? sg_d : sg_u ^ {16{sg_neg}};
    if (st == S_SG && sg_sat && sg_neg)
        a3 <= 32'd0; // sigmoid 0: y = 0
    else if (fire)
        a3 <= h3_abs;
    if (st == S_SG)
        sgc <= !sg_neg;
end


// ---- accumulator (magnitudes; |y| - n >= -1 in the Y steps) ---------------------------
// In the Y steps acc is a two's complement value (33 bits hold it: the sums
// stay below 2^32 - 1 as |silu|, |h3| <= 2^31).
// The rounding constants are 2^15 - 1 plus the carry in (!n1 in U0, !n in Y0):
// 2^15 - 1 is preset in step SG (no input multiplexer), the Y0 constant is
// 2^15 - 1 - n * 2^16.
reg [32:0] base;
always @(*)
    case (st)
        S_Y0:               base = {{17{n}}, 1'b0, 15'h7fff};
        S_U0, S_UC0, S_UC1, S_Y2: base = acc;
        default:            base = {{16{acc[32]}}, acc[32:16]}; // U1, Y1, Y3: next weight
    endcase
wire cin = st == S_U0 ? !n1 : st == S_Y0 && !n;

assign acc_next = base + {1'b0, mul_p} + {32'd0, cin};

always @(posedge clk) begin
    if (st == S_SG)
        acc <= {18'd0, 15'h7fff};
    else if (st >= S_U0 && st != S_CP && st != S_ST) // U0-1, UC0-1, Y0-3
        acc <= acc_next;
    if (st == S_ST && y_sat)
        acc[15:0] <= 16'h7fff; // w[31:16] of 2^31 - 1 - n
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
        if (fire)
            st <= S_SMP;
    end else if (st == S_ST) begin
        st <= S_IN;
    end else begin
        st <= st + 4'd1;
    end
    if (st == S_ST)
        m_valid <= 1'b1; // the previous output is gone (fire waited for it)
    else if (m_ready)
        m_valid <= 1'b0;
    if (rst) begin
        st <= S_IN;
        m_valid <= 1'b0;
    end
end

// D * fr < 2^27 (D_W + 11 bits <= 27): the top product bits are 0 while
// interpolating.
wire unused_ok = &{1'b0, mul_p[31:27]};

endmodule

`resetall
