`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: rotary position embedding of N_HEADS heads of HEAD_SIZE (Q16),
// mul_share form: one 16x16 multiplier (one SB_MAC16) for everything.
//
// Why: the iCE40 UP5K has 8 DSPs for the whole decoder; the streaming form
// (lg_rope.v) spends 13 on one element per cycle, far more rate than the
// mat-vec feeding it delivers. This form runs each pair through a sequence of
// 16x16 unsigned products on one multiplier and one 36-bit accumulator:
//   phase = pos * INC[j] mod 2^32   3 products (lo*lo, hi*lo, lo*hi)
//   sin, cos                        2 products D * fr, table from ${SINCOS_MODULE}
//   y[2j], y[2j+1]                  4 products each: |x| in 16-bit chunks times
//                                   |c| or |s| (<= 65536), signs applied in the
//                                   accumulator
// The rotation sums are taken in sign-magnitude chunks, low chunks first with
// the rounding constant 2^15, then the accumulator shifts right by 16 (the
// result's bit 0 now has weight 2^16) and the high chunks are added: the
// exact floor((v + 2^15) / 2^16) of the streaming form.
//
// C twin: lg_ref_rope (src/ref_rope.c), bit-exact: for each head and pair j
//   (s, c) = sincos(pos * INC[j] mod 2^32)
//   y[2j]   = sat32(round(x[2j] * c - x[2j+1] * s, 16))
//   y[2j+1] = sat32(round(x[2j] * s + x[2j+1] * c, 16))
// (round half up: floor(v / 2^16) + bit 15 of v; sat32 symmetric).
// INC image (INC_FILE): HEAD_SIZE / 2 words of 32 bits,
// INC[j] = round(theta^(-2j/HEAD_SIZE) / (2 pi) * 2^32).
//
// Latency / throughput (no stalls): y[2j] is valid on m_* 12 cycles after the
// handshake cycle of x[2j+1], y[2j+1] 16 cycles after it; s_ready is high
// only while waiting for a pair's two elements, so a pair takes 17 cycles
// (2 input handshakes + 15 sequence steps): 8.5 cycles per element.
//
// Handshakes: s_* and m_* are valid/ready streams (a transfer on a clock edge
// with valid and ready high; valid stays high and data stable until ready).
// s_pos is sampled with the first element of each vector; m_last marks the
// last element of a vector. The sequence waits at the two output steps
// while m_valid is high and m_ready low.

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

// ---- sequence steps ---------------------------------------------------------
// st[3] = 1: rotation step k = st[2:0] (k < 4: y[2j], k >= 4: y[2j+1]).
localparam [3:0] S_IN  = 4'd0; // waiting for x[2j], x[2j+1]
localparam [3:0] S_PH0 = 4'd1; // acc = pos_lo * inc_lo
localparam [3:0] S_PH1 = 4'd2; // acc = (acc >> 16) + pos_hi * inc_lo
localparam [3:0] S_PH2 = 4'd3; // acc += pos_lo * inc_hi: phase = {acc[15:0], ph_lo}
//                     4'd4     SC0: table read of sin
localparam [3:0] S_SC1 = 4'd5; // |sin| = interpolation; table read of cos
localparam [3:0] S_SC2 = 4'd6; // |cos| = interpolation
localparam [3:0] S_OUT = 4'd7; // y[2j+1] to the output register
localparam [3:0] S_R4  = 4'd12; // y[2j] to the output register (and rotation step 4)

reg [3:0] st;

wire out_free = !m_valid || m_ready;
assign s_ready = st == S_IN;
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

// Sign and magnitude of each element (|-2^31| = 2^31 still fits 32 bits).
// |x| = (x - s) ^ s for the sign s (-x = ~(x - 1)): one LUT and one carry
// per bit, where s ? -x : x maps to about three LUTs per bit.
wire [31:0] s_dec = s_data + {32{s_data[31]}};
wire [31:0] s_abs = s_dec ^ {32{s_data[31]}};

reg [31:0]    xa0, xa1;  // |x[2j]|, |x[2j+1]|
reg           sx0, sx1;  // their signs
reg [31:0]    pos_r;     // position of the current vector
reg [J_W-1:0] inc_a;     // INC ROM address (j of the pair)
reg           last_r;    // the pair ends the vector
always @(posedge clk)
    if (s_fire) begin
        if (odd) begin
            xa1 <= s_abs;
            sx1 <= s_data[31];
            inc_a <= j;
            last_r <= j_end && h_end;
        end else begin
            xa0 <= s_abs;
            sx0 <= s_data[31];
            if (j == {J_W{1'b0}} && h == {H_W{1'b0}})
                pos_r <= s_pos;
        end
    end

// INC[j], read through the registered address (see lg_sincos).
reg [31:0] rom [0:HALF-1];
initial $readmemh(INC_FILE, rom);
wire [31:0] inc = rom[inc_a];

// ---- sine table stage ---------------------------------------------------------
reg  [35:0] acc;   // the accumulator (signed during rotation steps)
reg  [15:0] ph_lo; // phase[15:0], saved before the shift of step PH1

wire [16:0] sc_t;
wire [15:0] sc_d;
wire [13:0] sc_fr;
wire        sc_neg;

${SINCOS_MODULE} #(
    .LUT_FILE(SINE_FILE)
) sincos_i (
    .clk(clk),
    .s_phase({acc[15:0], ph_lo}),
    .s_cos(st == S_SC1),
    .m_t(sc_t),
    .m_d(sc_d),
    .m_fr(sc_fr),
    .m_neg(sc_neg)
);

reg [16:0] cs_s, cs_c; // |sin|, |cos| (<= 65536)
reg        ss, sc;     // their signs

// ---- the shared multiplier ------------------------------------------------------
wire       rot = st[3];
wire [2:0] k = st[2:0];
wire       use_s = k[0] ^ k[2];                 // steps 1, 3, 4, 6 take sin
wire [16:0] cs = use_s ? cs_s : cs_c;
wire [31:0] xa = k[0] ? xa1 : xa0;              // odd steps take x[2j+1]
wire [15:0] chunk = k[1] ? xa[31:16] : xa[15:0]; // steps 2, 3, 6, 7: high chunk

reg [15:0] mul_a, mul_b;
always @(*) begin
    case (st)
        S_PH0, S_PH2: mul_a = pos_r[15:0];
        S_PH1:        mul_a = pos_r[31:16];
        S_SC1, S_SC2: mul_a = sc_d;
        default:      mul_a = chunk;
    endcase
    case (st)
        S_PH0, S_PH1: mul_b = inc[15:0];
        S_PH2:        mul_b = inc[31:16];
        S_SC1, S_SC2: mul_b = {2'b00, sc_fr};
        default:      mul_b = cs[15:0];
    endcase
end

wire [31:0] mul_p = mul_a * mul_b;

// |x| chunk * |c|: c = 65536 has cs[15:0] = 0, the product is chunk << 16.
wire [31:0] term = rot && cs[16] ? {chunk, 16'd0} : mul_p;

// ---- interpolation: v = T + ((D * fr + 8192) >> 14) ------------------------------
wire [16:0] sc_v = sc_t + {1'b0, mul_p[29:14]} + {16'd0, mul_p[13]};

// ---- accumulator ---------------------------------------------------------------------
// Rotation step k: y[2j] = x0*c - x1*s (k 0-3), y[2j+1] = x0*s + x1*c (k 4-7).
wire neg = rot && (((k[0] ? sx1 : sx0) ^ (use_s ? ss : sc)) ^ (k[0] && !k[2]));

reg [35:0] base;
always @(*) begin
    if (st == S_PH0)
        base = 36'd0;
    else if (rot && k[1:0] == 2'd0)
        base = 36'd32768; // rounding constant, with the low chunks
    else if (st == S_PH1 || (rot && k[1:0] == 2'd2))
        base = {{16{acc[35]}}, acc[35:16]}; // on to the high chunks
    else
        base = acc;
end

wire [35:0] acc_next = base + ({4'd0, term} ^ {36{neg}}) + {35'd0, neg};

// ---- saturation of the finished sum (acc = floor((v + 2^15) / 2^16)) -----------------
wire        sat_hi = !acc[35] && acc[34:31] != 4'd0;
wire        sat_lo = acc[35] && (acc[34:31] != 4'hf || acc[30:0] == 31'd0);
wire [31:0] y_sat = sat_hi ? 32'h7fff_ffff : sat_lo ? 32'h8000_0001 : acc[31:0];

// ---- sequencer -------------------------------------------------------------------------
wire step = st == S_IN ? s_fire && odd
          : st == S_R4 || st == S_OUT ? out_free : 1'b1;

// IN, PH0-2, SC0-2, rotation steps 8-15, OUT, IN.
reg [3:0] st_next;
always @(*)
    case (st)
        S_SC2:   st_next = 4'd8;
        4'd15:   st_next = S_OUT;
        S_OUT:   st_next = S_IN;
        default: st_next = st + 4'd1;
    endcase

always @(posedge clk) begin
    if (step)
        st <= st_next;
    if (step && (st == S_PH0 || st == S_PH1 || st == S_PH2 || rot))
        acc <= acc_next;
    if (st == S_PH1)
        ph_lo <= acc[15:0];
    if (st == S_SC1) begin
        cs_s <= sc_v;
        ss <= sc_neg;
    end
    if (st == S_SC2) begin
        cs_c <= sc_v;
        sc <= sc_neg;
    end
    if (step && (st == S_R4 || st == S_OUT)) begin
        m_valid <= 1'b1;
        m_data <= y_sat;
        m_last <= st == S_OUT && last_r;
    end else if (m_ready) begin
        m_valid <= 1'b0;
    end
    if (rst) begin
        st <= S_IN;
        m_valid <= 1'b0;
    end
end

// D * fr < 2^30 (D_W + 14 bits <= 30): the top product bits are 0 while
// interpolating; sc_v <= 65536 fits 17 bits.
wire unused_ok = &{1'b0, mul_p[31:30]};

endmodule

`resetall
