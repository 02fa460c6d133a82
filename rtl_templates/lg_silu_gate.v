`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: SwiGLU gate, y = silu(h1) * h3 element by element (Q16).
//
// Why: the FFN computes w2(silu(w1 x) * (w3 x)); this unit joins the two
// mat-vec output streams h1 = w1 x and h3 = w3 x. silu(h) = h * sigmoid(h)
// with sigmoid from ${SIGMOID_MODULE} (LUT + interpolation).
//
// C twin: lg_ref_silu_gate (src/ref_silu.c), bit-exact:
//   sg = sigmoid(h1); silu = round(h1 * sg, 16); y = sat32(round(silu * h3, 16))
// (round half up: floor(v / 2^16) + bit 15 of v; sat32 symmetric).
//
// Multipliers: 32x18 (h1 * sg) and 33x32 (silu * h3).
// Latency: 6 cycles (a pair accepted at a clock edge -> its result on m_*
// after the 6th following edge, no stalls); one element per cycle.
//
// Handshakes: s_h1, s_h3 and m are valid/ready streams (a transfer on a clock
// edge with valid and ready high; valid stays high and data stable until
// ready). The two inputs are joined: both transfer on the same edge, so each
// ready waits for the other stream's valid. The pipeline advances when the
// output register is free or taken (en = !m_valid || m_ready).

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

wire en = !m_valid || m_ready;
assign s_h1_ready = en && s_h3_valid;
assign s_h3_ready = en && s_h1_valid;
wire fire = s_h1_valid && s_h3_valid && en;

// ---- stages 1-3: sigmoid(h1); h1 and h3 wait alongside -----------------------
wire        sg_valid;
wire [16:0] sg_y;

${SIGMOID_MODULE} #(
    .LUT_FILE(SIGMOID_FILE)
) sigmoid_i (
    .clk(clk),
    .rst(rst),
    .ce(en),
    .s_valid(fire),
    .s_x(s_h1_data),
    .m_valid(sg_valid),
    .m_y(sg_y)
);

reg [63:0] dl1, dl2, dl3; // {h1, h3} delayed by the sigmoid latency
always @(posedge clk)
    if (en) begin
        dl1 <= {s_h1_data, s_h3_data};
        dl2 <= dl1;
        dl3 <= dl2;
    end

wire signed [31:0] q_h1 = dl3[63:32];
wire signed [31:0] q_h3 = dl3[31:0];

// ---- stage 4: silu = round(h1 * sg, 16), |silu| <= 2^31 ---------------------
wire signed [49:0] q_p = q_h1 * $signed({1'b0, sg_y});
wire signed [33:0] q_silu = $signed(q_p[49:16]) + $signed({33'd0, q_p[15]});

reg               u_valid;
reg signed [32:0] u_silu;
reg signed [31:0] u_h3;
always @(posedge clk) begin
    if (en) begin
        u_valid <= sg_valid;
        u_silu <= q_silu[32:0];
        u_h3 <= q_h3;
    end
    if (rst)
        u_valid <= 1'b0;
end

// ---- stage 5: silu * h3 (|product| <= 2^62) ---------------------------------
wire signed [63:0] u_p = u_silu * u_h3;

reg               v_valid;
reg signed [63:0] v_p;
always @(posedge clk) begin
    if (en) begin
        v_valid <= u_valid;
        v_p <= u_p;
    end
    if (rst)
        v_valid <= 1'b0;
end

// ---- stage 6: round by 16, saturate ----------------------------------------
wire signed [48:0] v_rnd = $signed(v_p[63:16]) + $signed({48'd0, v_p[15]});
wire [31:0] v_sat = (v_rnd > 49'sh7fff_ffff) ? 32'h7fff_ffff
                  : (v_rnd < -49'sh7fff_ffff) ? 32'h8000_0001 : v_rnd[31:0];

// m_valid stays high with m_data stable until m_ready (en = 0 holds it).
always @(posedge clk) begin
    if (en) begin
        m_valid <= v_valid;
        m_data <= v_sat;
    end
    if (rst)
        m_valid <= 1'b0;
end

// Bits below the rounding bits; q_silu[33] repeats the sign (|silu| <= 2^31).
wire unused_ok = &{1'b0, q_p[14:0], q_silu[33], v_p[14:0]};

endmodule

`resetall
