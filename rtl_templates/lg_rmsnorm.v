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
// Schedule (one vector at a time):
//   LOAD   DIM inputs are written to a DIM x 32 RAM while max |x| is tracked
//   SHIFT  1 cycle: s from the leading one of max |x|
//   SUM    DIM RAM reads -> m -> m*m into the accumulator (pipeline 3)
//   EPS    1 cycle: S = acc + EPS[s] into the rsqrt unit (latency 6)
//   OUT    DIM RAM + gain ROM reads -> m -> m*g -> *y -> round/sat (pipeline 5)
// Two multipliers: 16x16 (m*m in SUM, m*g in OUT) and 31x18 (p*y).
// Cycles per vector at full rate: the done pulse is high 3 * DIM + 16 cycles
// after the cycle of the first input handshake (DIM load + 1 + DIM sum + 3 +
// 1 + rsqrt 6 + 1 + DIM out + 5 - 1); s_ready is high again in the done
// cycle, so vectors can follow back to back.
//
// Handshakes: s_* and m_* are valid/ready streams: a transfer happens on a
// clock edge with valid and ready both high; valid stays high and data stable
// until ready (m_* obeys this; s_* must). s_sel is sampled with the first
// element of each vector. m_last marks the last element; done pulses for
// one cycle after it is accepted.

