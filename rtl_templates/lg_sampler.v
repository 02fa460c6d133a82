`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: token sampler, logits -> token id (template
 * rtl_templates/lg_sampler.v, C twin lg_ref_sample / lg_ref_argmax in
 * src/ref_sampler.c, docs/numerics.md 3.13).
 *
 * Why: the classifier's logits stream out of the mat-vec one per cycle; the
 * greedy token is known the moment the last one arrives (a running argmax),
 * while temperature sampling needs the maximum first and then two passes
 * over the stored logits (sum, then inverse CDF), so the logits are kept in
 * a logit RAM.
 *
 * Numerics (bit-exact with the C twin):
 *  - argmax, ties to the lowest id (strict > while streaming);
 *  - inv_temp = 0: the argmax is the token, the PRNG does not move;
 *  - inv_temp > 0 (Q16, clamped to 2^24 - 1):
 *      z_i  = sat32(round_shift(sat32(round_shift(logit_i * it, 16)) * 24204406, 24))
 *      zmax = z of the argmax logit;  p_i = exp2(z_i - zmax) (${EXP2_MODULE})
 *      S    = sum p_i;  r = xorshift32(state) (state <- r)
 *      u    = floor(r * S / 2^32)   (32-step shift-add, LSB first:
 *             A <- floor((A + r_j S) / 2), exact since floor(floor(x)/2) = floor(x/2))
 *      token = first i with p_0 + ... + p_i > u (z and p recomputed in pass 2)
 *  - round_shift is round half up: (v >>> (s-1) >>> 1) + bit s-1.
 *
 * Parameters: VOCAB (logits per vector, >= 2), EXP2_FILE (the exp2 LUT
 * image, passed to the exp2 instance's LUT_FILE).
 *
 * Handshake contract:
 *  - s_logit: valid/ready, VOCAB signed Q16 logits per vector in id order.
 *    s_logit_ready is a register: high while a vector is being loaded.
 *    inv_temp (unsigned Q16) is sampled with the first logit of a vector.
 *  - m_tok: valid/ready, the token id; valid stays high and data stable
 *    until ready. The next vector is accepted after the token is taken.
 *  - seed_we / seed_byte: one byte of the seed a cycle, least significant
 *    first: PRNG state <- {seed_byte, state[31:8]}, so four writes load a
 *    32-bit seed (a state of 0 draws as 0x2545f491). Write it at the start
 *    of a sequence, between vectors (not while sampling); without writes
 *    the next vector continues the PRNG sequence (the lean form's contract,
 *    lg_sampler_share.v). Reset loads the seed-0 state.
 *
 * Latency (cycles after the handshake of the last logit, m_tok_ready high):
 *  - inv_temp = 0: m_tok_valid rises on the next cycle (1 cycle).
 *  - inv_temp > 0: m_tok_valid rises VOCAB + TOK + 55 cycles after the
 *    last logit (TOK = the drawn id; at most 2 * VOCAB + 54): 1 cycle to
 *    enter pass 1, the zmax item and VOCAB reads issued one per cycle, 11
 *    cycles from the last issue to S (pipeline below), 1 to draw r, 32
 *    multiply steps, then pass 2 issues ids 0..TOK and the token is
 *    registered 11 cycles after id TOK was issued.
 * Throughput: one logit per cycle while loading; the next vector's first
 * logit is taken the cycle after the token handshake.
 */
module ${MODULE} #(
    // logits per vector (vocabulary size, >= 2)
    parameter VOCAB = ${VOCAB},
    // exp2 LUT image (lg_emit_lut_images)
    parameter EXP2_FILE = "${EXP2_FILE}"
) (
    input  wire                      clk,
    input  wire                      rst,

    /*
     * Control
     */
    // 1/T in Q16, 0 = greedy; sampled with the first logit of a vector
    input  wire [31:0]               inv_temp,
    input  wire                      seed_we,
    input  wire [7:0]                seed_byte,

    /*
     * Logit stream input (Q16)
     */
    input  wire                      s_logit_valid,
    output wire                      s_logit_ready,
    input  wire [31:0]               s_logit_data,

    /*
     * Token output
     */
    output wire                      m_tok_valid,
    input  wire                      m_tok_ready,
    output wire [$clog2(VOCAB)-1:0]  m_tok_data
);

// ---- derived sizes ------------------------------------------------------------

localparam TW = $clog2(VOCAB);
// S <= VOCAB * 2^16 needs TW + 17 bits (the sums and u)
localparam SW = TW + 17;
// log2(e) * 2^24, rounded (LG_LOG2E_Q24)
localparam signed [25:0] LOG2E_Q24 = 26'sd24204406;
// xorshift32 state for seed 0
localparam [31:0] SEED0 = 32'h2545_f491;
localparam [31:0] VOCAB_M1 = VOCAB - 1;
localparam [TW-1:0] IDX_LAST = VOCAB_M1[TW-1:0];

// bad parameter combinations are rejected at elaboration
initial begin
    if (VOCAB < 2) begin
        $error("Error: VOCAB must be >= 2 (instance %m)");
        $finish;
    end
end

// ---- state machine ------------------------------------------------------------

localparam [2:0] ST_LOAD = 3'd0, // taking logits
                 ST_P1 = 3'd1,   // pass 1: issuing zmax, then reads 0..VOCAB-1
                 ST_W1 = 3'd2,   // pass 1: draining the pipeline into S
                 ST_MUL = 3'd3,  // u = floor(r * S / 2^32), 32 steps
                 ST_P2 = 3'd4,   // pass 2: reads until the cumulative sum passes u
                 ST_OUT = 3'd5;  // token waiting on m_tok

reg [2:0] state_reg;

// ---- load: logit RAM write and running argmax ------------------------------------

reg [TW-1:0] idx_reg;     // load index, then read index of a pass
reg [31:0] best_reg;      // largest logit so far
reg [TW-1:0] best_idx_reg;
reg [23:0] it_reg;        // clamped inv_temp of the vector

assign s_logit_ready = state_reg == ST_LOAD;
wire logit_fire = s_logit_valid && s_logit_ready;
wire idx_last = idx_reg == IDX_LAST;
wire first = idx_reg == {TW{1'b0}};
// strictly greater: ties keep the lower id
wire better = $signed(s_logit_data) > $signed(best_reg);
// the argmax including the logit being taken
wire [TW-1:0] argmax_now = (!first && better) ? idx_reg : best_idx_reg;

always @(posedge clk) begin
    if (logit_fire) begin
        if (first || better) begin
            best_reg <= s_logit_data;
            best_idx_reg <= idx_reg;
        end
        if (first)
            it_reg <= (inv_temp > 32'h00ff_ffff) ? 24'hff_ffff : inv_temp[23:0];
    end
end

reg [31:0] logit_ram [0:VOCAB-1];

always @(posedge clk) begin
    if (logit_fire)
        logit_ram[idx_reg] <= s_logit_data;
end

// ---- PRNG (xorshift32) -------------------------------------------------------------

reg [31:0] state_prng;
// seed 0 (four zero bytes) draws from SEED0: xorshift32 never reaches 0
// from another state, so a zero state can only come from the seed writes
wire [31:0] xs0 = (state_prng == 32'd0) ? SEED0 : state_prng;
wire [31:0] xs1 = xs0 ^ (xs0 << 13);
wire [31:0] xs2 = xs1 ^ (xs1 >> 17);
wire [31:0] xs3 = xs2 ^ (xs2 << 5);

// ---- pass pipeline ----------------------------------------------------------------
//
// Stages (an item issued in cycle c is in stage k in cycle c + k):
//   1 RAM read register     2 operand register (zmax item: the best logit)
//   3 logit * it            4 sat32(round_shift(., 16))
//   5 z1 * LOG2E_Q24        6 z = sat32(round_shift(., 24))   (zmax captured)
//   7 d = z - zmax          8..10 exp2 (3 cycles)             11 S / cum update
// The pipeline never stalls: the passes read a RAM the unit owns.

reg issue_zmax_reg;                 // pass 1 starts with the zmax item
wire issuing = state_reg == ST_P1 || state_reg == ST_P2;
wire issue_rd = issuing && !issue_zmax_reg;
wire issue_valid = issuing;
// flush: pass 2 found its token; items still in flight are dropped
wire flush;

// valid and "zmax item" flags of stages 1..7
reg [7:1] v_pipe;
reg [7:1] zm_pipe;

always @(posedge clk) begin
    v_pipe <= {v_pipe[6:1], issue_valid};
    zm_pipe <= {zm_pipe[6:1], issue_zmax_reg};
    if (rst || flush)
        v_pipe <= 7'd0;
end

// stage 1
reg [31:0] q_reg;
always @(posedge clk) begin
    if (issue_rd)
        q_reg <= logit_ram[idx_reg];
end

// stage 2: operand (RAM word, or the best logit for the zmax item)
reg signed [31:0] x2_reg;
always @(posedge clk) begin
    x2_reg <= zm_pipe[1] ? best_reg : q_reg;
end

// stage 3: |logit * it| < 2^31 * 2^24 = 2^55
reg signed [56:0] p1_reg;
always @(posedge clk) begin
    p1_reg <= x2_reg * $signed({1'b0, it_reg});
end

// stage 4: z1 = sat32(round_shift(p1, 16))
wire signed [56:0] p1_t = p1_reg >>> 15;
wire [56:0] p1_r = {p1_t[56], p1_t[56:1]} + {56'd0, p1_t[0]};
reg signed [31:0] z1_reg;
always @(posedge clk) begin
    z1_reg <= sat32({p1_r[56], p1_r});
end

// stage 5: |z1 * LOG2E_Q24| < 2^31 * 2^25 = 2^56
reg signed [57:0] p2_reg;
always @(posedge clk) begin
    p2_reg <= z1_reg * LOG2E_Q24;
end

// stage 6: z = sat32(round_shift(p2, 24))
wire signed [57:0] p2_t = p2_reg >>> 23;
wire [57:0] p2_r = {p2_t[57], p2_t[57:1]} + {57'd0, p2_t[0]};
reg signed [31:0] z_reg;
always @(posedge clk) begin
    z_reg <= sat32(p2_r);
end

// zmax: the z of the first item of pass 1 (z is monotone in the logit, so
// every later z_i <= zmax)
reg signed [31:0] zmax_reg;
always @(posedge clk) begin
    if (v_pipe[6] && zm_pipe[6])
        zmax_reg <= z_reg;
end

// stage 7: d = z - zmax in [-(2^32 - 2), 0]
reg signed [33:0] d_reg;
always @(posedge clk) begin
    d_reg <= $signed({{2{z_reg[31]}}, z_reg}) - $signed({{2{zmax_reg[31]}}, zmax_reg});
end

// stages 8..10: p = exp2(d), P16 in [0, 65536]; the zmax item is not sent
wire p_valid;
wire [16:0] p_y;

${EXP2_MODULE} #(
    .X_W(34),
    .LUT_FILE(EXP2_FILE)
) u_exp2 (
    .clk(clk),
    .rst(rst || flush),
    .ce(1'b1),
    .s_valid(v_pipe[7] && !zm_pipe[7]),
    .s_x(d_reg),
    .m_valid(p_valid),
    .m_y(p_y)
);

// ---- stage 11: S (pass 1) and the inverse CDF (pass 2) ---------------------------

reg [TW-1:0] out_idx_reg; // id of the next p to arrive
reg [SW-1:0] sum_reg;     // S in pass 1, the cumulative sum in pass 2
reg [SW-1:0] s_reg;       // S, kept for the multiply
reg [SW-1:0] u_reg;       // A of the multiply, then u
reg [31:0] r_reg;         // r, shifted right one bit per multiply step
reg [4:0] mul_step_reg;
reg [TW-1:0] tok_reg;

wire [SW-1:0] sum_next = sum_reg + {{(SW-17){1'b0}}, p_y};
wire out_last = out_idx_reg == IDX_LAST;
wire hit = state_reg == ST_P2 && p_valid && (sum_next > u_reg || out_last);
assign flush = hit;
// multiply step: A <- floor((A + r_j S) / 2)
wire [SW:0] mul_sum = {1'b0, u_reg} + (r_reg[0] ? {1'b0, s_reg} : {(SW+1){1'b0}});

always @(posedge clk) begin
    if ((state_reg == ST_P1 || state_reg == ST_W1 || state_reg == ST_P2) && p_valid) begin
        sum_reg <= sum_next;
        out_idx_reg <= out_idx_reg + 1'b1;
    end
    if (state_reg == ST_LOAD || state_reg == ST_MUL) begin
        // a pass starts from an empty sum at id 0
        sum_reg <= {SW{1'b0}};
        out_idx_reg <= {TW{1'b0}};
    end
end

// ---- control ----------------------------------------------------------------------

reg tok_valid_reg;
assign m_tok_valid = tok_valid_reg;
assign m_tok_data = tok_reg;

always @(posedge clk) begin
    case (state_reg)
        ST_LOAD: begin
            if (logit_fire && idx_last) begin
                if (it_reg == 24'd0) begin
                    tok_reg <= argmax_now;
                    tok_valid_reg <= 1'b1;
                    state_reg <= ST_OUT;
                end else begin
                    // best_reg already includes this logit (load block)
                    issue_zmax_reg <= 1'b1;
                    state_reg <= ST_P1;
                end
            end
        end
        ST_P1: begin
            // the zmax item first (no read), then ids 0..VOCAB-1
            issue_zmax_reg <= 1'b0;
            if (issue_rd && idx_last)
                state_reg <= ST_W1;
        end
        ST_W1: begin
            if (p_valid && out_last) begin
                // S complete: draw r and advance the PRNG once
                s_reg <= sum_next;
                u_reg <= {SW{1'b0}};
                r_reg <= xs3;
                mul_step_reg <= 5'd0;
                state_reg <= ST_MUL;
            end
        end
        ST_MUL: begin
            u_reg <= mul_sum[SW:1];
            r_reg <= {1'b0, r_reg[31:1]};
            mul_step_reg <= mul_step_reg + 5'd1;
            if (mul_step_reg == 5'd31)
                state_reg <= ST_P2;
        end
        ST_P2: begin
            if (hit) begin
                tok_reg <= out_idx_reg;
                tok_valid_reg <= 1'b1;
                state_reg <= ST_OUT;
            end
        end
        ST_OUT: begin
            if (m_tok_ready) begin
                tok_valid_reg <= 1'b0;
                state_reg <= ST_LOAD;
            end
        end
        default: state_reg <= ST_LOAD;
    endcase
    if (rst) begin
        state_reg <= ST_LOAD;
        tok_valid_reg <= 1'b0;
        issue_zmax_reg <= 1'b0;
    end
end

// load index / pass read index: wraps to 0 after the last logit and after
// the last read of a pass
always @(posedge clk) begin
    if (logit_fire || issue_rd)
        idx_reg <= idx_last ? {TW{1'b0}} : idx_reg + 1'b1;
    if (state_reg == ST_P2 && hit)
        idx_reg <= {TW{1'b0}};
    if (rst)
        idx_reg <= {TW{1'b0}};
end

// the PRNG: a seed byte shifts in from the top (least significant first);
// otherwise one step per sampled vector
always @(posedge clk) begin
    if (seed_we)
        state_prng <= {seed_byte, state_prng[31:8]};
    else if (state_reg == ST_W1 && p_valid && out_last)
        state_prng <= xs3;
    if (rst)
        state_prng <= SEED0;
end

// ---- helpers ----------------------------------------------------------------------

// symmetric int32 saturation of a round_shift result
function [31:0] sat32;
    input [57:0] v;
    begin
        if (!v[57] && |v[56:31])
            sat32 = 32'h7fff_ffff;
        else if (v[57] && (~&v[56:31] || v[30:0] == 31'd0))
            sat32 = 32'h8000_0001;
        else
            sat32 = v[31:0];
    end
endfunction

wire unused_mul = mul_sum[0];

endmodule

`resetall
