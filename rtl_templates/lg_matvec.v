`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: I8E x A16 mat-vec engine (template rtl_templates/lg_matvec.v,
 * C twin lg_ref_matvec / lg_ref_matvec_acc in src/ref_matvec.c).
 *
 * Why: every weight mat-vec of the decoder is this unit. Weights stream in
 * (they do not fit on chip for any real model); the activation vector sits
 * in a local banked buffer so that LANES mantissas can be read per cycle.
 *
 * Numerics (bit-exact with the C twin): for each row, each group of GROUP
 * inputs gives an exact int8 x int16 partial sum, shifted left by the
 * group's exponent offset dexp (0..15) and added into a wide signed
 * accumulator (ACC_W bits, no overflow possible). Shifting is linear, so the
 * engine shifts each beat's (or each group slice's) sum by its dexp instead
 * of forming the group sum first; the result is the same integer. At the row
 * end: out = sat32(round_shift(acc, SHIFT)), round half up for SHIFT > 0
 * (floor(acc / 2^s) + bit s-1), saturating left shift for SHIFT < 0,
 * symmetric saturation to +-(2^31 - 1).
 *
 * Parameters: LANES (power of two, 1..64), GROUP (power of two, 4..256),
 * COLS (inputs, >= 2, any value: the last beat and the last group of a row
 * may be ragged), ROWS (outputs, >= 1), WL (activation write lanes: a power
 * of two dividing LANES; default 1), COLS2 (0, the default, or the length
 * of a second activation vector, >= 2), OUT_SERIAL (0 here: the
 * one-cycle barrel shifter; 1 is lg_matvec_share.v's serial stage).
 *
 * Two vectors (COLS2 > 0): the buffer holds a COLS vector (region 0) and a
 * COLS2 vector (region 1) one above the other in the same banks, and each
 * run reads the region start_sel names, with that region's row length. So
 * one engine serves the decoder's dim-input matrices and W2 (hidden
 * inputs): the W2 vector loads into region 1 while W3 still reads region 0,
 * as it did into a second engine, for one engine's multipliers, adder tree,
 * accumulator and output stages.
 *
 * Handshake contract:
 *  - act_*: plain write port, WL int16 mantissas per cycle: chunk act_waddr
 *    (0..ceil(COLS/WL)-1, or 0..ceil(COLS2/WL)-1 with act_wsel, which names
 *    the region written) holds inputs act_waddr*WL .. act_waddr*WL+WL-1,
 *    input act_waddr*WL+i in act_wdata[16*i +: 16] (lanes past COLS are
 *    ignored). So a vector loads in ceil(COLS/WL) cycles: the producers
 *    (the activation quantizer) emit WL elements per cycle, and loading at
 *    one element per cycle cost as much as a short mat-vec run. WL = 1 is
 *    the element-addressed port. Load the vector while busy is low (or,
 *    with COLS2, a region no run reads); it is kept across runs. A write
 *    must never meet the buffer read of a beat being taken (same row and
 *    bank in its handshake cycle): the banks have no read-first logic
 *    (no_rw_check), and simulation stops on such a collision.
 *  - start: one-cycle pulse; shift (SHIFT = -(ebase + xs), signed) and
 *    start_sel (the region the run reads, 0 without COLS2) are captured with
 *    it. Accepted when the engine takes no weight beats (a
 *    run's last beat has been taken) or at a row boundary of a running run
 *    (all beats of the rows so far taken); it must not coincide with a beat
 *    handshake. A run thus ends after ROWS rows, or after fewer when the
 *    next start cuts it short (the decoder's shorter matrices share an
 *    engine sized for the largest). The rows already taken finish with their
 *    own run's shift (it rides with every beat), so back-to-back runs over
 *    the same activation vector (Wq, Wk, Wv; W1, W3) cost no pipeline drain
 *    between them.
 *  - s_w: valid/ready. Each beat carries LANES int8 mantissas (lane i in
 *    s_w_mant[8*i +: 8]) and the dexp of every group the beat covers
 *    (s_w_dexp[4*j +: 4]: one dexp when LANES <= GROUP, LANES/GROUP when
 *    LANES > GROUP). A row takes BEATS = ceil(COLS/LANES) beats; row 0
 *    first. Lanes past the row end (and dexps of groups past it) are ignored.
 *    s_w_ready depends on registers only (no path from m_out_ready).
 *  - m_out: valid/ready, one signed Q16 int32 per row in row order,
 *    m_out_last on the last row. Valid stays high and data stable until
 *    ready (a skid buffer decouples the pipeline; backpressure stalls the
 *    whole pipeline without loss).
 *  - done: one-cycle pulse the cycle after the last row (row ROWS - 1) is
 *    taken. busy: a run takes weight beats (after a run cut short: until
 *    the next start) or results are in flight; it is low in the done
 *    cycle.
 *
 * Latency and throughput: one beat per cycle, rows back to back. Row r's
 * result is valid on m_out 7 + log2(LANES) cycles after the handshake of its
 * last beat (stages: buffer read, multiply, log2(min(LANES, GROUP)) tree
 * levels, dexp shift, log2(max(1, LANES/GROUP)) tree levels, accumulate,
 * shift, round, saturate into the output register). The rounding adds its
 * increment to the low 32 bits only: it reaches the high part through that
 * add's carry, whose effect on the saturation test is decided, one stage
 * later, from flags of the high part (zero, all ones, all ones but bit 0)
 * registered beside the add, so no carry chain longer than 33 bits sits
 * between registers and the chain never feeds the saturation mux in the
 * same cycle (the add over the whole ~80-bit shifted accumulator was the
 * iCE40 critical path: 18.8 MHz; the add and the saturation in one stage:
 * 25.2 MHz). With s_w_valid and m_out_ready held high, done rises ROWS *
 * BEATS + 8 + log2(LANES) cycles after the start cycle.
 *
 * The lean build (--mul-share) emits rtl_templates/lg_matvec_share.v
 * instead: same module, numerics and handshakes, a serial output stage in
 * place of the barrel shifter (OUT_SERIAL = 1); this template is the
 * one-cycle form only (OUT_SERIAL = 0).
 */
module ${MODULE} #(
    // MAC lanes: weight mantissas consumed per cycle (power of two, 1..64)
    parameter LANES = ${LANES},
    // I8E group size: inputs sharing one exponent offset (power of two, 4..256)
    parameter GROUP = ${GROUP},
    // inputs per row (activation vector length, >= 2)
    parameter COLS = ${COLS},
    // outputs (weight matrix rows, >= 1)
    parameter ROWS = ${ROWS},
    // activation write lanes (power of two dividing LANES)
    parameter WL = 1,
    // inputs of a second activation vector (region 1), 0: none
    parameter COLS2 = 0,
    // output stage: 0 one-cycle barrel shifter (1: lg_matvec_share.v)
    parameter OUT_SERIAL = ${OUT_SERIAL}
) (
    input  wire                                          clk,
    input  wire                                          rst,

    /*
     * Activation buffer write port (A16 mantissas)
     */
    input  wire                                          act_we,
    input  wire                                          act_wsel,
    input  wire [WAW-1:0]                                act_waddr,
    input  wire [WL*16-1:0]                              act_wdata,

    /*
     * Control
     */
    input  wire                                          start,
    input  wire signed [7:0]                             shift,
    input  wire                                          start_sel,
    output wire                                          busy,
    output wire                                          done,

    /*
     * Weight stream input
     */
    input  wire                                          s_w_valid,
    output wire                                          s_w_ready,
    input  wire [LANES*8-1:0]                            s_w_mant,
    input  wire [((LANES > GROUP) ? LANES / GROUP : 1)*4-1:0] s_w_dexp,

    /*
     * Result stream output (Q16)
     */
    output wire                                          m_out_valid,
    input  wire                                          m_out_ready,
    output wire [31:0]                                   m_out_data,
    output wire                                          m_out_last
);

// ---- derived sizes ------------------------------------------------------------

// beats per row of each region (BEATS2 = 0 without a second vector), and
// the longer; the banks hold region 0 at rows 0..BEATS-1, region 1 above it
localparam BEATS = (COLS + LANES - 1) / LANES;
localparam BEATS2 = (COLS2 + LANES - 1) / LANES;
localparam BMAX = BEATS > BEATS2 ? BEATS : BEATS2;
localparam DEPTH = BEATS + BEATS2;
localparam CMAX = COLS > COLS2 ? COLS : COLS2;
// valid lanes in the last beat of a row (1..LANES), per region
localparam RAGGED = COLS - (BEATS - 1) * LANES;
localparam RAGGED2 = COLS2 > 0 ? COLS2 - (BEATS2 - 1) * LANES : LANES;
localparam LOG2L = $clog2(LANES);
// lanes of one group inside a beat, and groups per beat
localparam GL = (LANES < GROUP) ? LANES : GROUP;
localparam NG = (LANES > GROUP) ? LANES / GROUP : 1;
// adder tree levels inside a group slice, and across the slices of a beat
localparam T1 = $clog2(GL);
localparam T2 = $clog2(NG);
// product, group slice sum, shifted slice, beat sum widths
localparam PW = 24;
localparam GW = PW + T1;
localparam SW = GW + 15;
localparam BW = SW + T2;
// accumulator: |acc| <= COLS * 2^22 * 2^15 <= 2^(clog2(COLS) + 37) (2^22
// bounds |int8 x int16| even for -128 x -32768), so clog2(COLS) + 39 signed
// bits always hold it; and at least one bit wider than a beat sum
localparam ACC_W = (BW + 1 > $clog2(CMAX) + 39) ? BW + 1 : $clog2(CMAX) + 39;
// shifter: acc * 2^32 shifted right (a left shift is clamped to 32: anything
// beyond saturates anyway, so acc << l fits ACC_W + 32 bits)
localparam SH_W = ACC_W + 32;
// counters and buffer addressing
localparam AW = $clog2(CMAX);
localparam BCW = (BMAX > 1) ? $clog2(BMAX) : 1;
localparam DAW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
localparam RCW = (ROWS > 1) ? $clog2(ROWS) : 1;
localparam XW = AW + LOG2L + 1;
// pipeline stages from the input register to the beat sum (see header)
localparam NSTG = 3 + T1 + T2;
// control bits per stage: {region, shifter amount (8), right shift,
// row_last, beat_last, beat_first, valid}
localparam CW = 14;

localparam [31:0] BEATS_M1 = BEATS - 1;
localparam [BCW-1:0] BEAT_LAST = BEATS_M1[BCW-1:0];
localparam [31:0] BEATS2_M1 = BEATS2 > 0 ? BEATS2 - 1 : 0;
localparam [BCW-1:0] BEAT_LAST2 = BEATS2_M1[BCW-1:0];
localparam [31:0] BEATS32 = BEATS;
localparam [DAW-1:0] BASE2 = BEATS32[DAW-1:0];
localparam [31:0] ROWS_M1 = ROWS - 1;
localparam [RCW-1:0] ROW_LAST = ROWS_M1[RCW-1:0];
localparam [31:0] LANES_M1 = LANES - 1;
localparam [XW-1:0] LANE_MASK = LANES_M1[XW-1:0];
// write port: chunks of WL inputs, LPW chunks per bank row
localparam WCH = (CMAX + WL - 1) / WL;
localparam WAW = (WCH > 1) ? $clog2(WCH) : 1;
localparam LPW = LANES / WL;
localparam LOG2LPW = $clog2(LPW);
localparam LOG2WL = $clog2(WL);
localparam [31:0] LPW_M1 = LPW - 1;
localparam [XW-1:0] SUB_MASK = LPW_M1[XW-1:0];

// bad parameter combinations are rejected at elaboration
initial begin
    if (LANES < 1 || LANES > 64 || (LANES & (LANES - 1)) != 0) begin
        $error("Error: LANES must be a power of two in 1..64 (instance %m)");
        $finish;
    end
    if (GROUP < 4 || GROUP > 256 || (GROUP & (GROUP - 1)) != 0) begin
        $error("Error: GROUP must be a power of two in 4..256 (instance %m)");
        $finish;
    end
    if (WL < 1 || WL > LANES || (WL & (WL - 1)) != 0) begin
        $error("Error: WL must be a power of two dividing LANES (instance %m)");
        $finish;
    end
    if (COLS < 2 || ROWS < 1 || COLS2 == 1 || COLS2 < 0) begin
        $error("Error: COLS must be >= 2, COLS2 0 or >= 2 and ROWS >= 1 (instance %m)");
        $finish;
    end
    if (OUT_SERIAL != 0) begin
        $error("Error: OUT_SERIAL 1 is lg_matvec_share.v's form, not this template's (instance %m)");
        $finish;
    end
end

// ---- control ------------------------------------------------------------------

// pipeline advance: the registered ready of the output skid buffer. Every
// pipeline register (and the buffer read port) moves only when adv is high,
// so backpressure freezes the pipeline as a whole and nothing is lost.
wire adv;

reg running_reg; // accepting weight beats
reg done_reg;
reg [BCW-1:0] beat_reg; // beat within the row
reg [RCW-1:0] row_reg;
reg sel_reg;            // region of the run being fed (0 without COLS2)
reg [DAW-1:0] raddr_reg; // buffer row of that beat: beat_reg, + BEATS in region 1

wire start_ok = start && (!running_reg || beat_reg == {BCW{1'b0}});
assign s_w_ready = running_reg && adv;
wire w_fire = s_w_valid && s_w_ready;
wire beat_last = (COLS2 > 0 && sel_reg) ? beat_reg == BEAT_LAST2 : beat_reg == BEAT_LAST;
wire row_last = row_reg == ROW_LAST;
wire out_fire_last = m_out_valid && m_out_ready && m_out_last;

wire in_flight; // some stage holds a beat or a result (below)
assign busy = running_reg || in_flight;
assign done = done_reg;

// running: set by start, cleared when the last beat of the last row is taken
always @(posedge clk) begin
    if (start_ok)
        running_reg <= 1'b1;
    else if (w_fire && beat_last && row_last)
        running_reg <= 1'b0;
    if (rst)
        running_reg <= 1'b0;
end



always @(posedge clk) begin
    done_reg <= out_fire_last;
    if (rst)
        done_reg <= 1'b0;
end

// beat and row counters (wrap so that rows follow back to back); the read
// address counts beside the beat from the run's region base, so no adder
// sits in front of the buffer read
wire new_sel = COLS2 > 0 && start_sel;
wire [DAW-1:0] run_base = (COLS2 > 0 && sel_reg) ? BASE2 : {DAW{1'b0}};

always @(posedge clk) begin
    if (start_ok) begin
        beat_reg <= {BCW{1'b0}};
        row_reg <= {RCW{1'b0}};
        sel_reg <= new_sel;
        raddr_reg <= new_sel ? BASE2 : {DAW{1'b0}};
    end else if (w_fire) begin
        if (beat_last) begin
            beat_reg <= {BCW{1'b0}};
            row_reg <= row_reg + 1'b1;
            raddr_reg <= run_base;
        end else begin
            beat_reg <= beat_reg + 1'b1;
            raddr_reg <= raddr_reg + 1'b1;
        end
    end
    if (rst) begin
        beat_reg <= {BCW{1'b0}};
        row_reg <= {RCW{1'b0}};
        sel_reg <= 1'b0;
        raddr_reg <= {DAW{1'b0}};
    end
end

// output shift, decoded once at start: right by s (s > 0) is done as an
// arithmetic shift by s - 1 followed by the rounding step; left by l = -s
// (s <= 0) is clamped to 32 because any nonzero value shifted by 32 or more
// saturates int32 anyway. Both are one right shift of acc * 2^32 (a
// constant shift: wiring): by 32 + (s - 1) = 31 + s (32..158) for s > 0,
// which is acc >>> (s - 1), and by 32 - l (0..32) for s <= 0, which is
// acc << l; one barrel shifter instead of a right and a left one and the
// mux between them. The decoded shift rides with every beat of the run
// (ctl_pipe), so the final stages apply each row's own run's shift.
reg sh_right_reg;
reg [7:0] sh_amt_reg;

always @(posedge clk) begin
    if (start_ok) begin
        sh_right_reg <= shift > 8'sd0;
        if (shift > 8'sd0)
            sh_amt_reg <= 8'd31 + {1'b0, shift[6:0]};
        else if (shift < -8'sd32)
            sh_amt_reg <= 8'd0;
        else
            sh_amt_reg <= 8'd32 + shift;
    end
end

// ---- activation buffer: LANES banks, bank b holds x[b + LANES * k] at k ----

// write chunk split into the lane group it fills (low bits: the chunk's
// first bank is sub * WL) and the row within the banks
wire [XW-1:0] waddr_x = {{(XW - WAW){1'b0}}, act_waddr};
wire [XW-1:0] wr_sub = waddr_x & SUB_MASK;
wire [XW-1:0] wr_row_x = waddr_x >> LOG2LPW;
wire [DAW-1:0] wr_base = (COLS2 > 0 && act_wsel) ? BASE2 : {DAW{1'b0}};
wire [DAW-1:0] wr_row = wr_base + wr_row_x[DAW-1:0];
wire unused_wr_row = ^{wr_row_x, LANE_MASK};

// write lanes past the longest vector (CMAX < WL: a model narrower than
// its vector lanes) feed no bank
generate
    if (CMAX < WL) begin : g_wdata_pad
        wire unused_wdata = ^act_wdata[WL*16-1:CMAX*16];
    end
endgenerate

// read data, lane b in [16*b +: 16]
wire [LANES*16-1:0] act_rd;

genvar b;
generate
    for (b = 0; b < LANES; b = b + 1) begin : g_bank
        if (b < CMAX) begin : g_ram
            // bank b takes lane b % WL of the chunks with sub = b / WL
            localparam [XW-1:0] SUB = b >> LOG2WL;
            localparam integer WLANE = b & (WL - 1);
            // no_rw_check: a write never meets the read of a beat being
            // taken (the decoder loads a vector only into rows no run still
            // reads; checked in simulation below). A read that meets a write
            // otherwise is never used, so Yosys need not build read-first
            // logic (16 + DAW + 1 FFs and 16 LUTs a bank on iCE40).
            (* no_rw_check *)
            reg [15:0] mem [0:DEPTH-1];
            reg [15:0] rd_reg;

            always @(posedge clk) begin
                if (act_we && wr_sub == SUB)
                    mem[wr_row] <= act_wdata[16*WLANE +: 16];
            end

            // synchronous read of the beat being accepted (enable = adv)
            always @(posedge clk) begin
                if (adv)
                    rd_reg <= mem[raddr_reg];
            end

            assign act_rd[16*b +: 16] = rd_reg;
`ifndef SYNTHESIS
            // the no-collision rule, checked in every simulation
            always @(posedge clk) begin
                if (!rst && act_we && wr_sub == SUB && wr_row == raddr_reg && w_fire) begin
                    $display("Error: %m: a beat's read meets a write of row %0d", wr_row);
                    $stop;
                end
            end
