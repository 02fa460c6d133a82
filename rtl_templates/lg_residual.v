`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: residual add, y = sat32(x + d) element by element (Q16).
//
// Why: the residual stream takes the attention and FFN outputs; symmetric
// saturation keeps it inside +-(2^31 - 1) like every other Q16 vector.
//
// C twin: lg_ref_residual (src/ref_silu.c), bit-exact.
//
// Latency: 1 cycle (a pair accepted at a clock edge -> its sum on m_* after
// the next edge, no stalls); one element per cycle.
//
// Handshakes: s_x, s_d and m are valid/ready streams (a transfer on a clock
// edge with valid and ready high; valid stays high and data stable until
// ready). The two inputs are joined: both transfer on the same edge, so each
// ready waits for the other stream's valid.

module ${MODULE} (
    input  wire        clk,
    input  wire        rst,

    // ---- input: x (residual stream, Q16) --------------------------------
    input  wire        s_x_valid,
    output wire        s_x_ready,
    input  wire [31:0] s_x_data,

    // ---- input: d (block output, Q16) -----------------------------------
    input  wire        s_d_valid,
    output wire        s_d_ready,
    input  wire [31:0] s_d_data,

    // ---- output: sat32(x + d) (Q16) -------------------------------------
    output reg         m_valid,
    input  wire        m_ready,
    output reg  [31:0] m_data
);

wire en = !m_valid || m_ready;
assign s_x_ready = en && s_d_valid;
assign s_d_ready = en && s_x_valid;
wire fire = s_x_valid && s_d_valid && en;

wire signed [32:0] sum = $signed({s_x_data[31], s_x_data}) + $signed({s_d_data[31], s_d_data});
// sat32: the 33-bit sum is outside 32 bits exactly when its top two bits
// differ, and -2^31 is the one 32-bit value below -(2^31 - 1); the saturated
// value is {neg, 30 x !neg, 1} with neg = sum[32] (bit tests and one 2:1
// mux instead of two 33-bit comparisons, which map to carry chains)
wire s_ovf = sum[32] != sum[31];
wire s_min = sum[31] && sum[30:0] == 31'd0;
wire [31:0] sat = (s_ovf || s_min) ? {sum[32], {30{!sum[32]}}, 1'b1} : sum[31:0];

// m_valid stays high with m_data stable until m_ready.
always @(posedge clk) begin
    if (en) begin
        m_valid <= fire;
        m_data <= sat;
    end
    if (rst)
        m_valid <= 1'b0;
end

endmodule

`resetall
