`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: token sampler, logits -> token id, mul_share form: one 16x16
 * multiplier and one 32-bit accumulator (one SB_MAC16, its adder and output
 * register) for every product (template rtl_templates/lg_sampler_share.v;
 * the streaming form is rtl_templates/lg_sampler.v; C twin lg_ref_sample /
 * lg_ref_argmax in src/ref_sampler.c, docs/numerics.md 3.13).
 *
 * Why: the iCE40 UP5K has 8 DSPs for the whole decoder; the streaming form
 * spends 9 (and two EBR on its exp2 table) to scale and exponentiate one
 * logit per cycle, far more rate than one token per decoder pass needs.
 * This form takes one logit at a time through a fixed sequence of 16x16
 * unsigned products (steps K_* below):
 *   |x| * it          6 products: x ^ sign (= |x| - sign, no negation adder)
 *                     in two 16-bit chunks times it in two, plus sign * it;
 *                     rounding constant 2^15 - sign added first
 *   |z1| * LOG2E_Q24  4 products, rounding constant 2^23 - sign
 *   exp2 interpolation 2 products: T[a] (256 - fr) + T[a+1] fr = 256 v
 *                     (two reads of a 16-bit T table: one EBR)
 *   exp2 rounding     1 product: v * 2^(15-k), k = n - 1 (no barrel shifter)
 *   u = r * S / 2^32  5 products, once per vector
 * and the xorshift32 draw runs bit-serially (one XOR gate, 96 cycles).
 * Chunks are summed low first, the accumulator then shifts right by 16 and
 * the high chunks are added: the exact floor((M + c) / 2^16) of the wide
 * product, every partial sum below 2^32. Signs are applied in sign-magnitude
 * (round half up of -M is -floor((M + 2^15 - 1) / 2^16)). Pass 1 writes
 * each p_i back over its logit in the logit RAM, so pass 2 is a plain
 * running sum at one id per cycle.
 *
 * Numerics (bit-exact with the C twin):
 *  - argmax, ties to the lowest id (strict > while streaming);
 *  - inv_temp = 0: the argmax is the token, the PRNG does not move;
 *  - inv_temp > 0 (Q16, clamped to 2^24 - 1):
 *      z_i  = sat32(round_shift(sat32(round_shift(logit_i * it, 16)) * 24204406, 24))
 *      zmax = z of the argmax logit;  p_i = exp2(z_i - zmax) (lg_ref_exp2)
 *      S    = sum p_i;  r = xorshift32(state) (state <- r)
 *      u    = floor(r * S / 2^32)
 *      token = first i with p_0 + ... + p_i > u
 *  - round_shift is round half up; sat32 is symmetric (+-(2^31 - 1)).
 *
 * The exp2 table: its T column (T[i] - 2^16, i = 0..255, 16 bits) is baked
 * into this module at generation time from the same table (lg_luts_build)
 * as the EXP2_FILE image; T[256] - 2^16 = 2^16 is a constant. The packed
 * image ({T, D}, 25 bits) would take two EBR; T alone is one. EXP2_FILE is
 * kept for parameter compatibility with the streaming form and is not read.
 *
 * Parameters: VOCAB (logits per vector, 2..32768: S = sum p_i must fit 32
 * bits for the two-chunk r * S), EXP2_FILE (unused, see above).
 *
 * Handshake contract (as the streaming form):
 *  - s_logit: valid/ready, VOCAB signed Q16 logits per vector in id order.
 *    s_logit_ready is a register: high while a vector is being loaded.
 *    inv_temp (unsigned Q16) is sampled with the first logit of a vector.
 *  - m_tok: valid/ready, the token id; valid stays high and data stable
 *    until ready. The next vector is accepted after the token is taken.
 *  - seed_load: one-cycle pulse, PRNG state <- seed (0 -> 0x2545f491); pulse
 *    it at the start of a sequence, between vectors (not while sampling).
 *    Reset loads the seed-0 state.
 *
 * Latency (cycles after the handshake of the last logit, m_tok_ready high):
 *  - inv_temp = 0: m_tok_valid rises on the next cycle (1 cycle).
 *  - inv_temp > 0: 16 * VOCAB + TOK + 117 cycles (TOK = the drawn id; at
 *    most 17 * VOCAB + 116): the zmax item (13 steps), VOCAB items of 16
 *    steps, 1 cycle for the last p, 96 for the draw, 5 multiply steps for u,
 *    then pass 2 checks ids 0..TOK at one per cycle and the token is
 *    registered.
 * Throughput: one logit per cycle while loading; the next vector's first
 * logit is taken the cycle after the token handshake.
 */
module ${MODULE} #(
    // logits per vector (vocabulary size, 2..32768)
    parameter VOCAB = ${VOCAB},
    // exp2 LUT image of the streaming form (not read: the T column is baked)
    /* verilator lint_off UNUSEDPARAM */
    parameter EXP2_FILE = "${EXP2_FILE}"
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire                      clk,
    input  wire                      rst,

    /*
     * Control
     */
    // 1/T in Q16, 0 = greedy; sampled with the first logit of a vector
    input  wire [31:0]               inv_temp,
    input  wire                      seed_load,
    input  wire [31:0]               seed,

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
// S <= VOCAB * 2^16 needs TW + 17 bits (<= 32 for VOCAB <= 32768)
localparam SW = TW + 17;
// log2(e) * 2^24, rounded (LG_LOG2E_Q24), in two 16-bit chunks
localparam [31:0] LOG2E_Q24 = 32'd24204406;
localparam [15:0] LOG2E_LO = LOG2E_Q24[15:0];
localparam [15:0] LOG2E_HI = LOG2E_Q24[31:16];
// xorshift32 state for seed 0
localparam [31:0] SEED0 = 32'h2545_f491;
localparam [31:0] VOCAB_M1 = VOCAB - 1;
localparam [TW-1:0] IDX_LAST = VOCAB_M1[TW-1:0];

// bad parameter combinations are rejected at elaboration
initial begin
    if (VOCAB < 2 || VOCAB > 32768) begin
        $error("Error: VOCAB must be 2..32768 (instance %m)");
        $finish;
    end
end

// ---- state machine ------------------------------------------------------------

localparam [2:0] ST_LOAD = 3'd0, // taking logits
                 ST_P1 = 3'd1,   // pass 1: the zmax item, then ids 0..VOCAB-1
                 ST_W1 = 3'd2,   // the last p joins S
                 ST_RNG = 3'd6,  // r = xorshift32(state), one bit per cycle, 96 cycles
                 ST_MUL = 3'd3,  // u = floor(r * S / 2^32), 5 steps
                 ST_P2 = 3'd4,   // pass 2: one id per cycle until the sum passes u
                 ST_OUT = 3'd5;  // token waiting on m_tok

// Steps of one pass-1 item (the zmax item ends after K_D). The logit enters
// as x ^ s (= |x| - s, no negation adder); the missing s * it is added by
// two products with A = s:
localparam [4:0] K_ABS = 5'd0,  // xr = x ^ {32{s}}, s = sign of x
                 K_M1A = 5'd1,  // acc = (2^15 - s) + x0 * i0
                 K_M1S = 5'd2,  // acc = acc + s * i0
                 K_M1B = 5'd3,  // acc = (acc >> 16) + x0 * i1
                 K_M1T = 5'd4,  // acc = acc + s * i1
                 K_M1C = 5'd5,  // acc = acc + x1 * i0
                 K_M1D = 5'd6,  // lo = acc[15:0]; acc = (acc >> 16) + x1 * i1
                 K_Z1 = 5'd7,   // xr = |z1| (saturated)
                 K_M2A = 5'd8,  // acc = (2^23 - s) + z0 * L0
                 K_M2B = 5'd9,  // acc = (acc >> 16) + z0 * L1
                 K_M2C = 5'd10, // acc = acc + z1 * L0
                 K_M2D = 5'd11, // lo = acc[15:0]; acc = (acc >> 16) + z1 * L1
                 K_D = 5'd12,   // d = z - zmax (zmax item: -zmax); ROM address
                 K_TA = 5'd13,  // acc = 2^24 + 128 + ta * (256 - fr)   (ta = T[a] - 2^16)
                 K_TB = 5'd14,  // acc = acc + tb * fr: v = acc[24:8]  (tb = T[a+1] - 2^16)
                 K_SH = 5'd15;  // acc = 2^(31-k) + 2^15 + v[15:0] * 2^(15-k): p = acc >> 16

// Steps of u = floor(r * S / 2^32), r = r1 2^16 + r0, S = S1 2^16 + S0
// (S1 <= 2^15): A = floor(r0 S / 2^16) = A1 2^16 + A0, then
// u = floor((r1 S0 + A0) / 2^16) + r1 S1 + A1, every partial sum < 2^32.
localparam [4:0] U_00 = 5'd0,  // acc = r0 * S0
                 U_01 = 5'd1,  // acc = (acc >> 16) + r0 * S1: A
                 U_10 = 5'd2,  // lo = A1; acc = A0 + r1 * S0
                 U_11 = 5'd3,  // acc = (acc >> 16) + r1 * S1
                 U_A1 = 5'd4;  // acc = acc + lo * 1: u

reg [2:0] state_reg;
reg [4:0] step_reg;        // step of the pass-1 item, or of the u multiply
reg zm_reg;                // the current pass-1 item is the zmax item

// ---- load: logit RAM write and running argmax ------------------------------------

reg [TW-1:0] idx_reg;      // load index, then read index of a pass
reg [31:0] best_reg;       // largest logit so far
reg [TW-1:0] best_idx_reg;
reg [23:0] it_reg;         // clamped inv_temp of the vector

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

// ---- logit RAM: logits while loading, p_i over them in pass 1 -------------------------

reg [TW-1:0] out_idx_reg;  // id of the p being produced (pass 1) or summed (pass 2)
reg y_pend_reg;            // a p is ready in the accumulator (written this cycle)
wire [16:0] y;             // that p (below)

reg [31:0] logit_ram [0:VOCAB-1];
reg [31:0] q_reg;          // registered read of logit_ram[idx_reg], every cycle

wire ram_we = logit_fire || y_pend_reg;
wire [TW-1:0] ram_wa = logit_fire ? idx_reg : out_idx_reg;
wire [31:0] ram_wd = logit_fire ? s_logit_data : {15'd0, y};

always @(posedge clk) begin
    if (ram_we)
        logit_ram[ram_wa] <= ram_wd;
    q_reg <= logit_ram[idx_reg];
end

// ---- PRNG (xorshift32) -------------------------------------------------------------
//
// Bit-serial, in place: each of x ^= x << 13, x ^= x >> 17, x ^= x << 5 is
// 32 left rotations of the state, the bit leaving the MSB (original bit
// i = 31 - c at rotation c) re-entering at the LSB XORed with a fixed tap:
//   << 13: position 18 = original bit i - 13 (not yet rotated), for c <= 18
//   >> 17: position 16 = original bit i + 17 (>= 17, never modified), c >= 17
//   << 5:  position 26 = original bit i - 5, for c <= 26
// so the three shifts cost one XOR, not 32 (the state is r afterwards).
reg [31:0] state_prng;
reg [6:0] rng_cnt_reg;     // ST_RNG: operation (bits 6:5) and rotation (4:0)
wire [4:0] rng_c = rng_cnt_reg[4:0];
wire rng_tap = rng_cnt_reg[6:5] == 2'd0 ? state_prng[18] && rng_c <= 5'd18 :
               rng_cnt_reg[6:5] == 2'd1 ? state_prng[16] && rng_c >= 5'd17 :
                                          state_prng[26] && rng_c <= 5'd26;
wire [31:0] prng_next = {state_prng[30:0], state_prng[31] ^ rng_tap};
wire rng_done = rng_cnt_reg == 7'd95;

// ---- exp2 T column (T[i] - 2^16), baked from lg_luts_build -------------------------

reg [15:0] trom [0:255];
initial begin
${EXP2_T_INIT}end

// Read asynchronously through its own address register (a block RAM read
// port once Yosys merges the register).
reg [7:0] rom_a_reg;
wire [15:0] trom_q = trom[rom_a_reg];
// a = 255 (K_TA: the address is a; K_TB: it has wrapped to a + 1 = 0)
wire a_last = step_reg == K_TA ? &rom_a_reg : ~|rom_a_reg;

// ---- the shared multiplier and the accumulator -----------------------------------------

reg [31:0] xr;             // x ^ s, |z1|, or r: the chunked A operand
reg sign_reg;              // sign of the logit (= of z1 and z)
reg [31:0] acc;            // the accumulator (every sum stays below 2^32, see the steps)
reg [15:0] lo_reg;         // low chunk shifted out of acc at a 4th product; A1 of u
reg [16:0] dhi_reg;        // floor(d / 2^16) of d = z - zmax (<= 0)
reg [7:0] fr_reg;          // d[7:0]: the interpolation fraction
reg [31:0] nzmax_reg;      // -zmax (0 while the zmax item is computed)
reg [SW-1:0] sum_reg;      // S in pass 1, the cumulative sum in pass 2

wire in_p1 = state_reg == ST_P1;
wire in_mul = state_reg == ST_MUL;

// exp2 operands from d: n = -floor(d / 2^16) >= 1, k = n - 1 = ~floor(d / 2^16)
wire [16:0] nk = ~dhi_reg;
wire [4:0] k = nk[4:0];
wire y_one = !dhi_reg[16];                              // d = 0: 2^0
wire y_zero = (|nk[16:5]) || (k > 5'd16);             // n >= 18: 0

// A: a 16-bit chunk of xr, the sign, T[a] or T[a+1], or v[15:0] for the rounding shift
wire a_hi = (in_p1 && (step_reg == K_M1C || step_reg == K_M1D ||
                       step_reg == K_M2C || step_reg == K_M2D)) ||
            (in_mul && (step_reg == U_10 || step_reg == U_11));
wire a_s = in_p1 && (step_reg == K_M1S || step_reg == K_M1T);
wire a_t = in_p1 && (step_reg == K_TA || step_reg == K_TB);
wire [15:0] mul_a = (in_p1 && step_reg == K_SH) ? acc[23:8] :
                   (in_mul && step_reg == U_A1) ? lo_reg :
                   a_t ? ((step_reg == K_TB && a_last) ? 16'd0 : trom_q) :
                   a_s ? {15'd0, sign_reg} : (a_hi ? xr[31:16] : xr[15:0]);

// B: it, LOG2E, fr, 2^(15-k) or S chunks
// (S zero-extended: SW + 16 >= 32 bits)
wire [SW+15:0] s_ext = {16'd0, sum_reg};
reg [15:0] mul_b;
always @(*) begin
    mul_b = 16'd0;
    if (in_mul)
        case (step_reg)
            U_00, U_10: mul_b = s_ext[15:0];
            U_01, U_11: mul_b = s_ext[31:16];
            default:    mul_b = 16'd1;
        endcase
    else
        case (step_reg)
            K_M1A, K_M1S, K_M1C: mul_b = it_reg[15:0];
            K_M1B, K_M1T, K_M1D: mul_b = {8'd0, it_reg[23:16]};
            K_M2A, K_M2C: mul_b = LOG2E_LO;
            K_M2B, K_M2D: mul_b = LOG2E_HI;
            K_TA:         mul_b = {7'd0, 9'd256 - {1'b0, fr_reg}};
            K_TB:         mul_b = {8'd0, fr_reg};
            K_SH:         mul_b = k[4] ? 16'd0 : (16'd1 << (4'd15 - k[3:0]));
            default:      mul_b = 16'd0;
        endcase
end

wire [31:0] mul_p = mul_a * mul_b;

// accumulator input: a per-step constant, acc >> 16, or acc
wire [31:0] rnd1 = sign_reg ? 32'h7fff : 32'h8000;     // 2^15 - s
wire [31:0] rnd2 = sign_reg ? 32'h7f_ffff : 32'h80_0000; // 2^23 - s
// 2^24 + 128, and for a = 255 the tb * fr of T[256] - 2^16 = 2^16 (tb = 0 below)
wire [31:0] v_base = {7'd0, 1'b1, a_last ? fr_reg : 8'd0, 8'd0, 8'h80};
// 2^(31-k) + 2^15 (k = 16: 2^16)
wire [31:0] sh_base = k[4] ? 32'h1_0000 : ((32'd1 << (5'd31 - k)) | 32'h8000);
wire [31:0] acc_shr = {16'd0, acc[31:16]};
reg [31:0] acc_in;
always @(*) begin
    acc_in = acc;
    if (in_mul)
        case (step_reg)
            U_00:    acc_in = 32'd0;
            U_10:    acc_in = {16'd0, acc[15:0]};
            U_A1:    acc_in = acc;
            default: acc_in = acc_shr;
        endcase
    else
        case (step_reg)
            K_M1A:        acc_in = rnd1;
            K_M2A:        acc_in = rnd2;
            K_M1B, K_M1D, K_M2B, K_M2D: acc_in = acc_shr;
            K_TA:         acc_in = v_base;
            K_SH:         acc_in = sh_base;
            default:      acc_in = acc;
        endcase
end

// every step but K_ABS, K_Z1 and K_D is a product
wire acc_step = in_mul ||
                (in_p1 && step_reg != K_ABS && step_reg != K_Z1 && step_reg != K_D);

always @(posedge clk) begin
    if (acc_step)
        acc <= acc_in + mul_p;
    if ((in_p1 && (step_reg == K_M1D || step_reg == K_M2D)))
        lo_reg <= acc[15:0];
    if (in_mul && step_reg == U_10)
        lo_reg <= acc[31:16];
end

// |z1| = min(floor((|x| it + 2^15 - s) / 2^16), 2^31 - 1) = {acc, lo} saturated
wire [30:0] z1_mag = (|acc[31:15]) ? 31'h7fff_ffff : {acc[14:0], lo_reg};
// |z| = min({acc, lo} >> 8, 2^31 - 1)
wire [30:0] z_mag = (|acc[31:23]) ? 31'h7fff_ffff : {acc[22:0], lo_reg[15:8]};
// d = -zmax + z for an item; -zmax itself for the zmax item (flip the sign)
wire t_neg = sign_reg ^ zm_reg;
// (one adder: the extra low bit carries t_neg in)
wire [33:0] d_sum = {nzmax_reg[31], nzmax_reg, 1'b1} + {{2{t_neg}}, z_mag ^ {31{t_neg}}, t_neg};
wire [32:0] d_next = d_sum[33:1];

// the operand of an item: the best logit for the zmax item, else the RAM word
wire [31:0] x_op = zm_reg ? best_reg : q_reg;

// p = exp2(d) = floor(acc / 2^16); the sum reaches 2^32 only for k = 0 and
// v = 2^17 - 1 (p = 2^16), where acc wraps to 0: for k = 0 acc >= 2^31 otherwise
wire y_carry = k == 5'd0 && !acc[31];
assign y = y_one ? 17'h1_0000 : (y_zero ? 17'd0 : {y_carry, acc[31:16]});

always @(posedge clk) begin
    if (in_p1) begin
        case (step_reg)
            K_ABS: begin
                // the zmax item scales the best logit; the others the RAM word
                sign_reg <= x_op[31];
                xr <= x_op ^ {32{x_op[31]}};
            end
            K_Z1: xr <= {1'b0, z1_mag};
            K_D: begin
                dhi_reg <= d_next[32:16];
                fr_reg <= d_next[7:0];
                rom_a_reg <= d_next[15:8];
                if (zm_reg)
                    nzmax_reg <= d_next[31:0];
            end
            K_TA: rom_a_reg <= rom_a_reg + 8'd1;
            default: ;
        endcase
    end
    if (state_reg == ST_RNG && rng_done)
        xr <= prng_next; // r
    if (state_reg == ST_LOAD)
        nzmax_reg <= 32'd0;
end

// ---- S (pass 1) and the inverse CDF (pass 2) --------------------------------------

wire [SW-1:0] sum_add = sum_reg + {{(SW-17){1'b0}}, (state_reg == ST_P2) ? q_reg[16:0] : y};
wire out_last = out_idx_reg == IDX_LAST;
// u = acc (after the multiply)
wire hit = state_reg == ST_P2 && (sum_add > acc[SW-1:0] || out_last);

always @(posedge clk) begin
    // pass 1: p_i joins S the cycle after its last step
    y_pend_reg <= in_p1 && !zm_reg && step_reg == K_SH;
    if (y_pend_reg || state_reg == ST_P2) begin
        sum_reg <= sum_add;
        out_idx_reg <= out_idx_reg + 1'b1;
    end
    if (state_reg == ST_LOAD || (in_mul && step_reg == U_A1)) begin
        // a pass starts from an empty sum at id 0
        sum_reg <= {SW{1'b0}};
        out_idx_reg <= {TW{1'b0}};
    end
    if (rst)
        y_pend_reg <= 1'b0;
end

// ---- control ----------------------------------------------------------------------

reg [TW-1:0] tok_reg;
reg tok_valid_reg;
assign m_tok_valid = tok_valid_reg;
assign m_tok_data = tok_reg;

// the last item of pass 1: its read index has wrapped (out_idx = VOCAB - 1)
wire item_end = zm_reg ? step_reg == K_D : step_reg == K_SH;

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
                    zm_reg <= 1'b1;
                    step_reg <= K_ABS;
                    state_reg <= ST_P1;
                end
            end
        end
        ST_P1: begin
            step_reg <= step_reg + 5'd1;
            if (item_end) begin
                step_reg <= K_ABS;
                zm_reg <= 1'b0;
                if (!zm_reg && out_last)
                    state_reg <= ST_W1;
            end
        end
        ST_W1: begin
            // S complete this cycle; then draw r
            rng_cnt_reg <= 7'd0;
            state_reg <= ST_RNG;
        end
        ST_RNG: begin
            rng_cnt_reg <= rng_cnt_reg + 7'd1;
            if (rng_done) begin
                step_reg <= 5'd0;
                state_reg <= ST_MUL;
            end
        end
        ST_MUL: begin
            step_reg <= step_reg + 5'd1;
            if (step_reg == U_A1)
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
        zm_reg <= 1'b0;
        step_reg <= 5'd0;
    end
end

// load index / pass read index: wraps to 0 after the last logit and after
// the last read of pass 1; pass 2 reads one id ahead of the sum
always @(posedge clk) begin
    if (logit_fire || (in_p1 && !zm_reg && step_reg == K_ABS))
        idx_reg <= idx_last ? {TW{1'b0}} : idx_reg + 1'b1;
    if (in_mul && step_reg == U_A1)
        idx_reg <= {{(TW-1){1'b0}}, 1'b1};
    if (state_reg == ST_P2)
        idx_reg <= idx_reg + 1'b1;
    if (state_reg == ST_P2 && hit)
        idx_reg <= {TW{1'b0}};
    if (rst)
        idx_reg <= {TW{1'b0}};
end

// the PRNG: seed_load wins; otherwise one step per sampled vector
always @(posedge clk) begin
    if (seed_load)
        state_prng <= (seed == 32'd0) ? SEED0 : seed;
    else if (state_reg == ST_RNG)
        state_prng <= prng_next;
    if (rst)
        state_prng <= SEED0;
end

// the lowest bit of the carry-in adder is a constant; S has <= 32 bits
wire unused_ok = &{1'b0, d_sum[0], s_ext[SW+15:32]};

endmodule

`resetall
