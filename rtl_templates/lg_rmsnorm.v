`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: RMSNorm of a DIM-element Q16 vector with gains * sqrt(DIM).
//
// Why: every decoder layer normalises the residual stream twice and the
// classifier once; one unit holds all NVEC gain vectors and s_sel picks one.
// The block-float form of x (A16: int16 mantissas m and one shift s) lets the
// sum of squares, the inverse square root and the gain multiply run in
// integers with s cancelling out (see src/ref_rmsnorm.c), so no division by
// DIM and no per-vector floating point.
//
// C twin: lg_ref_rmsnorm (src/ref_rmsnorm.c), bit-exact:
//   s = max(bitlen(max |x|) - 15, 0); m[i] = clamp(round(x[i] / 2^s), +-32767)
//   S = sum m[i]^2 + EPS[s]; (y, k) = rsqrt(S)         (${RSQRT_MODULE})
//   out[i] = sat32(round(m[i] * g[i] * y / 2^(k - e)))  (g = gain mantissas,
//                                                         e = gain exponent)
// Rounding is half up (floor(v / 2^r) + bit r-1 of v), a negative shift is a
// saturating left shift, sat32 is symmetric +-(2^31 - 1).
//
// Schedule (one vector at a time; VL elements per read beat, NR = ceil(DIM /
// VL) beats per pass):
//   LOAD   DIM inputs, one per cycle, with their gains (the gain ROM is read
//          one element per cycle beside the input) are written to VL banks
//          of NR x (16 + 32) RAM while max |x| is tracked
//   SHIFT  1 cycle: s from the leading one of max |x| (the last element's
//          RAM write lands in it)
//   SUM    NR bank reads -> m -> m*m, VL per beat, summed into the
//          accumulator (pipeline 3)
//   EPS    1 cycle: S = acc + EPS[s] into the rsqrt unit (latency 6)
//   OUT    NR bank reads -> m -> m*g -> *y -> round/sat (pipeline 5), VL
//          results per beat
// Why VL lanes: the sum and output passes sit between two mat-vec runs (the
// load pass hides behind the producer of x), so at one element per cycle
// the norm cost as much as a quarter of the mat-vec time at 16 lanes.
// Multipliers: VL 16x16 (m*m in SUM, m*g in OUT) and VL 31x18 (p*y).
// Cycles per vector at full rate: the done pulse is high DIM + 2 * NR + 16
// cycles after the cycle of the first input handshake (DIM load + 1 + NR sum
// + 3 + 1 + rsqrt 6 + 1 + NR out + 5 - 1); s_ready is high again in the done
// cycle, so vectors can follow back to back.
//
// Handshakes: s_* and m_* are valid/ready streams: a transfer happens on a
// clock edge with valid and ready both high; valid stays high and data stable
// until ready (m_* obeys this; s_* must). s_sel is sampled with the first
// element of each vector. The output is NR beats of VL elements: element
// b*VL + i in m_data[32*i +: 32] of beat b; lanes past DIM in the last beat
// are 0. m_last marks the last beat; done pulses for one cycle after it is
// accepted.

module ${MODULE} #(
    // $readmemh image of the gain mantissas (NVEC * DIM int16 words)
    parameter GAIN_FILE = "${GAIN_FILE}",
    // $readmemh image of the rsqrt seed table
    parameter RSQRT_FILE = "${RSQRT_FILE}",
    // output elements per beat (>= 1)
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
// vectors, width of the sum of squares (DIM * 32767^2 + max EPS, even).
localparam integer DIM = ${DIM};
localparam integer NVEC = ${NVEC};
localparam integer S_W = ${S_W};

localparam integer ADDR_W = DIM > 1 ? $clog2(DIM) : 1;
localparam integer GADDR_W = NVEC * DIM > 1 ? $clog2(NVEC * DIM) : 1;
localparam integer SEL_W = NVEC > 1 ? $clog2(NVEC) : 1;
localparam integer LAST = DIM - 1;
localparam [ADDR_W-1:0] LAST_ADDR = LAST[ADDR_W-1:0];
// beats per pass, valid lanes of the last beat, lane and beat index widths
localparam integer NR = (DIM + VL - 1) / VL;
localparam integer RAG = DIM - (NR - 1) * VL;
localparam integer LVW = VL > 1 ? $clog2(VL) : 1;
localparam integer RW = NR > 1 ? $clog2(NR) : 1;
localparam [31:0] NR_M1 = NR - 1;
localparam [RW-1:0] ROW_LAST = NR_M1[RW-1:0];
localparam [31:0] VL_M1 = VL - 1;
localparam [LVW-1:0] LANE_LAST = VL_M1[LVW-1:0];
// sum of squares of one beat: VL terms < 2^31, in at most S_W bits (a beat
// is part of the whole sum, which fits S_W; a short vector with many lanes
// can make S_W the narrower one: 34 < 36 bits at DIM 16, VL 16)
localparam integer BS_F = 31 + LVW + 1;
localparam integer BS_W = BS_F < S_W ? BS_F : S_W;

initial begin
    if (VL < 1 || (VL & (VL - 1)) != 0 || S_W < 32) begin
        $error("Error: VL must be a power of two and the sum width at least 32 (instance %m)");
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

// Gain exponent e of each gain vector (gain = mant * 2^e).
reg [SEL_W-1:0]  sel_r; // gain vector of the current vector
reg signed [8:0] gexp;
always @* begin
    case (sel_r)
${GEXP_CASES}
        default: gexp = 9'sd0;
    endcase
end

// ---- control state -----------------------------------------------------------
localparam [2:0] ST_LOAD = 3'd0, ST_SHIFT = 3'd1, ST_SUM = 3'd2, ST_EPS = 3'd3,
                 ST_RSQ = 3'd4, ST_OUT = 3'd5;
reg [2:0] state;

// The whole read pipeline advances when the output register is free or being
// taken (en = 0 only stalls it in OUT, where m_valid can be high).
wire en = !m_valid || m_ready;

// ---- LOAD: input transfers, max |x|, gain read, RAM writes ----------------------
assign s_ready = (state == ST_LOAD);
wire s_fire = s_valid && s_ready;

reg [ADDR_W-1:0] wr_addr;
reg [31:0]       maxabs;
wire [31:0]      s_abs = s_data[31] ? 32'd0 - s_data : s_data;

always @(posedge clk)
    if (s_fire) begin
        if (wr_addr == {ADDR_W{1'b0}}) begin
            maxabs <= s_abs;
            sel_r <= s_sel;
        end else if (s_abs > maxabs) begin
            maxabs <= s_abs;
        end
    end

// Load stage L: the input, its bank lane and row, and the gain of the same
// element (address sel * DIM + i, counted), read from the gain ROM through a
// registered address (a block RAM port) and written into the bank beside x,
// so the output pass reads x and g together, VL of each per cycle.
reg [15:0] grom [0:NVEC*DIM-1]; // (NVEC, DIM) gain mantissas
initial $readmemh(GAIN_FILE, grom);

reg               l_we;
reg [31:0]        l_x;
reg [LVW-1:0]     l_lane;
reg [RW-1:0]      l_row;
reg [GADDR_W-1:0] l_gaddr;
wire [GADDR_W-1:0] sel_base = s_sel * DIM[GADDR_W-1:0];
wire [GADDR_W-1:0] l_gaddr_next = (wr_addr == {ADDR_W{1'b0}}) ? sel_base : l_gaddr + 1'b1;

// The ROM's own address register, loaded every cycle (l_g is used only in
// the cycle after s_fire, when it holds that element's gain): an address
// register that feeds nothing else is what yosys folds into a block RAM read
// port; reading through the counter l_gaddr itself left the ROM in LUTs,
// and registering the data instead trips a yosys 0.23 check on constant
// ROM bits.
reg [GADDR_W-1:0] g_raddr;
always @(posedge clk)
    g_raddr <= l_gaddr_next;
wire [15:0] l_g = grom[g_raddr];

always @(posedge clk) begin
    l_we <= s_fire;
    if (s_fire) begin
        l_x <= s_data;
        l_gaddr <= l_gaddr_next;
        if (wr_addr == {ADDR_W{1'b0}} || l_lane == LANE_LAST) begin
            l_lane <= {LVW{1'b0}};
            l_row <= (wr_addr == {ADDR_W{1'b0}}) ? {RW{1'b0}} : l_row + 1'b1;
        end else begin
            l_lane <= l_lane + 1'b1;
        end
    end
    if (rst)
        l_we <= 1'b0;
end

// ---- SHIFT: s = max(bitlen(max |x|) - 15, 0) ----------------------------------
reg [5:0] maxbits; // bitlen(max |x|)
integer i;
always @* begin
    maxbits = 6'd0;
    for (i = 0; i < 32; i = i + 1)
        if (maxabs[i])
            maxbits = i[5:0] + 6'd1;
end

always @(posedge clk)
    if (state == ST_SHIFT)
        s_r <= maxbits > 6'd15 ? maxbits[4:0] - 5'd15 : 5'd0;

// ---- read pipeline (SUM and OUT) -----------------------------------------------
// Stage A: bank reads (x and g of VL elements); B: m = clamp(round(x / 2^s));
// C: m*m or m*g. In OUT also D: p*y; E: round, saturate into m_data.
reg [RW-1:0] rd_addr;
reg          rd_busy; // reads of this pass still to issue
wire         rd_issue = rd_busy && en;

reg a_valid, a_last;
always @(posedge clk) begin
    if (en) begin
        a_valid <= rd_issue;
        a_last <= rd_issue && rd_addr == ROW_LAST;
    end
    if (rst)
        a_valid <= 1'b0;
end

reg b_valid, b_last;
always @(posedge clk) begin
    if (en) begin
        b_valid <= a_valid;
        b_last <= a_last;
    end
    if (rst)
        b_valid <= 1'b0;
end

reg c_valid, c_last;
always @(posedge clk) begin
    if (en) begin
        c_valid <= b_valid;
        c_last <= b_last;
    end
    if (rst)
        c_valid <= 1'b0;
end

reg d_valid, d_last;
always @(posedge clk) begin
    if (en) begin
        d_valid <= c_valid && state == ST_OUT;
        d_last <= c_last;
    end
    if (rst)
        d_valid <= 1'b0;
end

// Output shift k - e, as a right shift by sh_amt + 1 (sh_right) or a left
// shift by sh_amt (0 included). |p * y| < 2^47: right shifts beyond 48 give
// 0 like 48 does; left shifts beyond 32 saturate like 32 does.
reg [16:0] y_r;
reg        sh_right;
reg [5:0]  sh_amt;

// per lane: the stage registers and the beat's sum of squares
wire [VL*31-1:0] c_sq;   // m*m of each lane (31 bits: m*m >= 0)
wire [VL*32-1:0] d_sat;  // rounded, saturated output of each lane
wire [4:0]       a_sm1 = s_r - 5'd1;

genvar g;
generate
    for (g = 0; g < VL; g = g + 1) begin : g_lane
        reg [47:0] ram [0:NR-1]; // (NR) {g, x} of elements g, g + VL, ...
        always @(posedge clk)
            if (l_we && l_lane == g[LVW-1:0])
                ram[l_row] <= {l_g, l_x};

        reg [47:0] a_gx;
        always @(posedge clk)
            if (en)
                a_gx <= ram[rd_addr];

        // Stage B: round half up by s (0..17), clamp to +-32767; a lane past
        // DIM in the last beat (never written) becomes 0.
        wire [31:0]        a_x = a_gx[31:0];
        wire signed [31:0] a_t = $signed(a_x) >>> a_sm1;
        wire signed [32:0] a_rnd = (s_r == 5'd0) ? $signed({a_x[31], a_x})
                                 : ($signed({a_t[31], a_t}) >>> 1) + $signed({32'd0, a_t[0]});
        wire signed [15:0] a_m = (a_rnd > 33'sd32767) ? 16'sd32767
                               : (a_rnd < -33'sd32767) ? -16'sd32767 : a_rnd[15:0];
        wire a_pad = (g >= RAG) && a_last;

        reg signed [15:0] b_m;
        reg signed [15:0] b_g;
        always @(posedge clk)
            if (en) begin
                b_m <= a_pad ? 16'sd0 : a_m;
                b_g <= a_gx[47:32];
            end

        // Stage C: the 16x16 multiplier, shared by both passes (|product| < 2^30).
        wire signed [15:0] b_f = (state == ST_OUT) ? b_g : b_m;
        reg signed [31:0] c_p;
        always @(posedge clk)
            if (en)
                c_p <= b_m * b_f;
        assign c_sq[31*g +: 31] = c_p[30:0];

        // Stage D: p * y
        wire signed [49:0] c_v = c_p * $signed({1'b0, y_r});
        reg signed [49:0] d_v;
        always @(posedge clk)
            if (en)
                d_v <= c_v;

        // Stage E: round, saturate
        wire signed [49:0] d_t = d_v >>> sh_amt;
        wire signed [81:0] d_l = $signed({{32{d_v[49]}}, d_v}) <<< sh_amt;
        wire signed [81:0] d_r = $signed({{32{d_t[49]}}, d_t}) >>> 1;
        wire signed [81:0] d_res = sh_right ? d_r + $signed({81'd0, d_t[0]}) : d_l;
        assign d_sat[32*g +: 32] = (d_res > 82'sh7fff_ffff) ? 32'h7fff_ffff
                                 : (d_res < -82'sh7fff_ffff) ? 32'h8000_0001 : d_res[31:0];

        // c_p[31] is the sign of m*m (0) where the accumulator uses it.
        wire unused_lane = &{1'b0, c_p[31]};
    end
endgenerate

// sum of the beat's squares (lanes past DIM are 0; every partial sum is at
// most the whole sum, so BS_W = S_W < BS_F loses nothing), zero-extended to
// S_W bits by assignment (no replication: S_W - BS_W may be 0)
reg [BS_W-1:0] c_bsum;
reg [S_W-1:0]  c_bsum_x;
integer k;
always @* begin
    c_bsum = {BS_W{1'b0}};
    for (k = 0; k < VL; k = k + 1)
        c_bsum = c_bsum + {{(BS_W - 31){1'b0}}, c_sq[31*k +: 31]};
    c_bsum_x = {S_W{1'b0}};
    c_bsum_x[BS_W-1:0] = c_bsum;
end

// ---- SUM: accumulate m^2 (S < DIM * 2^30 + EPS[s]) -------------------------
reg [S_W-1:0] acc;
always @(posedge clk)
    if (state == ST_SHIFT)
        acc <= {S_W{1'b0}};
    else if (state == ST_SUM && c_valid)
        acc <= acc + c_bsum_x;

// ---- EPS / RSQ: y * 2^(-16-k) = 1 / sqrt(S) ------------------------------------
wire        rq_valid;
wire [16:0] rq_y;
wire [4:0]  rq_k;

${RSQRT_MODULE} #(
    .S_W(S_W),
    .LUT_FILE(RSQRT_FILE)
) rsqrt_i (
    .clk(clk),
    .rst(rst),
    .ce(1'b1),
    .s_valid(state == ST_EPS),
    .s_s(acc + eps),
    .m_valid(rq_valid),
    .m_y(rq_y),
    .m_k(rq_k)
);

wire signed [8:0] rq_sh = $signed({4'd0, rq_k}) - gexp;
always @(posedge clk)
    if (state == ST_RSQ && rq_valid) begin
        y_r <= rq_y;
        sh_right <= rq_sh > 9'sd0;
        sh_amt <= (rq_sh > 9'sd48) ? 6'd47
                : (rq_sh > 9'sd0) ? rq_sh[5:0] - 6'd1
                : (rq_sh < -9'sd32) ? 6'd32 : 6'd0 - rq_sh[5:0];
    end

// m_valid stays high with m_data stable until m_ready (en = 0 holds it).
always @(posedge clk) begin
    if (en) begin
        m_valid <= d_valid;
        m_data <= d_sat;
        m_last <= d_last;
    end
    if (rst)
        m_valid <= 1'b0;
end

// ---- sequencer ---------------------------------------------------------------
always @(posedge clk) begin
    done <= 1'b0;
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
            state <= ST_SUM;
            rd_busy <= 1'b1;
            rd_addr <= {RW{1'b0}};
        end
        ST_SUM:
            if (c_valid && c_last)
                state <= ST_EPS;
        ST_EPS:
            state <= ST_RSQ;
        ST_RSQ:
            if (rq_valid) begin
                state <= ST_OUT;
                rd_busy <= 1'b1;
                rd_addr <= {RW{1'b0}};
            end
        ST_OUT:
            if (m_valid && m_ready && m_last) begin
                state <= ST_LOAD;
                done <= 1'b1;
            end
        default:
            state <= ST_LOAD;
    endcase
    // Read address generation for the SUM and OUT passes.
    if (rd_issue) begin
        rd_addr <= rd_addr + 1'b1;
        if (rd_addr == ROW_LAST)
            rd_busy <= 1'b0;
    end
    if (rst) begin
        state <= ST_LOAD;
        wr_addr <= {ADDR_W{1'b0}};
        rd_busy <= 1'b0;
        rd_addr <= {RW{1'b0}};
        done <= 1'b0;
    end
end

endmodule

`resetall
