`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: rotary position embedding of N_HEADS heads of HEAD_SIZE (Q16).
//
// Why: q and k are rotated pairwise by pos * theta^(-2j/HEAD_SIZE) before
// attention. The angle is an exact 32-bit phase (turns * 2^32) computed as
// pos * INC[j] mod 2^32, so no per-position table exists and any position
// is exact; sin/cos come from ${SINCOS_MODULE} (quarter-wave LUT).
//
// C twin: lg_ref_rope (src/ref_rope.c), bit-exact: for each head and pair j
//   (s, c) = sincos(pos * INC[j] mod 2^32)
//   y[2j]   = sat32(round(x[2j] * c - x[2j+1] * s, 16))
//   y[2j+1] = sat32(round(x[2j] * s + x[2j+1] * c, 16))
// (round half up: floor(v / 2^16) + bit 15 of v; sat32 symmetric).
// INC image (INC_FILE): HEAD_SIZE / 2 words of 32 bits,
// INC[j] = round(theta^(-2j/HEAD_SIZE) / (2 pi) * 2^32).
//
// Multipliers: one 32x32 (low half) for the phase per pair, and two 32x18
// reused over two cycles per pair (x0*c, x1*s for y[2j], then x0*s, x1*c for
// y[2j+1]); one element per cycle in and out.
// Latency: 7 cycles. With no stalls, element 2j is valid on m_* 7 cycles
// after the handshake cycle of element 2j+1 (the 7th edge counting the
// handshake edge: pair in, phase, sincos x 3, products, output) and element
// 2j+1 one cycle later; the last element of a vector leaves 8 cycles after
// the last input handshake.
//
// Handshakes: s_* and m_* are valid/ready streams (a transfer on a clock edge
// with valid and ready high; valid stays high and data stable until ready).
// The whole pipeline advances when the output register is free or taken, so
// s_ready = !m_valid || m_ready. s_pos is sampled with the first element of
// each vector; m_last marks the last element of a vector.

module ${MODULE} #(
    // Heads per vector (n_heads for q, n_kv_heads for k)
    parameter integer N_HEADS = ${N_HEADS},
    // $readmemh image of the phase increments (HEAD_SIZE / 2 words)
    parameter INC_FILE = "${INC_FILE}",
    // $readmemh image of the quarter-wave sine table
    parameter SINE_FILE = "${SINE_FILE}"
) (
    input  wire        clk,
    input  wire        rst,

    // ---- input vector: N_HEADS * HEAD_SIZE Q16 values; s_pos with the first
    input  wire        s_valid,
    output wire        s_ready,
    input  wire [31:0] s_data,
    input  wire [31:0] s_pos,

    // ---- output vector: the rotated values ------------------------------
    output reg         m_valid,
    input  wire        m_ready,
    output reg  [31:0] m_data,
    output reg         m_last
);

// Head size (baked at generation time; INC_FILE holds HEAD_SIZE / 2 words).
localparam integer HEAD_SIZE = ${HEAD_SIZE};
localparam integer HALF = HEAD_SIZE / 2;
localparam integer J_W = HALF > 1 ? $clog2(HALF) : 1;
localparam integer H_W = N_HEADS > 1 ? $clog2(N_HEADS) : 1;
localparam integer J_LAST = HALF - 1;
localparam integer H_LAST = N_HEADS - 1;

initial begin
    if (HEAD_SIZE < 2 || HEAD_SIZE % 2 != 0 || N_HEADS < 1) begin
        $error("%m: HEAD_SIZE must be even and N_HEADS >= 1");
        $finish;
    end
end

// The whole pipeline (sincos included) advances on en.
wire en = !m_valid || m_ready;
assign s_ready = en;
wire s_fire = s_valid && s_ready;

// ---- input side: pair assembly ---------------------------------------------
reg           odd; // next element is x[2j+1]
reg [J_W-1:0] j;   // pair within the head
reg [H_W-1:0] h;   // head within the vector
wire          j_end = j == J_LAST[J_W-1:0];
wire          h_end = h == H_LAST[H_W-1:0];

always @(posedge clk) begin
    if (s_fire) begin
        odd <= !odd;
        if (odd) begin
            j <= j_end ? {J_W{1'b0}} : j + 1'b1;
            if (j_end)
                h <= h_end ? {H_W{1'b0}} : h + 1'b1;
        end
    end
    if (rst) begin
        odd <= 1'b0;
        j <= {J_W{1'b0}};
        h <= {H_W{1'b0}};
    end
end

reg [31:0] x0_r;  // x[2j] waiting for its partner
reg [31:0] pos_r; // position of the current vector
always @(posedge clk)
    if (s_fire && !odd) begin
        x0_r <= s_data;
        if (j == {J_W{1'b0}} && h == {H_W{1'b0}})
            pos_r <= s_pos;
    end

// ---- stage 0: a pair token enters with x[2j+1]; INC[j] ROM read --------------
// Read through a registered address (a block RAM read port): registering the
// data instead is equivalent for a ROM, but Yosys 0.23 then leaves a dangling
// flip-flop input for every constant bit column and fails check -assert.
reg [31:0] rom [0:HALF-1];
initial $readmemh(INC_FILE, rom);

reg [J_W-1:0] t0_j;
always @(posedge clk)
    if (en)
        t0_j <= j;

wire [31:0] t0_inc = rom[t0_j];

reg        t0_valid;
reg [31:0] t0_x0, t0_x1;
reg        t0_last;
always @(posedge clk) begin
    if (en) begin
        t0_valid <= s_fire && odd;
        t0_x0 <= x0_r;
        t0_x1 <= s_data;
        t0_last <= j_end && h_end;
    end
    if (rst)
        t0_valid <= 1'b0;
end

// ---- stage 1: phase = pos * INC[j] mod 2^32 ----------------------------------
// pos_r can change only when the next vector's first element is accepted,
// at least one en-cycle after the last token left stage 0.
wire [31:0] t0_phase = pos_r * t0_inc;

reg        t1_valid;
reg [31:0] t1_phase;
reg [31:0] t1_x0, t1_x1;
reg        t1_last;
always @(posedge clk) begin
    if (en) begin
        t1_valid <= t0_valid;
        t1_phase <= t0_phase;
        t1_x0 <= t0_x0;
        t1_x1 <= t0_x1;
        t1_last <= t0_last;
    end
    if (rst)
        t1_valid <= 1'b0;
end

// ---- stages 2-4: sin, cos (latency 3); the pair waits alongside ------------
wire               sc_valid;
wire signed [17:0] sc_sin, sc_cos;

${SINCOS_MODULE} #(
    .LUT_FILE(SINE_FILE)
) sincos_i (
    .clk(clk),
    .rst(rst),
    .ce(en),
    .s_valid(t1_valid),
    .s_phase(t1_phase),
    .m_valid(sc_valid),
    .m_sin(sc_sin),
    .m_cos(sc_cos)
);

reg [64:0] dl2, dl3, dl4; // {last, x0, x1} delayed by the sincos latency
always @(posedge clk)
    if (en) begin
        dl2 <= {t1_last, t1_x0, t1_x1};
        dl3 <= dl2;
        dl4 <= dl3;
    end

wire               q_last = dl4[64];
wire signed [31:0] q_x0 = dl4[63:32];
wire signed [31:0] q_x1 = dl4[31:0];

// ---- stage 5: two multipliers over two cycles ------------------------------
// Tokens are at least two en-cycles apart (two input elements each), so the
// second half of a pair (ph1) never meets a new token.
reg               ph1;
reg signed [31:0] h_x0, h_x1;
reg signed [17:0] h_sin, h_cos;
reg               h_last;
always @(posedge clk) begin
    if (en) begin
        ph1 <= sc_valid;
        if (sc_valid) begin
            h_x0 <= q_x0;
            h_x1 <= q_x1;
            h_sin <= sc_sin;
            h_cos <= sc_cos;
            h_last <= q_last;
        end
    end
    if (rst)
        ph1 <= 1'b0;
end

// first cycle: x0*c, x1*s (y[2j] = difference); second: x0*s, x1*c (sum)
wire signed [31:0] ma = sc_valid ? q_x0 : h_x0;
wire signed [17:0] mb = sc_valid ? sc_cos : h_sin;
wire signed [31:0] mc = sc_valid ? q_x1 : h_x1;
wire signed [17:0] md = sc_valid ? sc_sin : h_cos;
wire signed [49:0] mab = ma * mb;
wire signed [49:0] mcd = mc * md;

reg               p_valid;
reg               p_sub;
reg               p_last;
reg signed [49:0] p_a, p_b;
always @(posedge clk) begin
    if (en) begin
        p_valid <= sc_valid || ph1;
        p_sub <= sc_valid;
        p_last <= !sc_valid && h_last;
        p_a <= mab;
        p_b <= mcd;
    end
    if (rst)
        p_valid <= 1'b0;
end

// ---- stage 6: combine, round by 16, saturate --------------------------------
wire signed [50:0] p_sum = p_sub ? $signed({p_a[49], p_a}) - $signed({p_b[49], p_b})
                                 : $signed({p_a[49], p_a}) + $signed({p_b[49], p_b});
wire signed [35:0] p_rnd = $signed(p_sum[50:16]) + $signed({35'd0, p_sum[15]});
wire [31:0] p_sat = (p_rnd > 36'sh7fff_ffff) ? 32'h7fff_ffff
                  : (p_rnd < -36'sh7fff_ffff) ? 32'h8000_0001 : p_rnd[31:0];

// m_valid stays high with m_data stable until m_ready (en = 0 holds it).
always @(posedge clk) begin
    if (en) begin
        m_valid <= p_valid;
        m_data <= p_sat;
        m_last <= p_last;
    end
    if (rst)
        m_valid <= 1'b0;
end

// Bits below the rounding bit of the pair sums.
wire unused_ok = &{1'b0, p_sum[14:0]};

endmodule

`resetall
