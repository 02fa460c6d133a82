`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: rotary position embedding of N_HEADS heads of HEAD_SIZE (Q16),
// mul_share form: one 16x16 multiplier (one SB_MAC16) for everything.
//
// Why: the iCE40 UP5K has 8 DSPs for the whole decoder; the streaming form
// (lg_rope.v) spends 13 on one element per cycle, far more rate than the
// mat-vec feeding it delivers. This form runs each pair through a sequence of
// 16x16 unsigned products on one multiplier and one 19-bit accumulator that
// works in 16-bit digits (each product enters as its low or its high half):
//   P = pos * INC[j] mod 2^32       4 steps (lo and hi of lo*lo, lo of hi*lo,
//                                   lo of lo*hi)
//   -P                              the same 4, negated (the quadrant fold of
//                                   sin or cos: 2^30 - r, see ${SINCOS_MODULE})
//   sin, cos                        2 products D * fr, table from ${SINCOS_MODULE}
//                                   (two table reads each, T[i+1] then T[i])
//   y[2j], y[2j+1]                  8 steps each: x in 16-bit chunks (x =
//                                   xh * 2^16 + xl, xl >= 0, xh signed: |xh|
//                                   and its sign) times |c| or |s| (<= 65536),
//                                   the low and the high half of each product,
//                                   signs applied in the accumulator
// The rotation sums are taken digit by digit, low digit first with the
// rounding constant 2^15; the step that moves on to the next digit shifts the
// accumulator right by 16 (digit 1, the result's low half, is kept in ylo):
// the exact floor((v + 2^15) / 2^16) of the streaming form. The constants (0
// for the phase digits, 2^15 for the rotation sums) enter as the adder's base
// in each sum's first step (no accumulator presets). A finished rotation sum
// is saturated in place (two steps, the adder and the flip-flops' synchronous
// resets: no output multiplexer) and stays in acc and ylo, m_data's source
// (no output register), until it is taken.
//
// Why so many cycles: the lean decoder streams its weights from flash, two
// mat-vec rows per pair at lanes 2 (64 cycles at dim 64): a pair of 64 cycles
// costs no time there, and each serialized step saves logic (the 19-bit
// accumulator instead of 34 bits, no saturation multiplexer, a sequence
// counter that mostly steps by one).
//
// C twin: lg_ref_rope (src/ref_rope.c), bit-exact: for each head and pair j
//   (s, c) = sincos(pos * INC[j] mod 2^32)
//   y[2j]   = sat32(round(x[2j] * c - x[2j+1] * s, 16))
//   y[2j+1] = sat32(round(x[2j] * s + x[2j+1] * c, 16))
// (round half up: floor(v / 2^16) + bit 15 of v; sat32 symmetric).
// INC image (INC_FILE): HEAD_SIZE / 2 words of 32 bits,
// INC[j] = round(theta^(-2j/HEAD_SIZE) / (2 pi) * 2^32).
//
// Latency / throughput (no stalls): y[2j] is valid on m_* 39 cycles after the
// handshake cycle of x[2j+1], y[2j+1] 63 cycles after it; s_ready is high
// only while waiting for a pair's two elements, so a pair takes 64 cycles
// (2 input handshakes + 62 sequence cycles): 32 cycles per element
// (LG_ROPE_SHARE_Y0 / Y1 in include/llamagen/emit_units2.h, the decoder's cycle
// model). The timing does not depend on the data.
//
// Handshakes: s_* and m_* are valid/ready streams (a transfer on a clock edge
// with valid and ready high; valid stays high and data stable until ready).
// s_pos is the vector's position, read by every pair's phase steps: the
// producer holds it from the vector's first element until its m_last output
// has been taken (the decoder's position register does; no copy register
// here); m_last marks the last element of a vector. The sequence waits at the first step after each
// output (rotation step 8 and the next pair's PH0, which overwrite the
// accumulator, m_data's source) while m_valid is high (it drops the cycle
// after the transfer).

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

    // ---- input vector: N_HEADS * HEAD_SIZE Q16 values; s_pos held through it
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

// ---- sequence steps ---------------------------------------------------------
// A counter that steps by one (IN -> 0 the only jump), in three blocks of 16:
// st[5:4] = 00: the phase and table steps, st = {2'b00, m, g}: m = st[3]
// the -P half (s_mirror), g = st[2:0] the step in it: 0-3 phase digits, 4-6
// the table stage (7: a pause);
// st[5:4] = 01 / 10: y[2j] / y[2j+1]: st[3] = 0 the rotation steps k =
// st[2:0] (two cycles each), then st[3:0] = 8-11 T (a pause, so that the
// table address is steady), 12 U, 13 V (saturation, out), 14-15 a pause (y[2j]).
// Lookup A (sin or cos, the one with q[0] = 0) from P, B (the other) from -P.
localparam [5:0] S_PH0 = 6'd0;  // acc = lo(pos_lo * inc_lo) (waits for y[2j+1] out)
//                     6'd1      PH1: acc = (acc >> 16) + hi(pos_lo * inc_lo)
//                               (P[15:8] = acc[15:8] saved in ylo[15:8] first)
//                     6'd2      PH2: acc += lo(pos_hi * inc_lo)
//                     6'd3      PH3: acc += lo(pos_lo * inc_hi): P[31:16] = acc[15:0]
//                     6'd4      SA0: table read T[i+1] of A
localparam [5:0] S_SA1 = 6'd5;  // table read T[i] of A; sw = P[30]
localparam [5:0] S_SA2 = 6'd6;  // |A| = interpolation
//                     6'd8-11   NP0-3: as PH0-3, terms negated: -P
//                               (acc holds P in SA0-2 and -P in SB0-2)
//                     6'd12     SB0: table read T[i+1] of B
localparam [5:0] S_SB1 = 6'd13; // SB1: table read T[i] of B
localparam [5:0] S_SB2 = 6'd14; // |B| = interpolation
localparam [5:0] S_SW  = 6'd15; // A = cos (sw): swap to |cos|, |sin|
//                     6'd16-23  rotation steps k = 0-7: y[2j]
//                     6'd24-27  T0: pause, then
//                     6'd28     U0: acc = all ones if y[2j] saturates, and
//                     6'd29     V0: saturate y[2j] in place; out
//                     6'd30-31  pause
localparam [5:0] S_R8  = 6'd32; // k = 8 (waits for y[2j] to be taken); 32-39: y[2j+1]
//                     6'd40-45  T1, U1 (44), V1 (45): y[2j+1] out
localparam [5:0] S_V1  = 6'd45;
localparam [5:0] S_IN  = 6'd46; // waiting for x[2j], x[2j+1]

reg [5:0] st;

// The output register is free once m_valid has dropped (the cycle after
// the transfer), not already in the transfer's cycle (!m_valid || m_ready):
// no combinational path from m_ready into the sequence. The consumer's
// ready can depend on m_data (the decoder's K offset test does), and that
// loop through two units was the decoder's longest path on the UP5K
// (docs/fpga.md). It costs a cycle only when an output is taken in the
// very cycle the sequence waits for it (R8, PH0): never at full rate, where
// y[2j] goes 3 cycles before R8 and y[2j+1] before the next pair's inputs.
wire out_free = !m_valid;
assign s_ready = st == S_IN;
wire s_fire = s_valid && s_ready;

wire       blk = st[5] ^ st[4];               // y[2j] or y[2j+1]
wire       rot = blk && !st[3];               // rotation step
wire [3:0] k = {st[5], st[2:0]};              // k >= 8: y[2j+1]
wire [1:0] g = st[1:0];
wire       ph = !st[5] && !st[4] && !st[2];   // PH0-3, NP0-3
wire       sat_st = blk && st[3:0] == 4'd12;  // U0, U1
wire       sat_fix = blk && st[3:0] == 4'd13; // V0, V1
// every rotation step takes two cycles, rep the second: the same operands,
// acc += term again if |c| or |s| is 65536 (see ca below), else a pause (a
// fixed timing)
reg        rep;
reg [16:0] ca, cb;  // |cos|, |sin| (below)
wire       dbl = rot && !rep;
wire       step = st == S_IN ? s_fire && odd
                : st == S_PH0 || st == S_R8 ? out_free : 1'b1;
wire       adv = step && !dbl;           // on to the next step
wire       out_step = sat_fix && adv; // y[2j] (V0), y[2j+1] (V1)

// The multiplier's operand multiplexers (below) and the INC table's address
// gate take their selects from flip-flops, loaded with the decode of the
// state st takes at the same clock edge (st_nx), not decoded from st: the
// multiplier is combinational (9 ns on the UP5K), and the decode in front of
// it made state -> operands -> product -> accumulator the design's longest
// path (docs/fpga.md, "Timing with the DSP delays").
wire [5:0] st_nx = rst ? S_IN : !adv ? st : st == S_IN ? S_PH0 : st + 6'd1;
reg        op_rot, op_tab, op_g3, op_g2, op_ph;
always @(posedge clk) begin
    op_rot <= (st_nx[5] ^ st_nx[4]) && !st_nx[3];   // rot
    op_tab <= st_nx[2];                              // st[2]: SA2, SB2 (not rot)
    op_g3 <= st_nx[1:0] == 2'd3;                     // g == 3
    op_g2 <= st_nx[1:0] == 2'd2;                     // g == 2
    op_ph <= !st_nx[5] && !st_nx[4] && !st_nx[2];    // ph
end

// ---- input side: pair assembly ---------------------------------------------
reg           odd; // next element is x[2j+1]
reg [J_W-1:0] j;   // pair within the head (steps on after the pair's
reg [H_W-1:0] h;   // head within the vector   rotation: INC address, m_last)
wire          j_end = j == J_LAST[J_W-1:0];
wire          h_end = h == H_LAST[H_W-1:0];

always @(posedge clk) begin
    if (s_fire)
        odd <= !odd;
    if (st == S_V1 && adv) begin
        j <= j_end ? {J_W{1'b0}} : j + 1'b1;
        if (j_end)
            h <= h_end ? {H_W{1'b0}} : h + 1'b1;
    end
    if (rst) begin
        odd <= 1'b0;
        j <= {J_W{1'b0}};
        h <= {H_W{1'b0}};
    end
end

// Each element as two chunks x = xh * 2^16 + xl: the low chunk xl = x[15:0]
// (unsigned, 0 .. 2^16 - 1, taken as it is) and the high chunk xh = x[31:16]
// as a signed number, kept as its magnitude |xh| (0 .. 2^15) and the sign s
// of x: only the high half needs a negation, |xh| = (xh - s) ^ s (-xh =
// ~(xh - 1)), one LUT and one carry per bit of 16.
wire [15:0] s_hdec = s_data[31:16] + {16{s_data[31]}};
wire [15:0] s_habs = s_hdec ^ {16{s_data[31]}};

// The chunks as a ring of 16 bits each, xr0 the multiplier's operand: a
// handshake shifts {xr1, xr3} into {xr0, xr2} and loads xl, |xh| into
// {xr1, xr3}, so after x[2j], x[2j+1] the ring holds x0l, x1l, |x0h|, |x1h|,
// the order of the rotation steps' chunks (k[1] = 1: the high chunks, signed
// by their element's sign; the low chunks are positive); each rotation step
// turns the ring by one (twice round for each output). xs0 is the sign of
// xr0's element, xs1 the other one's (they swap with every turn).
reg [15:0]    xr0, xr1, xr2, xr3;
reg           xs0, xs1;
// the position: s_pos itself, read live by the phase steps (its halves lo,
// lo, hi, lo through the operand mux; the port holds it through the vector,
// see the header: no copy register)
wire [31:0]   pos = s_pos;
wire          turn = rot && adv;
always @(posedge clk) begin
    if (s_fire || turn) begin
        xr0 <= xr1;
        xr1 <= s_fire ? s_data[15:0] : xr2;
        xr2 <= xr3;
        xr3 <= s_fire ? s_habs : xr0;
        xs0 <= xs1;
        xs1 <= s_fire ? s_data[31] : xs0;
    end
end

// INC[j] (j holds through the pair's sequence; the phase steps read it). The
// address is gated so that Yosys does not fold j's flip-flops into a
// registered ROM read: a small ROM stays LUT logic on the counter instead of
// a 32-bit data register (about 15 cells fewer).
reg [31:0] rom [0:HALF-1];
initial $readmemh(INC_FILE, rom);
wire [31:0] inc = rom[j & {J_W{op_ph}}];

// ---- sine table stage ---------------------------------------------------------
// Samples at every edge: st[3] is s_mirror (-P in SB0, SB1) and st[0] s_lo
// (SA1, SB1), so SA0, SA1 read A's T[i+1], T[i] and SB0, SB1 B's; the
// operands and m_v are those of A in SA2 and of B in SB2.
// The accumulator works in 16-bit digits: each 32-bit product enters as its
// low half (hsel = 0) or its high half (hsel = 1), and the step that moves on
// to the next digit shifts the accumulator right by 16 first (the finished
// digit leaves: P[15:8] to ylo[15:8], a rotation sum's digit 1 to ylo). 19 bits
// hold every digit sum: at most 4 terms of magnitude < 2^16 and a carry of
// at most 2 (digit 1 of a rotation sum), the rounding constant 2^15 in
// digit 0; only acc[15:0] of the phase digits are read (mod 2^32).
reg  [18:0] acc;   // the accumulator (signed)
// ylo[15:8] also hold phase[15:8] (m_fr), saved before the shift of step
// PH1 / NP1: ylo is free from PH0 (which waits until y[2j+1] is taken) to
// the digit-1 step of y[2j], after the table steps (no register of its own)
reg  [15:0] ylo;   // a rotation sum's bits 31:16 (digit 1; the result's low half)
reg         sw;    // P[30]: A is cos (and the lookups of B are of -P with P[30])
wire [31:0] mul_p; // the shared product (below)

wire [15:0] sc_d;
wire [13:0] sc_fr;
wire        sc_neg;
wire        sc_end;
wire [16:0] sc_v;
wire [15:0] sc_word;

${SINCOS_MODULE} #(
    .LUT_FILE(SINE_FILE)
) sincos_i (
    .clk(clk),
    .s_phase({acc[15:0], ylo[15:8], 8'd0}), // bits 7:0 are not read
    .s_mirror(st[3]),
    .s_p30(sw),                         // P[30] (set in SA1, before SB0)
    .s_lo(st[0] || st[4] || st[5]),     // (steady from the rotation steps on)
    .s_prod(mul_p[29:13]),
    .s_thi(cb[15:0]),                   // T[i+1], held in cb (below)
    .m_word(sc_word),
    .m_d(sc_d),
    .m_fr(sc_fr),
    .m_neg(sc_neg),
    .m_end(sc_end),
    .m_v(sc_v)
);

// In SA1 / SB1 cb takes the table's T[i+1] (sc_word) and gives it back to
// the table stage in SA2 / SB2 (s_thi; cb is free then: SB2 loads it).
// |sin| and |cos| (<= 65536) as a pair that swaps, ca the multiplier's
// operand: SA2 loads |A|, SB2 shifts it to cb and loads |B|, SW swaps if A
// is cos, so that ca = |cos|, cb = |sin|. The rotation steps take c, s, c,
// s, ... (8 steps) for y[2j] and s, c, s, c, ... for y[2j+1]: a swap after
// every step but k = 7. cas, cbs are their signs. The value 65536 (the
// table's end, sc_end, or an interpolation that reaches it) is held as 2^15
// with bit 16 set: a step with it adds its term twice (rep), chunk * 2^15 * 2
// (no 17-bit operand and no adder input besides the product's half).
reg        cas, cbs;
wire       sc_load = st == S_SA2 || st == S_SB2;
wire       th_load = st == S_SA1 || st == S_SB1;
always @(posedge clk) begin
    if (st == S_SA1)
        sw <= acc[14];
    if (sc_load || (st == S_SW && sw) || (turn && k[2:0] != 3'd7)) begin
        if (sc_load && (sc_end || sc_v[16]))
            ca <= 17'h18000;
        else
            ca <= sc_load ? sc_v : cb;
        cb <= ca;
        cas <= sc_load ? sc_neg : cbs;
        cbs <= cas;
    end
    // cb is free in SA1 and SB1 (SB2 loads it from ca): it holds the
    // lookup's T[i+1] for the table stage (s_thi) until SA2 / SB2
    if (th_load)
        cb[15:0] <= sc_word;
end

// ---- the shared multiplier ------------------------------------------------------
// The phase steps take INC on the x / D side and the position on the
// c / fr side: the position's constant top bits (the decoder's) then
// simplify the c / fr multiplexer, whose fr operand is 14 bits, and the INC
// table shares its bits with x / D (D: D_W bits).
reg [15:0] mul_a, mul_b;
always @(*) begin
    if (op_rot)
        mul_a = xr0;
    else if (op_tab)
        mul_a = sc_d;          // SA2, SB2
    else if (op_g3)
        mul_a = inc[31:16];    // PH3, NP3
    else
        mul_a = inc[15:0];     // PH0-2 (and the NP steps)
    if (op_rot)
        mul_b = ca[15:0];
    else if (op_tab)
        mul_b = {2'b00, sc_fr};
    else if (op_g2)
        mul_b = pos[31:16];    // PH2, NP2
    else
        mul_b = pos[15:0];     // PH0, PH1, PH3 (and the NP steps)
end
`ifndef SYNTHESIS
// the decode the flip-flops replace, compared in every cycle after reset
reg op_live;
always @(posedge clk) begin
    op_live <= !rst;
    if (op_live && !rst && (op_rot != rot || op_tab != st[2] || op_g3 != (g == 2'd3) ||
                            op_g2 != (g == 2'd2) || op_ph != ph)) begin
        $display("Error: %m: operand selects %b, the state's %b", {op_rot, op_tab, op_g3,
                 op_g2, op_ph}, {rot, st[2], g == 2'd3, g == 2'd2, ph});
        $stop;
    end
end
`endif

assign mul_p = mul_a * mul_b;

// ---- accumulator ---------------------------------------------------------------------
// Rotation sums y[2j] = x0*c - x1*s (k 0-7), y[2j+1] = x0*s + x1*c (k 8-15),
// in digits of 16 bits (chunk products p = x?? * |c or s|, signed in the
// accumulator; the ring's order x0l, x1l, x0h, x1h turns twice):
//   digit 0 (k 0-1)  2^15 + lo(x0l*c) - lo(x1l*s)
//   digit 1 (k 2-5)  carry + lo(x0h*c) - lo(x1h*s) + hi(x0l*c) - hi(x1l*s)
//   digit 2 (k 6-7)  carry + hi(x0h*c) - hi(x1h*s)
// so that {acc (digit 2), ylo (digit 1)} = floor((v + 2^15) / 2^16), the
// exact rounding of the streaming form. Phase: P[31:16] = hi(lo*lo) +
// lo(hi*lo) + lo(lo*hi) (mod 2^16) over the digit lo(lo*lo) (P[15:0]).
// The first step of each sum (PH0, NP0, k = 0, 8) takes the constant (0, or
// 2^15 in the rotation steps) as its base, the digit steps (PH1, NP1, k = 2,
// 6, 10, 14) acc >> 16, the others acc (one LUT per bit either way).
wire hsel = rot ? k[2] : ph && g == 2'd1;
wire neg = rot ? (xs0 && k[1]) ^ cas ^ (k[0] && !k[3]) : st[3]; // NP0-3: -P
wire shift = !rep && (rot ? k[1:0] == 2'd2 : ph && g == 2'd1);
wire first = !rep && (rot ? k[2:0] == 3'd0 : ph && g == 2'd0);

wire [15:0] half = hsel ? mul_p[31:16] : mul_p[15:0];
wire [18:0] base = first ? {3'd0, rot, 15'd0}
                 : shift ? {{16{acc[18]}}, acc[18:16]} : acc;
wire [18:0] acc_next = base + ({3'd0, half} ^ {19{neg}}) + {18'd0, neg};

// ---- saturation of the finished sum ({acc, ylo} = floor((v + 2^15) / 2^16)) ------------
// In place, so that m_data is {acc[15:0], ylo} as it stands (no output
// multiplexer). Step U0 / U1 notes the case (sat_h, sat_l) and if the sum
// saturates sets acc to all ones (acc_fill: the ones ORed over the adder's
// sum, in the adder's LUTs; whatever the step's sum). Step V0 / V1 then copies
// acc[15:0] to ylo and the flip-flops' synchronous resets clear what must be 0:
//   v >= 2^31   (sat_h): acc[15] -> 0x7fff_ffff
//   v <= -2^31  (sat_l): acc[14:0], ylo[15:1] -> 0x8000_0001
// m_data while m_valid: acc and ylo hold the sum until it is taken.
wire        sat_hi = !acc[18] && acc[17:15] != 3'd0;
wire        sat_lo = acc[18] && (acc[17:15] != 3'b111 || (acc[14:0] == 15'd0 && ylo == 16'd0));
wire        sat_set = sat_st && (sat_hi || sat_lo);
reg         sat_h, sat_l;
wire        clr_h = sat_fix && sat_h;
wire        clr_l = sat_fix && sat_l;
wire        acc_en = (ph || rot) && step && !(rep && !ca[16]) || sat_set;
// the all-ones fill of a saturating sum (whatever the step's product: cb,
// the table stage's T[i+1] in SA / SB, is not T[i] here)
wire [18:0] acc_fill = acc_next | {19{sat_set}};
wire        ylo_en = rot && shift && k[2] && step || clr_h || clr_l;
wire        ph_save = ph && g == 2'd1; // PH1, NP1: phase[15:8] to ylo[15:8]
always @(*)
    m_data = {acc[15:0], ylo};

// ---- sequencer -------------------------------------------------------------------------
// PH0-3, SA0-2, pause, NP0-3, SB0-2, SW, rotation steps 16-23, T0, U0, V0,
// pause, 32-39, T1, U1, V1, IN (46), PH0.
always @(posedge clk) begin
    if (adv)
        st <= st == S_IN ? S_PH0 : st + 6'd1;
    if (rot && step)
        rep <= dbl;
    // (the clears as the flip-flops' enable-gated synchronous resets)
    if (acc_en)
        acc[18:16] <= acc_fill[18:16];
    if (acc_en || clr_h)
        acc[15] <= clr_h ? 1'b0 : acc_fill[15];
    if (acc_en || clr_l)
        acc[14:0] <= clr_l ? 15'd0 : acc_fill[14:0];
    if (ylo_en || ph_save)
        ylo[15:8] <= clr_l ? 8'd0 : acc[15:8];
    if (ylo_en) begin
        ylo[7:1] <= clr_l ? 7'd0 : acc[7:1];
        ylo[0] <= acc[0];
    end
    if (sat_st) begin
        sat_h <= sat_hi;
        sat_l <= sat_lo;
    end
    if (out_step) begin // (the previous output is gone: R8 and PH0 waited)
        m_valid <= 1'b1;
        m_last <= st[5] && j_end && h_end;
    end else if (m_ready) begin
        m_valid <= 1'b0;
    end
    if (rst) begin
        st <= S_IN;
        rep <= 1'b0;
        m_valid <= 1'b0;
    end
end

endmodule

`resetall