module ${MODULE} #(
    // $readmemh image of the gain mantissas (NVEC * DIM int16 words)
    parameter GAIN_FILE = "${GAIN_FILE}",
    // $readmemh image of the rsqrt seed table
    parameter RSQRT_FILE = "${RSQRT_FILE}"
) (
    input  wire                 clk,
    input  wire                 rst,

    // ---- input vector: DIM Q16 values, s_sel with the first -------------
    input  wire                 s_valid,
    output wire                 s_ready,
    input  wire [31:0]          s_data,
    input  wire [SEL_W-1:0]     s_sel,

    // ---- output vector: DIM Q16 values ----------------------------------
    output reg                  m_valid,
    input  wire                 m_ready,
    output reg  [31:0]          m_data,
    output reg                  m_last,

    // one-cycle pulse: the last output element was accepted
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

// ---- LOAD: input transfers, x RAM writes, max |x| ------------------------------
assign s_ready = (state == ST_LOAD);
wire s_fire = s_valid && s_ready;

reg [ADDR_W-1:0] wr_addr;
reg [31:0]       maxabs;
wire [31:0]      s_abs = s_data[31] ? 32'd0 - s_data : s_data;

reg [31:0] ram [0:DIM-1]; // (DIM) x of the current vector
always @(posedge clk)
    if (s_fire)
        ram[wr_addr] <= s_data;

always @(posedge clk)
    if (s_fire) begin
        if (wr_addr == {ADDR_W{1'b0}}) begin
            maxabs <= s_abs;
            sel_r <= s_sel;
        end else if (s_abs > maxabs) begin
            maxabs <= s_abs;
        end
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

reg [GADDR_W-1:0] gbase; // sel * DIM: first gain of the selected vector
always @(posedge clk)
    if (state == ST_SHIFT) begin
        s_r <= maxbits > 6'd15 ? maxbits[4:0] - 5'd15 : 5'd0;
        gbase <= sel_r * DIM[GADDR_W-1:0];
    end

// ---- read pipeline (SUM and OUT) -----------------------------------------------
// Stage A: RAM read; B: m = clamp(round(x / 2^s)), gain ROM read; C: m*m or
// m*g. In OUT also D: p*y; E: round, saturate into m_data.
reg [ADDR_W-1:0] rd_addr;
reg              rd_busy; // reads of this pass still to issue
wire             rd_issue = rd_busy && en;

reg [15:0] grom [0:NVEC*DIM-1]; // (NVEC, DIM) gain mantissas
initial $readmemh(GAIN_FILE, grom);

wire [GADDR_W-1:0] g_addr;
generate
    if (GADDR_W > ADDR_W) begin : g_gaddr_wide
        assign g_addr = gbase + {{(GADDR_W - ADDR_W){1'b0}}, rd_addr};
    end else begin : g_gaddr_one
        assign g_addr = gbase + rd_addr;
    end
endgenerate

reg [31:0] a_x;
always @(posedge clk)
    if (en)
        a_x <= ram[rd_addr];

// The gain address follows the element to stage B, where the ROM is read
// through that registered address (a block RAM read port) straight into the
// stage C multiplier. (Registering the ROM data, or passing it through a
// plain register, is equivalent, but Yosys 0.23 then leaves a dangling
// flip-flop input for every constant bit column, e.g. the sign of
// all-positive gains, and fails check -assert.)
reg [GADDR_W-1:0] a_gaddr;
always @(posedge clk)
    if (en)
        a_gaddr <= g_addr;

reg a_valid, a_last;
always @(posedge clk) begin
    if (en) begin
        a_valid <= rd_issue;
        a_last <= rd_issue && rd_addr == LAST_ADDR;
    end
    if (rst)
        a_valid <= 1'b0;
end

// Stage B: round half up by s (0..17), clamp to +-32767.
wire [4:0]         a_sm1 = s_r - 5'd1;
wire signed [31:0] a_t = $signed(a_x) >>> a_sm1;
wire signed [32:0] a_rnd = (s_r == 5'd0) ? $signed({a_x[31], a_x})
                         : ($signed({a_t[31], a_t}) >>> 1) + $signed({32'd0, a_t[0]});
wire signed [15:0] a_m = (a_rnd > 33'sd32767) ? 16'sd32767
                       : (a_rnd < -33'sd32767) ? -16'sd32767 : a_rnd[15:0];

reg signed [15:0]  b_m;
reg [GADDR_W-1:0]  b_gaddr;
reg                b_valid, b_last;
always @(posedge clk) begin
    if (en) begin
        b_m <= a_m;
        b_gaddr <= a_gaddr;
        b_valid <= a_valid;
        b_last <= a_last;
    end
    if (rst)
        b_valid <= 1'b0;
end

// Stage C: the 16x16 multiplier, shared by both passes (|product| < 2^30).
wire signed [15:0] b_g = grom[b_gaddr];
wire signed [15:0] b_f = (state == ST_OUT) ? b_g : b_m;
wire signed [31:0] b_p = b_m * b_f;

reg signed [31:0] c_p;
reg               c_valid, c_last;
always @(posedge clk) begin
    if (en) begin
        c_p <= b_p;
        c_valid <= b_valid;
        c_last <= b_last;
    end
    if (rst)
        c_valid <= 1'b0;
end

// ---- SUM: accumulate m^2 (S < DIM * 2^30 + EPS[s]) -------------------------
reg [S_W-1:0] acc;
always @(posedge clk)
    if (state == ST_SHIFT)
        acc <= {S_W{1'b0}};
    else if (state == ST_SUM && c_valid)
        acc <= acc + {{(S_W - 31){1'b0}}, c_p[30:0]};

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

// Output shift k - e, as a right shift by sh_amt + 1 (sh_right) or a left
// shift by sh_amt (0 included). |p * y| < 2^47: right shifts beyond 48 give
// 0 like 48 does; left shifts beyond 32 saturate like 32 does.
reg [16:0] y_r;
reg        sh_right;
reg [5:0]  sh_amt;
wire signed [8:0] rq_sh = $signed({4'd0, rq_k}) - gexp;
always @(posedge clk)
    if (state == ST_RSQ && rq_valid) begin
        y_r <= rq_y;
        sh_right <= rq_sh > 9'sd0;
        sh_amt <= (rq_sh > 9'sd48) ? 6'd47
                : (rq_sh > 9'sd0) ? rq_sh[5:0] - 6'd1
                : (rq_sh < -9'sd32) ? 6'd32 : 6'd0 - rq_sh[5:0];
    end

// ---- OUT: p * y, round, saturate -----------------------------------------------
wire signed [49:0] c_v = c_p * $signed({1'b0, y_r});

reg signed [49:0] d_v;
reg               d_valid, d_last;
always @(posedge clk) begin
    if (en) begin
        d_v <= c_v;
        d_valid <= c_valid && state == ST_OUT;
        d_last <= c_last;
    end
    if (rst)
        d_valid <= 1'b0;
end

wire signed [49:0] d_t = d_v >>> sh_amt;
wire signed [81:0] d_l = $signed({{32{d_v[49]}}, d_v}) <<< sh_amt;
wire signed [81:0] d_r = $signed({{32{d_t[49]}}, d_t}) >>> 1;
wire signed [81:0] d_res = sh_right ? d_r + $signed({81'd0, d_t[0]}) : d_l;
wire [31:0] d_sat = (d_res > 82'sh7fff_ffff) ? 32'h7fff_ffff
                  : (d_res < -82'sh7fff_ffff) ? 32'h8000_0001 : d_res[31:0];

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
            rd_addr <= {ADDR_W{1'b0}};
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
                rd_addr <= {ADDR_W{1'b0}};
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
        if (rd_addr == LAST_ADDR)
            rd_busy <= 1'b0;
    end
    if (rst) begin
        state <= ST_LOAD;
        wr_addr <= {ADDR_W{1'b0}};
        rd_busy <= 1'b0;
        rd_addr <= {ADDR_W{1'b0}};
        done <= 1'b0;
    end
end

// c_p[31] is the sign of m*m (0) where the accumulator uses it.
wire unused_ok = &{1'b0, c_p[31]};

endmodule

`resetall
