`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: RMSNorm of a DIM-element Q16 vector with gains * sqrt(DIM),
// lean form: one 16x16 unsigned multiplier and one memory for everything.
//
// Why: the iCE40 UP5K has 8 SB_MAC16 and 30 EBR. The pipelined form
// (lg_rmsnorm.v plus lg_rsqrt.v) spends ten multipliers; this form
// time-shares a single 16x16 multiplier (sign-magnitude operands) between
// the block-float shift of the inputs, the sum of squares, the inverse
// square root (seed table + one Newton-Raphson step, inline) and the output
// scaling, and keeps the input vector, the gains and the seed table in one
// 32-bit-wide RAM (4 EBR at the iCEBreaker shape: 64 input words, 704 gains
// two a word, 192 seeds two a word = 512 x 32), trading cycles per element
// for DSPs, LUTs and EBR. Same parameters, ports and handshakes as the
// pipelined form (emitted instead of it when the emitter's mul_share is set).
//
// C twin: lg_ref_rmsnorm (src/ref_rmsnorm.c), bit-exact:
//   s = max(bitlen(max |x|) - 15, 0); m[i] = clamp(round(x[i] / 2^s), +-32767)
//   S = sum m[i]^2 + EPS[s]; (y, k) = rsqrt(S)   (lg_ref_rsqrt, seed table
//                                                  T[i] in the memory)
//   out[i] = sat32(round(m[i] * g[i] * y / 2^r)), r = k - e (g = gain
//            mantissas, e = gain exponent; round half up, negative r a
//            saturating left shift, sat32 symmetric +-(2^31 - 1)).
// How m avoids a barrel shifter: x / 2^s as x * 2^(16 - s) / 2^16 on the
// multiplier, two 16-bit limbs (see MANT below), written back over x.
// How the output scaling avoids a barrel shifter: with r clamped to
// [-15, 47] (r >= 47 gives 0 as |m * g * y| < 2^46; r <= -16 gives 0 or
// saturation as y > 2^15), r = 16 * (t - 1) + f with f in 1..16, t in 0..3.
// Y = y * 2^(16 - f) < 2^32 is made once per vector (1-bit shifts of y);
// per element |P| = |m| * |g| (< 2^30) and |P| * Y (four 16x16 products,
// accumulated 16 bits at a time into {acc, low}) leave |m * g * y| * 2^(16-f)
// whose bits from 16 * t on are the output: t more 16-bit right shifts of
// {acc, low} (the bits shifted out kept as half and sticky bits) put the
// window at low[30:0]. The sign is applied last (round half up of a negative
// value rounds its magnitude up only past one half).
//
// Schedule (one vector at a time):
//   LOAD   DIM inputs, one per cycle, written to the memory; the OR of
//          |x| >> 15 tracked (bitlen(max |x|) = bitlen(OR |x|))
//   SHIFT  1 cycle: s from the leading one
//   FSH    15 cycles (the YSH shifter): F = 2^(16 - s) in breg
//   MANT   6 cycles an element: read x, v_lo * F, v_hi * F, two additions,
//          m written back
//   SUM    DIM reads of m -> m*m, one per cycle, into acc (= EPS[s]
//          first); pipeline 3: DIM + 3 cycles
//   NORM   AW - 2 cycles: acc doubled in pairs while its top two bits are
//          0, so S * 4^j has its leading one in the top two bits; k = (AW -
//          2) / 2 - j, u = top 32 bits
//   RSQ    12 cycles: seed read, y0*y0, sq*u (two products), nr, y0*nr (two
//          products); y and the output shift r = k - e
//   YSH    15 cycles: Y = y << (16 - f)
//   OUT    one element every 7 cycles: reads of m and g, m*g, then P0*Y0,
//          P0*Y1, P1*Y0, P1*Y1 (P = P1 * 2^16 + P0, Y likewise) accumulated,
//          three cycles of (conditional) 16-bit shifts, round/saturate into
//          the output lane; the next element's reads and m*g overlap the
//          tail (3 cycles of read-ahead before the first)
// Multiplier: one 16x16 unsigned (|m|, |g| <= 32767; y0 < 2^16).
// Cycles per vector at full rate: the done pulse is high 15 * DIM + AW + 51
// cycles after the cycle of the first input handshake (DIM load + 1 shift
// + 15 fsh + 6 * DIM mant + DIM + 3 sum + AW - 2 norm + 12 rsq + 15 ysh +
// 7 * DIM + 7 out: 3 of read-ahead, 7 per element, 9 from the last m*g to
// its beat, 1 for the beat), AW = max(S_W, 34), whatever VL; s_ready is
// high again in the done cycle, so vectors can follow back to back. Inputs
// are taken one per cycle; one output element per 7 cycles (a beat per
// 7 * VL).
//
// Handshakes: s_* and m_* are valid/ready streams: a transfer happens on a
// clock edge with valid and ready both high; valid stays high and data stable
// until ready (m_* obeys this; s_* must). s_sel is sampled with the first
// element of each vector. The output is NR = ceil(DIM / VL) beats of VL
// elements: element b*VL + i in m_data[32*i +: 32] of beat b; lanes past DIM
// in the last beat are 0. m_last marks the last beat; done pulses for one
// cycle after it is accepted. While an output beat waits for m_ready the
// whole unit holds.

module ${MODULE} #(
    // $readmemh image of the whole memory (MW 32-bit words: the input area,
    // the gain mantissas in sign-magnitude, the rsqrt seeds T[i] < 2^16)
    parameter GAIN_FILE = "${GAIN_FILE}",
    // the rsqrt seed table image (unused: the seeds are part of GAIN_FILE;
    // kept so the lean form takes the pipelined form's parameters)
    /* verilator lint_off UNUSEDPARAM */
    parameter RSQRT_FILE = "${RSQRT_FILE}",
    /* verilator lint_on UNUSEDPARAM */
    // output elements per beat (>= 1, a power of two)
    parameter VL = 1
) (
    input  wire                 clk,
    input  wire                 rst,

    // ---- input vector: DIM Q16 values, s_sel with the first -------------
    input  wire                 s_valid,
    output wire                 s_ready,
    input  wire [31:0]          s_data,
    input  wire [SEL_W-1:0]     s_sel,

    // ---- output vector: NR beats of VL Q16 values ------------------------
    output reg                  m_valid,
    input  wire                 m_ready,
    output reg  [VL*32-1:0]     m_data,
    output reg                  m_last,

    // one-cycle pulse: the last output beat was accepted
    output reg                  done
);

// Constants baked at generation time: vector length, number of gain
// vectors, width of the sum of squares (DIM * 32767^2 + max EPS, even), and
// the memory layout (words, where the seeds start).
localparam integer DIM = ${DIM};
localparam integer NVEC = ${NVEC};
localparam integer S_W = ${S_W};

// The one memory: MW words; the seeds from word 128 * SEED_HI + 32 on (so
// the word address of seed u[31:24] - 64 is {SEED_HI, u[31:25]}).
localparam integer MW = ${MEM_WORDS};
localparam integer SEED_HI = ${SEED_HI};
localparam integer MA = $clog2(MW);
localparam [31:0] SEED_W0_32 = SEED_HI * 128;
localparam [MA-1:0] SEED_W0 = SEED_W0_32[MA-1:0];
localparam integer ADDR_W = DIM > 1 ? $clog2(DIM) : 1;
// gain pointer: a half-word address (the gains from half-word 2 * DIM on)
localparam integer GADDR_W = MA + 1;
localparam integer SEL_W = NVEC > 1 ? $clog2(NVEC) : 1;
localparam integer LAST = DIM - 1;
localparam [ADDR_W-1:0] LAST_ADDR = LAST[ADDR_W-1:0];
localparam integer LVW = VL > 1 ? $clog2(VL) : 1;
localparam [31:0] VL_M1 = VL - 1;
localparam [LVW-1:0] LANE_LAST = VL_M1[LVW-1:0];
// accumulator: the sum of squares, and 34 bits for the 16-bit-step products
localparam integer AW = S_W > 34 ? S_W : 34;
// NORM cycles (k before any doubling, (AW - 2) / 2, is baked into rq0)
localparam [31:0] NORM_M1 = AW - 3;
localparam [5:0] NORM_LAST = NORM_M1[5:0];
// gain vector base sel * DIM: a shift when DIM is a power of two
localparam integer DIM_LOG = $clog2(DIM);
localparam DIM_POW2 = (DIM == (1 << DIM_LOG));
localparam [GADDR_W-1:0] DIM_G = DIM[GADDR_W-1:0];
localparam [31:0] DIM2_32 = 2 * DIM;
localparam [GADDR_W-1:0] DIM2_G = DIM2_32[GADDR_W-1:0];

initial begin
    if (VL < 1 || (VL & (VL - 1)) != 0 || S_W > 64 || S_W < 32 || SEED_HI < 1 ||
        MW != 128 * SEED_HI + 128) begin
        $error("Error: VL a power of two, S_W 32..64, MW = 128 * (SEED_HI + 1) (instance %m)");
        $finish;
    end
end

// ---- constant tables ---------------------------------------------------------
// EPS[s] = round(eps * DIM * 2^(32 - 2s)), s = 0..17.
reg [4:0]     s_r;   // block-float shift of the current vector
reg [S_W-1:0] eps;
always @* begin
    case (s_r)
${EPS_CASES}
        default: eps = {S_W{1'b0}};
    endcase
end

// Per gain vector (gain = mant * 2^e): rq0 = K0 + 15 - e (K0 = (AW - 2) / 2,
// k before NORM takes it down): r + 15 = k - e + 15 without a subtractor.
reg [SEL_W-1:0]  sel_r; // gain vector of the current vector
reg signed [8:0] rq0;
always @* begin
    case (sel_r)
${RQ0_CASES}
        default: rq0 = 9'sd0;
    endcase
end

// ---- control state -----------------------------------------------------------
localparam [2:0] ST_LOAD = 3'd0, ST_SHIFT = 3'd1, ST_SUM = 3'd2, ST_NORM = 3'd3,
                 ST_RSQ = 3'd4, ST_YSH = 3'd5, ST_OUT = 3'd6, ST_MANT = 3'd7;
reg [2:0] state;
reg [5:0] st;       // step within NORM, RSQ, YSH

// Everything holds while an output beat waits (en = 0 only in OUT).
wire en = !m_valid || m_ready;

// ---- LOAD: input transfers, OR of |x|, RAM writes ------------------------------
assign s_ready = (state == ST_LOAD);
wire s_fire = s_valid && s_ready;

reg [ADDR_W-1:0] wr_addr;
// Only |x| >> 15 decides s: for x < 0 it is ~x[31:15] + (x[14:0] == 0).
reg [16:0]       maxor;   // OR of |x| >> 15 over the vector
wire [16:0]      s_abs = s_data[31] ? ~s_data[31:15] + {16'd0, s_data[14:0] == 15'd0}
                                    : s_data[31:15];

// (cleared in SHIFT, after its use: a synchronous reset, no first-element mux)
always @(posedge clk)
    if (rst || state == ST_SHIFT)
        maxor <= 17'd0;
    else if (s_fire)
        maxor <= maxor | s_abs;

always @(posedge clk)
    if (s_fire && wr_addr == {ADDR_W{1'b0}})
        sel_r <= s_sel;

// ---- SHIFT: s = max(bitlen(max |x|) - 15, 0) = bitlen(OR (|x| >> 15)) ----------
reg [4:0] maxbits;
integer i;
always @* begin
    maxbits = 5'd0;
    for (i = 0; i < 17; i = i + 1)
        if (maxor[i])
            maxbits = i[4:0] + 5'd1;
end

always @(posedge clk)
    if (state == ST_SHIFT)
        s_r <= maxbits;

// ---- gain vector base: half-word (sel + 2) * DIM -----------------------------
wire [GADDR_W-1:0] gbase;
generate
    if (DIM_POW2) begin : g_base_shift
        wire [GADDR_W+SEL_W-1:0] sh =
            ({{GADDR_W{1'b0}}, sel_r} + {{(GADDR_W + SEL_W - 2){1'b0}}, 2'd2}) << DIM_LOG;
        assign gbase = sh[GADDR_W-1:0];
        wire unused_sh = &{1'b0, sh[GADDR_W+SEL_W-1:GADDR_W]};
    end else begin : g_base_add
        // sel_r additions of DIM, one per cycle from SHIFT on (NVEC - 1 <=
        // DIM + 60 cycles, checked by the emitter; MANT alone takes 6 * DIM)
        reg [GADDR_W-1:0] acc_b;
        reg [SEL_W-1:0]   left;
        always @(posedge clk)
            if (state == ST_SHIFT) begin
                acc_b <= DIM2_G;
                left <= sel_r;
            end else if (left != {SEL_W{1'b0}}) begin
                acc_b <= acc_b + DIM_G;
                left <= left - 1'b1;
            end
        assign gbase = acc_b;
    end
endgenerate

// ---- the memory: input words, mantissas, gains, seeds ------------------------
// One MW x 32 RAM (512 words, 4 EBR, at the iCEBreaker shape, instead of a
// RAM for x, a ROM for the gains and one for the seeds):
//   word i < DIM      x[i] from LOAD, then {.., sign, |m[i]|} from MANT
//   half-words 2 * DIM + v * DIM + i   gain v, element i: {sign, |g|}
//   half-words 256 * SEED_HI + u8 (u8 = 64..255)   seed T[u8 - 64]
// Read data registered (one cycle); the half-word of a gain or seed read is
// picked by hsel, the low bit of its half-word address.
reg [2:0]         c;       // MANT, OUT: cycle within the element slot
reg               slot_v;  // OUT: this slot carries an element
reg [ADDR_W-1:0]  rd_addr; // element of the next read
reg               rd_busy; // SUM, OUT: reads of this pass still to issue
reg [GADDR_W-1:0] gptr;    // half-word address of the next gain read
reg               hsel;    // the half-word of the last gain or seed read
wire rd_fire = rd_busy && en && (state == ST_SUM || (state == ST_OUT && c == 3'd4));

reg [31:0]  mem [0:MW-1];
initial $readmemh(GAIN_FILE, mem);
reg [MA-1:0] raddr;
reg [31:0]   rdata;
wire [31:0]  u;            // NORM result (below): the seed index is u[31:24]
always @* begin
    if (state == ST_RSQ)
        raddr = SEED_W0 | {{(MA - 7){1'b0}}, u[31:25]};
    else if (state == ST_OUT && c == 3'd5)
        raddr = gptr[GADDR_W-1:1];
    else
        raddr = {{(MA - ADDR_W){1'b0}}, rd_addr};
end
// No read in a write cycle (no read there is needed): the read and write
// enables exclusive, so synthesis adds no read-during-write bypass.
wire        mem_we;
always @(posedge clk)
    if (en && !mem_we)
        rdata <= mem[raddr];
always @(posedge clk)
    if (en)
        hsel <= (state == ST_OUT) ? gptr[0] : u[24];
wire [15:0] hw = hsel ? rdata[31:16] : rdata[15:0];

// MANT: m[i] = clamp(round(x / 2^s), +-32767) on the multiplier, written back.
// With v = x ^ sign (|x| - 1 for x < 0, |x| otherwise: v < 2^(s + 15)),
// |m| = (v + 2^(s-1)) >> s for s >= 1 (round half up of x), |x| for s = 0.
// For s = 1..16, F = 2^(16 - s): acc = v_lo * F + 2^15, then (acc >> 16) +
// v_hi * F = (v * F + 2^15) >> 16 = |m| (<= 32768, clamped). s = 0: acc =
// v_lo + sign (= |x| <= 32767), no second step. s = 17 (some x = -2^31):
// F = 1, acc = v_lo + 2^16, then (acc >> 16) + v_hi, and |m| = that >> 1.
// F is made in breg by the YSH shifter before MANT (FSH: 1 << (16 - s)).
wire        m_s0 = s_r == 5'd0;
wire        m_s17 = s_r == 5'd17;
wire        x_sgn = rdata[31];

// ---- the multiplier and its operand registers ---------------------------------
reg [15:0] mreg;  // v_lo, v_hi (MANT), |m| (SUM, OUT) or y0 (RSQ)
reg        msgn;
reg [15:0] greg;  // |g| (OUT) or sq (RSQ)
reg        gsgn;
reg [31:0] preg;  // P = |m * g| (OUT), u (RSQ)
reg [31:0] breg;  // F (MANT), Y = y << (16 - f) (OUT), nr (RSQ)
reg [31:0] pr;    // registered product

// operand selects: A 0 mreg, 1 pr[15:0], 2 preg[15:0], 3 preg[31:16];
//                  B 0 mreg, 1 greg, 2 breg[15:0], 3 breg[31:16]
reg [1:0] sel_a, sel_b;
always @* begin
    sel_a = 2'd0;
    sel_b = 2'd0;
    if (state == ST_MANT) begin
        sel_b = 2'd2; // v_lo, v_hi times F
    end else if (state == ST_OUT) begin
        case (c)
            3'd0: begin sel_a = 2'd0; sel_b = 2'd1; end
            3'd1: begin sel_a = 2'd1; sel_b = 2'd2; end
            3'd2: begin sel_a = 2'd2; sel_b = 2'd3; end
            3'd3: begin sel_a = 2'd3; sel_b = 2'd2; end
            3'd4: begin sel_a = 2'd3; sel_b = 2'd3; end
            default: begin sel_a = 2'd0; sel_b = 2'd0; end
        endcase
    end else if (state == ST_RSQ) begin
        case (st[3:0])
            4'd4: begin sel_a = 2'd2; sel_b = 2'd1; end // sq * u_lo
            4'd5: begin sel_a = 2'd3; sel_b = 2'd1; end // sq * u_hi
            4'd8: begin sel_a = 2'd0; sel_b = 2'd2; end // y0 * nr_lo
            4'd9: begin sel_a = 2'd0; sel_b = 2'd3; end // y0 * nr_hi
            default: begin sel_a = 2'd0; sel_b = 2'd0; end // y0 * y0
        endcase
    end
end

reg [15:0] mul_a, mul_b;
always @* begin
    case (sel_a)
        2'd0: mul_a = mreg;
        2'd1: mul_a = pr[15:0];
        2'd2: mul_a = preg[15:0];
        default: mul_a = preg[31:16];
    endcase
    case (sel_b)
        2'd0: mul_b = mreg;
        2'd1: mul_b = greg;
        2'd2: mul_b = breg[15:0];
        default: mul_b = breg[31:16];
    endcase
end

always @(posedge clk)
    if (en)
        pr <= mul_a * mul_b;

// ---- SUM pipeline valid flags ---------------------------------------------------
reg a_v, a_last, m_v, m_last_s, p_v, p_last;
always @(posedge clk) begin
    if (en) begin
        a_v <= rd_fire && state == ST_SUM;
        a_last <= rd_addr == LAST_ADDR;
        m_v <= a_v;
        m_last_s <= a_last;
        p_v <= m_v;
        p_last <= m_last_s;
    end
    if (rst) begin
        a_v <= 1'b0;
        m_v <= 1'b0;
        p_v <= 1'b0;
    end
end

// ---- the accumulator: {acc, low} ------------------------------------------------
reg [AW-1:0] acc;
reg [31:0]   low;   // bits shifted out of acc (OUT)
reg          half;  // bit below the output window
reg          sticky; // OR of the bits below that
reg          go_r;  // NORM: this pair doubles
reg signed [8:0] rq; // r + 15 = k - e + 15 (k of rsqrt(S))
reg [4:0]    tail;  // OUT: tail steps of the element in flight (one-hot)
reg [1:0]    t_r;   // OUT: 16-bit right shifts after the products (0..3)

wire acc_top0 = acc[AW-1:AW-2] == 2'b00;
wire [AW-1:0] acc_sh16 = {16'd0, acc[AW-1:16]};
wire [AW-1:0] pr_w = {{(AW - 32){1'b0}}, pr};
// MANT rounding constant: 2^15, 2^16 for s = 17, the sign for s = 0
wire [AW-1:0] m_k = {{(AW - 17){1'b0}}, m_s17, !m_s0 && !m_s17, 14'd0, m_s0 && x_sgn};

// tail step d (1..3) shifts while d <= t
wire tail_sh = (tail[1] && t_r != 2'd0) || (tail[2] && t_r[1]) || (tail[3] && t_r == 2'd3);
wire out_c2 = state == ST_OUT && slot_v && c == 3'd2;
wire out_c3 = state == ST_OUT && slot_v && c == 3'd3;
wire out_c4 = state == ST_OUT && slot_v && c == 3'd4;

// adder operands: A in {0, acc, acc >> 16, m_k}, B in {0, pr, acc}
reg [1:0] acc_am, acc_bm; // A: 0 zero, 1 acc, 2 acc >> 16, 3 m_k; B: 0 zero, 1 pr, 2 acc
reg       acc_we, acc_eps;
always @* begin
    acc_am = 2'd0;
    acc_bm = 2'd0;
    acc_we = 1'b0;
    acc_eps = 1'b0;
    case (state)
        ST_MANT: begin
            acc_we = c == 3'd3 || (c == 3'd4 && !m_s0);
            acc_am = c == 3'd3 ? 2'd3 : 2'd2;
            acc_bm = 2'd1;
        end
        ST_SUM: begin
            acc_eps = rd_addr == {ADDR_W{1'b0}} && rd_busy; // first SUM cycle
            acc_we = p_v || acc_eps;
            acc_am = 2'd1;
            acc_bm = 2'd1;
        end
        ST_NORM: begin
            acc_we = st[0] ? go_r : acc_top0;
            acc_am = 2'd1;
            acc_bm = 2'd2;
        end
        ST_RSQ: begin
            acc_we = st[3:0] == 4'd5 || st[3:0] == 4'd6 || st[3:0] == 4'd9 || st[3:0] == 4'd10;
            acc_am = (st[3:0] == 4'd6 || st[3:0] == 4'd10) ? 2'd2 : 2'd0;
            acc_bm = 2'd1;
        end
        ST_OUT: begin
            acc_we = out_c2 || out_c3 || out_c4 || tail[0] || tail_sh;
            acc_am = (out_c3 || tail[0] || tail_sh) ? 2'd2 : out_c4 ? 2'd1 : 2'd0;
            acc_bm = tail_sh ? 2'd0 : 2'd1;
        end
        default: ;
    endcase
end

wire [AW-1:0] acc_a = acc_am == 2'd1 ? acc : acc_am == 2'd2 ? acc_sh16 :
                      acc_am == 2'd3 ? m_k : {AW{1'b0}};
wire [AW-1:0] acc_b = acc_bm == 2'd1 ? pr_w : acc_bm == 2'd2 ? acc : {AW{1'b0}};
wire [AW-1:0] acc_sum = acc_a + acc_b;
wire          low_sh = out_c3 || tail[0] || tail_sh;

always @(posedge clk)
    if (en) begin
        if (acc_eps)
            acc <= {{(AW - S_W){1'b0}}, eps};
        else if (acc_we)
            acc <= acc_sum;
        if (low_sh)
            low <= {acc[15:0], low[31:16]};
        if (tail[0]) begin
            half <= 1'b0;
            sticky <= 1'b0;
        end else if (tail_sh) begin
            half <= low[15];
            sticky <= sticky | half | (|low[14:0]);
        end
    end

// MANT write-back: {sign, |m|} in the low half of word i (the high half
// rewritten with whatever s_data holds; only the low half is read again)
wire [15:0] m_val = m_s17 ? acc[16:1] : acc[15:0];
wire [15:0] m_word = {x_sgn, m_val[14:0] | {15{m_val[15]}}};
assign      mem_we = s_fire || (en && state == ST_MANT && c == 3'd5);
wire [MA-1:0] waddr = {{(MA - ADDR_W){1'b0}}, (state == ST_LOAD) ? wr_addr : rd_addr};
wire [31:0] wdata = {s_data[31:16], (state == ST_LOAD) ? s_data[15:0] : m_word};
always @(posedge clk)
    if (mem_we)
        mem[waddr] <= wdata;

// ---- NORM / RSQ: rsqrt(S) = y * 2^(-16-k) -----------------------------------------
// u = S * 2^(30 - 2k) (S = 0 counts as 1: u = 2^30)
wire [31:0] u_raw = acc[AW-1:AW-32];
assign u = (u_raw == 32'd0) ? 32'h4000_0000 : u_raw;

// y0 from the seed read (issued in RSQ step 0)
wire [15:0] y0 = hw;

// nr = max(3 * 2^16 - g y0^2, 0), g y0^2 = acc >> 14 after the sq * u pair;
// with the seed table g y0^2 < 3 * 2^16 for every u (the emitter checks the
// largest u of each seed), so no clamp
wire [17:0] gy2 = acc[31:14];
wire [17:0] nr = 18'd196608 - gy2;

// output shift r = k - e: special (r <= -16: 0 or saturation, rq < 0),
// else r' = min(r, 47) = 16 * (t - 1) + f, f in 1..16, Y = y << (16 - f):
// r_q = r' + 15 = min(rq, 62) = (t << 4) + f - 1
wire              r_spec = rq[8];
wire [5:0]        r_q = (rq > 9'sd62) ? 6'd62 : rq[5:0];
reg               spec_r;
reg [3:0]         ysh_r;
reg               fsh;   // YSH makes F for MANT (else Y for OUT)
// F = 1 << (16 - s) for s = 1..16 (15 - (s - 1) shifts), else 1
wire [3:0]        s_m1 = maxbits[3:0] - 4'd1;

always @(posedge clk)
    if (en) begin
        if (state == ST_NORM && !st[0])
            go_r <= acc_top0;
        if (state == ST_NORM && !st[0] && acc_top0)
            rq <= rq - 9'sd1;
        else if (state == ST_SUM)
            rq <= rq0;
        if (state == ST_SHIFT) begin
            breg <= 32'd1;
            ysh_r <= (maxbits == 5'd0 || maxbits == 5'd17) ? 4'd0 : ~s_m1;
        end else if (state == ST_RSQ && st[3:0] == 4'd7) begin
            breg <= {14'd0, nr};
        end else if (state == ST_RSQ && st[3:0] == 4'd11) begin
            breg <= {15'd0, acc[17:1]};
            spec_r <= r_spec;
            t_r <= r_spec ? 2'd0 : r_q[5:4];
            ysh_r <= r_spec ? 4'd0 : ~r_q[3:0];
        end else if (state == ST_YSH && st[3:0] < ysh_r) begin
            breg <= {breg[30:0], 1'b0};
        end
    end

// ---- operand registers ----------------------------------------------------------
always @(posedge clk)
    if (en) begin
        if (state == ST_MANT && c == 3'd1)
            mreg <= rdata[15:0] ^ {16{x_sgn}};
        else if (state == ST_MANT && c == 3'd2)
            mreg <= {1'b0, rdata[30:16] ^ {15{x_sgn}}};
        else if (state == ST_SUM || (state == ST_OUT && c == 3'd5)) begin
            mreg <= {1'b0, rdata[14:0]};
            msgn <= rdata[15];
        end else if (state == ST_RSQ && st[3:0] == 4'd1) begin
            mreg <= y0;
        end
        if (state == ST_OUT && c == 3'd6) begin
            greg <= {1'b0, hw[14:0]};
            gsgn <= hw[15];
        end else if (state == ST_RSQ && st[3:0] == 4'd3) begin
            greg <= pr[31:16];
        end
        if (state == ST_RSQ && st[3:0] == 4'd0)
            preg <= u;
        else if (state == ST_OUT && slot_v && c == 3'd1)
            preg <= {2'd0, pr[29:0]};
    end

// ---- OUT: element slots, tail, output lanes -------------------------------------
reg neg_h, neg_t; // sign of m * g: head (slot), tail
always @(posedge clk)
    if (en) begin
        if (state == ST_OUT && slot_v && c == 3'd0)
            neg_h <= msgn ^ gsgn;
        if (tail[0])
            neg_t <= neg_h;
    end

// window: low[30:0]; above it acc and low[31]; round half up with the sign
wire [30:0] w = low[30:0];
wire        w_hi = low[31] || (|acc);
wire        w_up = half && (!neg_t || sticky);
wire        w_sat = w_hi || (w_up && (&w)) || (spec_r && (|w));
// saturation as the window of all ones rounded down: 2^31 - 1, or with the
// sign -(2^31 - 1) (~w + 1 on 32 bits)
wire [30:0] w_eff = w | {31{w_sat}};
wire        w_upe = w_up && !w_sat;
wire [31:0] w_res = ({1'b0, w_eff} ^ {32{neg_t}}) + {31'd0, w_upe ^ neg_t};

reg [LVW-1:0]    olane;
reg [ADDR_W-1:0] oidx;
wire             o_wr = tail[4];
wire             o_end = oidx == LAST_ADDR;

genvar g;
generate
    for (g = 0; g < VL; g = g + 1) begin : g_lane
        always @(posedge clk)
            if (en && o_wr) begin
                if (olane == g[LVW-1:0])
                    m_data[32*g +: 32] <= w_res;
                else if (olane == {LVW{1'b0}})
                    m_data[32*g +: 32] <= 32'd0;
            end
    end
endgenerate

always @(posedge clk) begin
    if (en) begin
        m_valid <= o_wr && (olane == LANE_LAST || o_end);
        if (o_wr) begin
            m_last <= o_end;
            olane <= (olane == LANE_LAST || o_end) ? {LVW{1'b0}} : olane + 1'b1;
            oidx <= o_end ? {ADDR_W{1'b0}} : oidx + 1'b1;
        end
        tail <= {tail[3:0], out_c4};
    end
    if (rst) begin
        m_valid <= 1'b0;
        m_last <= 1'b0;
        olane <= {LVW{1'b0}};
        oidx <= {ADDR_W{1'b0}};
        tail <= 5'd0;
    end
end

// ---- sequencer ---------------------------------------------------------------
always @(posedge clk) begin
    done <= 1'b0;
    if (en) begin
        case (state)
            ST_LOAD:
                if (s_fire) begin
                    wr_addr <= wr_addr + 1'b1;
                    if (wr_addr == LAST_ADDR) begin
                        wr_addr <= {ADDR_W{1'b0}};
                        state <= ST_SHIFT;
                    end
                end
            ST_SHIFT: begin
                state <= ST_YSH;
                fsh <= 1'b1;
                st <= 6'd0;
            end
            ST_MANT: begin
                c <= (c == 3'd5) ? 3'd0 : c + 1'b1;
                if (c == 3'd5) begin
                    rd_addr <= rd_addr + 1'b1;
                    if (rd_addr == LAST_ADDR) begin
                        state <= ST_SUM;
                        rd_busy <= 1'b1;
                        rd_addr <= {ADDR_W{1'b0}};
                    end
                end
            end
            ST_SUM:
                if (p_v && p_last) begin
                    state <= ST_NORM;
                    st <= 6'd0;
                end
            ST_NORM: begin
                st <= st + 1'b1;
                if (st == NORM_LAST) begin
                    state <= ST_RSQ;
                    st <= 6'd0;
                end
            end
            ST_RSQ: begin
                st <= st + 1'b1;
                if (st[3:0] == 4'd11) begin
                    state <= ST_YSH;
                    st <= 6'd0;
                end
            end
            ST_YSH: begin
                st <= st + 1'b1;
                if (st[3:0] == 4'd14 && fsh) begin
                    state <= ST_MANT;
                    fsh <= 1'b0;
                    rd_addr <= {ADDR_W{1'b0}};
                    c <= 3'd0;
                end else if (st[3:0] == 4'd14) begin
                    state <= ST_OUT;
                    rd_busy <= 1'b1;
                    rd_addr <= {ADDR_W{1'b0}};
                    gptr <= gbase;
                    c <= 3'd4;
                    slot_v <= 1'b0;
                end
            end
            ST_OUT: begin
                c <= (c == 3'd6) ? 3'd0 : c + 1'b1;
                if (c == 3'd4)
                    slot_v <= rd_busy;
                if (c == 3'd5 && slot_v)
                    gptr <= gptr + 1'b1;
                if (m_valid && m_ready && m_last) begin
                    state <= ST_LOAD;
                    done <= 1'b1;
                end
            end
            default:
                state <= ST_LOAD;
        endcase
        // Element reads of the SUM and OUT passes.
        if (rd_fire) begin
            rd_addr <= rd_addr + 1'b1;
            if (rd_addr == LAST_ADDR)
                rd_busy <= 1'b0;
        end
    end
    if (rst) begin
        state <= ST_LOAD;
        wr_addr <= {ADDR_W{1'b0}};
        rd_busy <= 1'b0;
        rd_addr <= {ADDR_W{1'b0}};
        st <= 6'd0;
        c <= 3'd0;
        slot_v <= 1'b0;
        fsh <= 1'b0;
        done <= 1'b0;
    end
end

endmodule

`resetall