`endif
        end else begin : g_none
            // lanes past both vectors never carry data (LANES > COLS, COLS2)
            assign act_rd[16*b +: 16] = 16'd0;
        end
    end
endgenerate

// ---- control and exponent pipes ------------------------------------------------

// ctl_pipe[CW*k +: CW] travels with the data of stage k:
// 0 input register, 1 products, 1+lv tree 1 level lv, 2+T1 dexp shift,
// 2+T1+lv tree 2 level lv; stage NSTG-1 is the beat sum.
reg [NSTG*CW-1:0] ctl_pipe;
wire [CW-1:0] ctl_in = {sel_reg, sh_amt_reg, sh_right_reg, row_last, beat_last,
                        beat_reg == {BCW{1'b0}}, w_fire};

always @(posedge clk) begin
    if (adv)
        ctl_pipe <= {ctl_pipe[(NSTG-1)*CW-1:0], ctl_in};
    if (rst)
        ctl_pipe <= {NSTG*CW{1'b0}};
end

// dexps of stage k (k = 0 .. 1+T1), used by the shift stage at 1+T1
localparam DXW = NG * 4;
reg [(2+T1)*DXW-1:0] dx_pipe;

always @(posedge clk) begin
    if (adv)
        dx_pipe <= {dx_pipe[(1+T1)*DXW-1:0], s_w_dexp};
end

// ---- stage 0: weight input register --------------------------------------------

reg [LANES*8-1:0] mant_reg;

always @(posedge clk) begin
    if (adv)
        mant_reg <= s_w_mant;
end

// ---- stage 1: products (lanes past the row end forced to zero) ---------------

genvar i, lv;
generate
    for (lv = 0; lv <= T1; lv = lv + 1) begin : g_t1
        // level lv: LANES >> lv sums of PW + lv bits
        reg [(LANES>>lv)*(PW+lv)-1:0] node;
        if (lv == 0) begin : g_mul
            for (i = 0; i < LANES; i = i + 1) begin : g_lane
                wire signed [7:0] m = mant_reg[8*i +: 8];
                wire signed [15:0] a = act_rd[16*i +: 16];
                wire signed [PW-1:0] p = m * a;
                if (i >= RAGGED || i >= RAGGED2) begin : g_pad
                    // padding lane in the last beat of a row of its region
                    // (ctl_pipe[2]: stage 0 is a row's last beat,
                    // ctl_pipe[13] its region): ignored, and the buffer word
                    // it reads may never have been written
                    wire pad = ctl_pipe[2] && (ctl_pipe[13] ? i >= RAGGED2 : i >= RAGGED);
                    always @(posedge clk) begin
                        if (adv)
                            node[PW*i +: PW] <= pad ? {PW{1'b0}} : p;
                    end
                end else begin : g_full
                    always @(posedge clk) begin
                        if (adv)
                            node[PW*i +: PW] <= p;
                    end
                end
            end
        end else begin : g_add
            localparam NW = PW + lv - 1;
            for (i = 0; i < (LANES >> lv); i = i + 1) begin : g_node
                wire [NW-1:0] x0 = g_t1[lv-1].node[NW*(2*i) +: NW];
                wire [NW-1:0] x1 = g_t1[lv-1].node[NW*(2*i+1) +: NW];
                always @(posedge clk) begin
                    if (adv)
                        node[(NW+1)*i +: NW+1] <= {x0[NW-1], x0} + {x1[NW-1], x1};
                end
            end
        end
    end
endgenerate

// ---- stage 2+T1: each group slice shifted by its dexp ---------------------------

wire [DXW-1:0] dexp_s = dx_pipe[(1+T1)*DXW +: DXW];

genvar j;
generate
    for (lv = 0; lv <= T2; lv = lv + 1) begin : g_t2
        // level lv: NG >> lv sums of SW + lv bits
        reg [(NG>>lv)*(SW+lv)-1:0] node;
        if (lv == 0) begin : g_shift
            for (j = 0; j < NG; j = j + 1) begin : g_slice
                wire [GW-1:0] g = g_t1[T1].node[GW*j +: GW];
                wire [SW-1:0] g_ext = {{15{g[GW-1]}}, g};
                always @(posedge clk) begin
                    if (adv)
                        node[SW*j +: SW] <= g_ext << dexp_s[4*j +: 4];
                end
            end
        end else begin : g_add
            localparam NW = SW + lv - 1;
            for (j = 0; j < (NG >> lv); j = j + 1) begin : g_node
                wire [NW-1:0] x0 = g_t2[lv-1].node[NW*(2*j) +: NW];
                wire [NW-1:0] x1 = g_t2[lv-1].node[NW*(2*j+1) +: NW];
                always @(posedge clk) begin
                    if (adv)
                        node[(NW+1)*j +: NW+1] <= {x0[NW-1], x0} + {x1[NW-1], x1};
                end
            end
        end
    end
endgenerate

// ---- accumulator ------------------------------------------------------------

wire [CW-1:0] ctl_b = ctl_pipe[CW*(NSTG-1) +: CW];
wire [BW-1:0] beat_sum = g_t2[T2].node;
wire [ACC_W-1:0] beat_ext = {{(ACC_W-BW){beat_sum[BW-1]}}, beat_sum};

reg [ACC_W-1:0] acc_reg;
reg acc_valid_reg; // acc_reg holds a finished row
reg acc_last_reg;
reg acc_right_reg; // its run's shift
reg [7:0] acc_amt_reg;

// a row's first beat restarts the sum, so rows need no gap between them
wire [ACC_W-1:0] acc_base = ctl_b[1] ? {ACC_W{1'b0}} : acc_reg;
wire unused_ctl_b = ctl_b[13]; // the region only matters at stage 0 (padding)

always @(posedge clk) begin
    if (adv && ctl_b[0])
        acc_reg <= acc_base + beat_ext;
end

always @(posedge clk) begin
    if (adv) begin
        acc_valid_reg <= ctl_b[0] && ctl_b[2];
        acc_last_reg <= ctl_b[3];
        acc_right_reg <= ctl_b[4];
        acc_amt_reg <= ctl_b[12:5];
    end
    if (rst)
        acc_valid_reg <= 1'b0;
end

// ---- output stages ----------------------------------------------------------------

// valid bits of the control pipe: a beat in stage k
wire [NSTG-1:0] ctl_valid;
genvar vk;
generate
    for (vk = 0; vk < NSTG; vk = vk + 1) begin : g_cv
        assign ctl_valid[vk] = ctl_pipe[CW*vk];
    end
endgenerate

// Barrel shift, round, saturate, skid buffer.
localparam HI_W = SH_W - 32;

// The round stage's registers (written below): the low 33
// bits of the rounded value and flags of its high part, and final stage 3,
// the saturation to +-(2^31 - 1): the value fits when bits 31 and up are all
// equal and it is not -2^31.
reg [32:0] rd_lo_reg;
reg rd_hz_reg, rd_ho_reg, rd_hm2_reg, rd_sign_reg;
wire c_lo = rd_lo_reg[32];
wire rhi_zero = (rd_hz_reg && !c_lo) || (rd_ho_reg && c_lo);
wire rhi_ones = (rd_ho_reg && !c_lo) || (rd_hm2_reg && c_lo);
wire r_neg = rd_sign_reg && !(rd_ho_reg && c_lo);
wire fits = (rhi_zero && !rd_lo_reg[31]) || (rhi_ones && rd_lo_reg[31] && |rd_lo_reg[30:0]);
wire [31:0] result = fits ? rd_lo_reg[31:0] : (r_neg ? 32'h8000_0001 : 32'h7fff_ffff);

// ---- final stage 1: barrel shift ----------------------------------------

// acc * 2^32, shifted right by the decoded amount (see the shift decode)
wire signed [SH_W-1:0] acc_up = {acc_reg, 32'd0};

reg [SH_W-1:0] sh_reg;
reg sh_valid_reg;
reg sh_last_reg;
reg sh_rt_reg; // right shift: round in the next stage

always @(posedge clk) begin
    if (adv) begin
        sh_reg <= acc_up >>> acc_amt_reg;
        sh_rt_reg <= acc_right_reg;
    end
end

always @(posedge clk) begin
    if (adv) begin
        sh_valid_reg <= acc_valid_reg;
        sh_last_reg <= acc_last_reg;
    end
    if (rst)
        sh_valid_reg <= 1'b0;
end

// ---- final stage 2: round half up ---------------------------------------

// right: floor(acc / 2^s) + bit s-1 = (t >>> 1) + t[0] with t = acc >>> (s-1).
// rnd = t2 + inc with t2 the halved (or left-shifted) value. Only the low 32
// bits are added (33-bit result: the carry into the high part); the high
// part hi is only compared, in parallel with the add, so no carry chain
// longer than 33 bits sits between registers (the add over the whole
// ~80-bit value was the iCE40 critical path): hi + c is 0 for (hi = 0,
// c = 0) or (hi = -1, c = 1), all ones for (hi = -1, c = 0) or (hi = -2,
// c = 1), negative unless (hi = -1, c = 1).
wire [SH_W-1:0] t2 = sh_rt_reg ? {sh_reg[SH_W-1], sh_reg[SH_W-1:1]} : sh_reg;
wire inc = sh_rt_reg && sh_reg[0];
wire [HI_W-1:0] t2_hi = t2[SH_W-1:32];
wire [32:0] lo = {1'b0, t2[31:0]} + {32'd0, inc};
wire hz = ~|t2_hi;
wire ho = &t2_hi;
wire hm2 = &t2_hi[HI_W-1:1] && !t2_hi[0];

// The add and the high-part flags are registered; the saturation decision
// and its mux come in the next stage (final stage 3), so the carry chain and
// the decision are never in one path (one more cycle of latency, which keeps
// the iCE40 build above 30 MHz: docs/fpga.md).
reg rd_valid_reg;
reg rd_last_reg;

always @(posedge clk) begin
    if (adv) begin
        rd_lo_reg <= lo;
        rd_hz_reg <= hz;
        rd_ho_reg <= ho;
        rd_hm2_reg <= hm2;
        rd_sign_reg <= t2_hi[HI_W-1];
        rd_valid_reg <= sh_valid_reg;
        rd_last_reg <= sh_last_reg;
    end
    if (rst)
        rd_valid_reg <= 1'b0;
end

// ---- final stage 3: saturate (result, above) into the skid buffer ------

// ---- output skid buffer (alexforencich axis_register, SKID mode) --------

// Input side: the pipeline's final stage (valid rd_valid_reg, data result).
// s_ready_reg is adv: it only depends on registers, so m_out_ready never
// reaches the pipeline enables combinationally.
reg s_ready_reg;
reg m_valid_reg;
reg [31:0] m_data_reg;
reg m_last_reg;
reg tmp_valid_reg;
reg [31:0] tmp_data_reg;
reg tmp_last_reg;

assign in_flight = |ctl_valid || acc_valid_reg || sh_valid_reg || rd_valid_reg ||
                   m_valid_reg || tmp_valid_reg;

assign adv = s_ready_reg;
assign m_out_valid = m_valid_reg;
assign m_out_data = m_data_reg;
assign m_out_last = m_last_reg;

// ready next cycle if the output is taken, or nothing can fill the temp slot
wire s_ready_early = m_out_ready || (!tmp_valid_reg && (!m_valid_reg || !rd_valid_reg));

always @(posedge clk) begin
    s_ready_reg <= s_ready_early;
    if (s_ready_reg) begin
        if (m_out_ready || !m_valid_reg) begin
            // output free: input goes straight to the output register
            m_valid_reg <= rd_valid_reg;
            m_data_reg <= result;
            m_last_reg <= rd_last_reg;
        end else begin
            // output stalled: park the input in the temp slot
            tmp_valid_reg <= rd_valid_reg;
            tmp_data_reg <= result;
            tmp_last_reg <= rd_last_reg;
        end
    end else if (m_out_ready) begin
        // pipeline frozen: drain the temp slot
        m_valid_reg <= tmp_valid_reg;
        m_data_reg <= tmp_data_reg;
        m_last_reg <= tmp_last_reg;
        tmp_valid_reg <= 1'b0;
    end
    if (rst) begin
        s_ready_reg <= 1'b0;
        m_valid_reg <= 1'b0;
        tmp_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
