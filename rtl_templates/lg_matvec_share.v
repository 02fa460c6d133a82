`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: I8E x A16 mat-vec engine, the lean form of --mul-share
 * (template rtl_templates/lg_matvec_share.v, the sibling of lg_matvec.v
 * with a serial output stage, OUT_SERIAL = 1; C twin lg_ref_matvec /
 * lg_ref_matvec_acc in src/ref_matvec.c). Same ports, parameters,
 * numerics and handshakes as lg_matvec.v; slower (a beat takes 2 * LANES
 * cycles: the iCEBreaker's QSPI flash delivers a LANES 2 beat every 12) and
 * smaller (iCE40, the iCEBreaker shape LANES 2, COLS 64, COLS2 172, ROWS
 * 512: 498 -> 347 LC = SB_LUT4 + flip-flops without a LUT of their own, the
 * same 2 SB_MAC16 and 2 block RAMs) by:
 *  - one multiplier for every lane, one lane every other cycle (no adder
 *    tree, no beat register: the held beat's lanes are read before it is
 *    taken) and an element-addressed activation buffer (no lane select);
 *  - the lane's mantissa times 2^(dexp mod 8) as an 8 x 9 product on the
 *    second SB_MAC16 (no shift mux), the product shifted by 8 when dexp >= 8
 *    in front of the accumulator's adder;
 *  - a one-bit serial shifter of the accumulator's width (the 32 zero bits
 *    of acc * 2^32 are a count, not flip-flops), and the rounding done
 *    serially into the output register (no 33-bit adder, no round stage:
 *    the shifter is the output buffer's second slot; g_out_ser), then the
 *    high part's bits compared with its sign one a step (no comparator of
 *    the accumulator's width);
 *  - with two regions that fit as many block RAMs that way, the longer one
 *    at row 0 and the shorter at 2^BCW: the buffer row is {region, beat}
 *    (no read address counter, no write address adder; OR_BASE);
 *  - a row's first element known at the accumulator (acc_open_reg), not
 *    carried down the control pipe; the accumulator restarts through a mux
 *    after its adder rather than a zeroed adder input.
 *
 * Why: every weight mat-vec of the decoder is this unit. Weights stream in
 * (they do not fit on chip for any real model); the activation vector sits
 * in a local banked buffer so that LANES mantissas can be read per cycle.
 *
 * Numerics (bit-exact with the C twin): for each row, each group of GROUP
 * inputs gives an exact int8 x int16 partial sum, shifted left by the
 * group's exponent offset dexp (0..15) and added into a wide signed
 * accumulator (ACC_W bits, no overflow possible). Shifting is linear, so the
 * engine shifts each product by its group's dexp instead of forming the
 * group sum first (here: each mantissa by dexp mod 8 before the
 * multiplier, the product by 8 when dexp >= 8); the result is the same
 * integer. At the row
 * end: out = sat32(round_shift(acc, SHIFT)), round half up for SHIFT > 0
 * (floor(acc / 2^s) + bit s-1), saturating left shift for SHIFT < 0,
 * symmetric saturation to +-(2^31 - 1).
 *
 * Parameters: LANES (power of two, 1..64), GROUP (power of two, 4..256),
 * COLS (inputs, >= 2, any value: the last beat and the last group of a row
 * may be ragged), ROWS (outputs, >= 1), WL (activation write lanes: a power
 * of two dividing LANES; default 1), COLS2 (0, the default, or the length
 * of a second activation vector, >= 2), OUT_SERIAL (must be 1 here: the
 * lean output stage of --mul-share, below), OPEN_RUN (0, the default, or 1:
 * below).
 *
 * Open runs (OPEN_RUN = 1, the decoder's engine, whose controller counts
 * each run's weight beats and gates s_w_valid with that count): a run is
 * never ended by its row count, only cut by the next start (at a row
 * boundary, as below), so no row counter is needed; m_out_last and done stay
 * low and busy stays high after the first start.
 *
 * Two vectors (COLS2 > 0): the buffer holds a COLS vector (region 0) and a
 * COLS2 vector (region 1) one above the other in the same banks, and each
 * run reads the region start_sel names, with that region's row length. So
 * one engine serves the decoder's dim-input matrices and W2 (hidden
 * inputs): the W2 vector loads into region 1 while W3 still reads region 0,
 * as it did into a second engine, for one engine's multipliers,
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
 *    The beat's lanes are read while it is offered, before it is taken:
 *    it must stay valid and stable until taken (as a valid/ready source
 *    holds it). s_w_ready depends on registers only (no path from
 *    m_out_ready).
 *  - m_out: valid/ready, one signed Q16 int32 per row in row order,
 *    m_out_last on the last row. Valid stays high and data stable until
 *    ready (the serial shifter and the output register form a two-slot
 *    buffer that decouples the pipeline; backpressure stalls the whole
 *    pipeline without loss).
 *  - done: one-cycle pulse the cycle after the last row (row ROWS - 1) is
 *    taken. busy: a run takes weight beats (after a run cut short: until
 *    the next start) or results are in flight; it is low in the done
 *    cycle.
 *
 * Latency and throughput: one beat every 2 * LANES cycles (lane l of a
 * beat enters the multiplier in its cycle 2l, the beat is taken in cycle
 * 2 * LANES - 2, s_w_ready high; a lane is never taken in the cycle after
 * one), rows back to back. Row r's result is valid on m_out 6 + S + 31 + H
 * cycles after the handshake of its last beat (input register, product,
 * accumulate, S = max(clog2(CMAX) + 38, 48) cycles of the shifter's one-bit
 * steps, t[0], 31 serial rounding steps, H = max(ACC_W - 2, S - 4) steps
 * checking the high part, the last of which saturates into the output
 * register); S + 36 + H cycles must fit in a row: 2 * BEATS * LANES >= S +
 * 36 + H in both regions (elaboration error otherwise; the emitter keeps
 * lg_matvec.v for shorter rows), and S and H must equal the values for COLS
 * alone (what the emitter's latency uses). With s_w_valid and m_out_ready
 * held high, done rises ROWS * BEATS * 2 * LANES + 6 + S + 31 + H cycles
 * after the start cycle. Stalls freeze the whole pipeline, shifter
 * included.
 *
 * Output stage (g_out_ser): t = (acc * 2^32) >>> a with a = 31 + s clamped
 * to 0 .. SC + 31 (SC = clog2(CMAX) + 39), out = sat32((t >>> 1) + t[0]):
 * round half up for s > 0, the saturating left shift for s <= 0.
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
    // output stage: 0 one-cycle barrel shifter, 1 serial shifter (lean form)
    parameter OUT_SERIAL = ${OUT_SERIAL},
    // 1: runs are bounded by the source and the next start, not by a row
    // count (no row counter; m_out_last and done stay low)
    parameter OPEN_RUN = 0
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
// (or, OR_BASE below, the longer region at 0 and the shorter at 2^BCW)
localparam BEATS = (COLS + LANES - 1) / LANES;
localparam BEATS2 = (COLS2 + LANES - 1) / LANES;
localparam BMAX = BEATS > BEATS2 ? BEATS : BEATS2;
localparam BMIN = BEATS < BEATS2 ? BEATS : BEATS2;
localparam DEPTH = BEATS + BEATS2;
localparam CMAX = COLS > COLS2 ? COLS : COLS2;
// valid lanes in the last beat of a row (1..LANES), per region
localparam RAGGED = COLS - (BEATS - 1) * LANES;
localparam RAGGED2 = COLS2 > 0 ? COLS2 - (BEATS2 - 1) * LANES : LANES;
localparam LOG2L = $clog2(LANES);
// the lane index within a beat (one lane a cycle), and the lanes of one
// group (the group of lane l is l >> LOG2GL)
localparam LW = (LANES > 1) ? LOG2L : 1;
localparam LOG2GL = (LANES < GROUP) ? LOG2L : $clog2(GROUP);
// product and shifted product widths: the lane's mantissa enters the
// multiplier as m * 2^(dexp mod 8) (16-bit signed, so |product| <= 2^14 *
// 2^15), the product is shifted by 8 (dexp >= 8)
localparam PW = 31;
localparam BW = PW + 8;
// accumulator: |acc| <= CMAX * 2^22 * 2^15 (2^22 bounds |int8 x int16| even
// for -128 x -32768), below 2^(clog2(CMAX) + 37) unless CMAX is a power of
// two, so clog2(CMAX + 1) + 38 signed bits always hold it; and at least one
// bit wider than a shifted product
localparam ACC_W = (BW + 1 > $clog2(CMAX + 1) + 38) ? BW + 1 : $clog2(CMAX + 1) + 38;
// counters and buffer addressing
localparam AW = $clog2(CMAX);
localparam BCW = (BMAX > 1) ? $clog2(BMAX) : 1;
// OR_BASE (two regions whose rows fit as many 256 x 16 block RAMs with the
// shorter region at 2^BCW): a beat's buffer row is {shorter region, beat},
// no adder and no read address counter; else region 1 starts at BEATS
localparam OR_BASE = COLS2 > 0 && ((1 << BCW) + BMIN + 255) / 256 == (DEPTH + 255) / 256;
localparam [0:0] LONG1 = BEATS2 > BEATS; // region 1 is the longer one
localparam MDEPTH = OR_BASE ? (1 << BCW) + BMIN : DEPTH;
localparam DAW = OR_BASE ? BCW + 1 : ((DEPTH > 1) ? $clog2(DEPTH) : 1);
localparam RCW = (ROWS > 1) ? $clog2(ROWS) : 1;
localparam XW = AW + LOG2L + 1;
// pipeline stages before the accumulator (see header): input register,
// product (the shift by 8 sits in front of the accumulator's adder)
localparam NSTG = 2;
// control bits per stage: {row_last, elem_last, valid} (a row's
// first element is known at the accumulator: acc_open_reg)
localparam CW = 3;

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
    if (OUT_SERIAL != 1) begin
        $error("Error: this lean template has the serial output stage only, OUT_SERIAL = 1 (instance %m)");
        $finish;
    end
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
end

// ---- control ------------------------------------------------------------------

// pipeline advance: the registered ready of the output buffer. Every
// pipeline register (and the buffer read port) moves only when adv is high,
// so backpressure freezes the pipeline as a whole and nothing is lost.
wire adv;

reg running_reg; // accepting weight beats
reg done_reg;
reg [BCW-1:0] beat_reg; // beat within the row
reg [RCW-1:0] row_reg;
reg [LW-1:0] lane_reg;  // lane of the beat the multiplier takes next
reg sel_reg;            // region of the run being fed (0 without COLS2)
wire [DAW-1:0] raddr;   // buffer row of that beat (beat_reg in its region)

// One multiplier, one lane every other cycle: the engine reads the offered
// beat's lanes 0 .. LANES-1 in 2 * LANES advancing cycles (the source holds
// a valid beat stable until it is taken) and takes the beat, s_w_ready
// high, in the last lane's cycle. So a beat takes 2 * LANES cycles, no beat
// register is needed, and a row takes 2 * COLS cycles (rounded up to whole
// beats), time for the serial output stage (g_out_ser). tick_reg: no lane
// was taken in the cycle before.
reg tick_reg;
wire lane_last = LANES == 1 || lane_reg == LANES_M1[LW-1:0];
wire start_ok = start && (!running_reg || (beat_reg == {BCW{1'b0}} && lane_reg == {LW{1'b0}}));
wire take = running_reg && adv && tick_reg && s_w_valid; // lane lane_reg enters stage 0
assign s_w_ready = running_reg && adv && tick_reg && lane_last;

always @(posedge clk) begin
    if (adv)
        tick_reg <= !take;
    if (rst)
        tick_reg <= 1'b1;
end
wire w_fire = s_w_valid && s_w_ready;
wire beat_last = (COLS2 > 0 && sel_reg) ? beat_reg == BEAT_LAST2 : beat_reg == BEAT_LAST;
// (never with OPEN_RUN: the row counter is then unused and optimized away)
wire row_last = OPEN_RUN == 0 && row_reg == ROW_LAST;
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

// beat and row counters (wrap so that rows follow back to back)
wire new_sel = COLS2 > 0 && start_sel;

always @(posedge clk) begin
    if (start_ok)
        lane_reg <= {LW{1'b0}};
    else if (take && LANES > 1)
        lane_reg <= lane_reg + 1'b1; // wraps at the beat's last lane
    if (rst)
        lane_reg <= {LW{1'b0}};
end

always @(posedge clk) begin
    if (start_ok) begin
        beat_reg <= {BCW{1'b0}};
        row_reg <= {RCW{1'b0}};
        sel_reg <= new_sel;
    end else if (w_fire) begin
        if (beat_last) begin
            beat_reg <= {BCW{1'b0}};
            row_reg <= row_reg + 1'b1;
        end else begin
            beat_reg <= beat_reg + 1'b1;
        end
    end
    if (rst) begin
        beat_reg <= {BCW{1'b0}};
        row_reg <= {RCW{1'b0}};
        sel_reg <= 1'b0;
    end
end

// the read address: {shorter region, beat} (OR_BASE), else a counter beside
// the beat from the run's region base, so no adder sits in front of the
// buffer read
generate
    if (OR_BASE) begin : g_raddr_or
        assign raddr = {sel_reg ^ LONG1, beat_reg};
        wire unused_base2 = ^BASE2;
    end else begin : g_raddr_cnt
        reg [DAW-1:0] raddr_reg;
        wire [DAW-1:0] run_base = (COLS2 > 0 && sel_reg) ? BASE2 : {DAW{1'b0}};

        always @(posedge clk) begin
            if (start_ok)
                raddr_reg <= new_sel ? BASE2 : {DAW{1'b0}};
            else if (w_fire)
                raddr_reg <= beat_last ? run_base : raddr_reg + 1'b1;
            if (rst)
                raddr_reg <= {DAW{1'b0}};
        end
        assign raddr = raddr_reg;
    end
endgenerate

// output shift, decoded once at start into the shifter amount a = 31 + s
// (the serial output stage below: g_out_ser); a row takes its run's amount
// as its first beat reaches the accumulator, so rows already in the pipe
// keep their own run's shift.
reg [6:0] sh_amt_reg;

// ---- activation buffer: WL banks, element-addressed --------------------------

// Bank w holds the inputs of lanes w, w + WL, ... of every beat: input
// LANES * k + WL * u + w at address {k, u} (u the lane's chunk within the
// beat, LOG2LPW bits). The multiplier takes one lane a cycle, so one read
// of one bank gives its activation: with WL = 1 (the decoder's VL 1) the
// buffer is a single element-addressed RAM, no lane select after it.
// write chunk split into its chunk within the beat (low bits) and the beat
// row (region included)
localparam EAW = DAW + LOG2LPW;
wire [XW-1:0] waddr_x = {{(XW - WAW){1'b0}}, act_waddr};
wire [XW-1:0] wr_sub = waddr_x & SUB_MASK;
wire [XW-1:0] wr_row_x = waddr_x >> LOG2LPW;
wire [DAW-1:0] wr_row;
wire [EAW-1:0] wr_ea;   // the chunk's address in every bank
wire [EAW-1:0] rd_ea;   // the address of lane lane_reg of the current beat
generate
    if (OR_BASE) begin : g_wrow_or
        assign wr_row = {act_wsel ^ LONG1, wr_row_x[BCW-1:0]};
    end else begin : g_wrow_add
        wire [DAW-1:0] wr_base = (COLS2 > 0 && act_wsel) ? BASE2 : {DAW{1'b0}};
        assign wr_row = wr_base + wr_row_x[DAW-1:0];
    end
    if (LOG2LPW == 0) begin : g_ea_row
        assign wr_ea = wr_row;
        assign rd_ea = raddr;
    end else begin : g_ea_sub
        assign wr_ea = {wr_row, wr_sub[LOG2LPW-1:0]};
        assign rd_ea = {raddr, lane_reg[LOG2L-1:LOG2WL]};
    end
endgenerate
wire unused_wr_row = ^{wr_row_x, wr_sub, LANE_MASK};

// the stage-0 lane's bank, registered beside the read (WL > 1)
localparam [LW-1:0] WL_M1 = LANES_M1[LW-1:0] >> LOG2LPW;
wire [LW-1:0] rd_bank = lane_reg & WL_M1;
reg [LW-1:0] rd_bank_reg;

always @(posedge clk) begin
    if (adv)
        rd_bank_reg <= rd_bank;
end

// write lanes past the longest vector (CMAX < WL: a model narrower than
// its vector lanes) feed no bank
generate
    if (CMAX < WL) begin : g_wdata_pad
        wire unused_wdata = ^act_wdata[WL*16-1:CMAX*16];
    end
endgenerate

// read data of every bank, bank w in [16*w +: 16]
wire [WL*16-1:0] act_rd;

genvar b;
generate
    for (b = 0; b < WL; b = b + 1) begin : g_bank
        if (b < CMAX) begin : g_ram
            localparam [LW-1:0] BNK = b;
            // no_rw_check: a write never meets the read of a lane being
            // taken (the decoder loads a vector only into rows no run still
            // reads; checked in simulation below). A read that meets a write
            // otherwise is never used, so Yosys need not build read-first
            // logic.
            (* no_rw_check *)
            reg [15:0] mem [0:MDEPTH*LPW-1];
            reg [15:0] rd_reg;

            always @(posedge clk) begin
                if (act_we)
                    mem[wr_ea] <= act_wdata[16*b +: 16];
            end

            // synchronous read of the lane being taken (enable = adv)
            always @(posedge clk) begin
                if (adv)
                    rd_reg <= mem[rd_ea];
            end

            assign act_rd[16*b +: 16] = rd_reg;
`ifndef SYNTHESIS
            // the no-collision rule, checked in every simulation
            always @(posedge clk) begin
                if (!rst && act_we && wr_ea == rd_ea && take && rd_bank == BNK) begin
                    $display("Error: %m: a lane's read meets a write of address %0d", wr_ea);
                    $stop;
                end
            end
`endif
        end else begin : g_none
            // lanes past both vectors never carry data (WL > COLS, COLS2)
            assign act_rd[16*b +: 16] = 16'd0;
        end
    end
endgenerate

wire [15:0] act_s1 = act_rd[16*rd_bank_reg +: 16]; // stage 1's activation

// ---- control and exponent pipes ------------------------------------------------

// ctl_pipe[CW*k +: CW] travels with the element of stage k: 0 input
// register, 1 product (NSTG - 1: shifted into the accumulator).
reg [NSTG*CW-1:0] ctl_pipe;
wire [CW-1:0] ctl_in = {row_last, beat_last && lane_last, take};

always @(posedge clk) begin
    if (adv)
        ctl_pipe <= {ctl_pipe[(NSTG-1)*CW-1:0], ctl_in};
    if (rst)
        ctl_pipe <= {NSTG*CW{1'b0}};
end

// the lane's group's dexp (one per beat when LANES <= GROUP)
wire [3:0] dexp_l;
generate
    if (LANES > GROUP) begin : g_dx_sel
        assign dexp_l = s_w_dexp[{lane_reg[LW-1:LOG2GL], 2'b00} +: 4];
    end else begin : g_dx_one
        assign dexp_l = s_w_dexp[3:0];
    end
endgenerate

// bit 3 of the dexp of stages 0 and 1, used by the shift stage (the low
// three bits are applied before the multiplier)
reg [1:0] dx_pipe;

always @(posedge clk) begin
    if (adv)
        dx_pipe <= {dx_pipe[0], dexp_l[3]};
end

// ---- stage 0: one lane's mantissa ---------------------------------------------

// lane lane_reg's mantissa times 2^(dexp mod 8) of its group (exact in 16
// bits: |m| <= 128), the multiplier's 16-bit operand; zero for a padding
// lane (past the row end in the last beat of a row of its region: the
// buffer word it reads may never have been written)
localparam [31:0] RAG32 = RAGGED;
localparam [31:0] RAG2_32 = RAGGED2;
localparam [LW:0] RAG_L = RAG32[LW:0];
localparam [LW:0] RAG2_L = RAG2_32[LW:0];
wire pad = beat_last && ((COLS2 > 0 && sel_reg) ? {1'b0, lane_reg} >= RAG2_L
                                                 : {1'b0, lane_reg} >= RAG_L);
wire signed [7:0] m_l = s_w_mant[8*lane_reg +: 8];
wire [7:0] m_oh = pad ? 8'd0 : 8'd1 << dexp_l[2:0];
wire signed [8:0] m_pow = {1'b0, m_oh};
wire signed [16:0] m_shl = m_l * m_pow;
reg [15:0] mant_reg;

always @(posedge clk) begin
    if (adv)
        mant_reg <= m_shl[15:0];
end
wire unused_m_shl = m_shl[16];

// ---- stage 1: the product ------------------------------------------------------

wire signed [15:0] mul_m = mant_reg;
wire signed [15:0] mul_a = act_s1;
wire signed [PW-1:0] prod = mul_m * mul_a;
reg [PW-1:0] prod_reg;

always @(posedge clk) begin
    if (adv)
        prod_reg <= prod;
end

// ---- into the accumulator: the product shifted by 8 when the dexp >= 8 -------

wire [BW-1:0] shp = dx_pipe[1] ? {prod_reg, 8'd0} : {{8{prod_reg[PW-1]}}, prod_reg};

// ---- accumulator ------------------------------------------------------------

wire [CW-1:0] ctl_b = ctl_pipe[CW*(NSTG-1) +: CW];
wire [ACC_W-1:0] beat_ext = {{(ACC_W-BW){shp[BW-1]}}, shp};

reg [ACC_W-1:0] acc_reg;
reg acc_valid_reg; // acc_reg holds a finished row
reg acc_last_reg;
reg acc_open_reg;  // acc_reg holds a row's first beats but not its last

// a row's first beat restarts the sum, so rows need no gap between them.
// The beat after a row's last (or the first after reset) is always a row's
// first: runs start, and cut runs short, only at row boundaries.
wire acc_first = !acc_open_reg;

// Written as a mux after the add, not as an add to a zeroed acc_reg: bit i
// is then one LUT4 (acc_i, beat_i, carry in, first) beside its carry cell,
// the carries being don't-cares when the mux takes the beat; zeroing the
// add's input cost a LUT4 a bit more (iCE40: 46 LUT4 at the iCEBreaker shape)
always @(posedge clk) begin
    if (adv && ctl_b[0])
        acc_reg <= acc_first ? beat_ext : acc_reg + beat_ext;
end

always @(posedge clk) begin
    if (adv) begin
        acc_valid_reg <= ctl_b[0] && ctl_b[1];
        acc_last_reg <= ctl_b[2];
        if (ctl_b[0])
            acc_open_reg <= !ctl_b[1];
    end
    if (rst) begin
        acc_valid_reg <= 1'b0;
        acc_open_reg <= 1'b0;
    end
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

// Serial shift, round, saturate, output register (g_out_ser).

// The saturation to +-(2^31 - 1) of the rounded value (t >>> 1) + t[0]
// = (hi + c) * 2^32 + lo[31:0], with hi = t >>> 33, lo the low 32 bits of
// t[32:1] + t[0] and c its carry out: it fits when bits 31 and up are all
// equal and it is not -2^31. Kept of hi: whether its bits are all equal
// (hi = 0 or -1) and its sign. The carry comes only with lo[31:0] = 0
// (t[32:0] all ones), and then the value fits exactly when hi + 1 = 0: the
// one-cycle form's flag for hi = -2 (hi + 1 all ones) only matters with
// lo[31] set, so it is not kept. lo is formed serially (g_out_ser, below):
// its bit 31 (lo31), the OR of bits 30..0 (lo_nz) and the carry (c_lo) are
// kept, and hi's flags are formed serially after it.
wire hi_eq, hi_sign;
wire c_lo, lo31, lo_nz;
wire rd_hz = hi_eq && !hi_sign; // hi = 0
wire rd_ho = hi_eq && hi_sign;  // hi = -1
wire rhi_zero = (rd_hz && !c_lo) || (rd_ho && c_lo);
wire rhi_ones = rd_ho && !c_lo;
wire r_neg = hi_sign && !(rd_ho && c_lo);
wire fits = (rhi_zero && !lo31) || (rhi_ones && lo31 && lo_nz);

generate
    if (OUT_SERIAL == 1) begin : g_out_ser
        // Serial form (the lean build, --mul-share): no barrel shifter. A
        // single amount serves both directions: t = (acc * 2^32) >>> a with
        // a = 31 + s, and the result is (t >>> 1) + t[0] in both: for s > 0
        // t = acc >>> (s - 1) as above; for s <= 0 t = acc * 2^(1 - s) is
        // even, so the result is acc << l (l = -s). The left shift is
        // clamped to 31 (a >= 0): acc << l fits +-(2^31 - 1) for l >= 31
        // only when acc = 0, so l = 31 saturates exactly as any l >= 31. The
        // right shift is clamped to SC = clog2(CMAX) + 39: |acc| <=
        // CMAX * 2^37 <= 2^(SC - 2), so t = acc >>> (s - 1) is 0 or -1 and
        // the result 0 for every s >= SC. So a is in 0..SC + 31.
        //
        // x is acc (ACC_W bits, no copy of the 32 zero bits below it): the
        // bits of acc * 2^32 from the low end are 32 zeros, then x[0] as x
        // shifts right by one (sign-filling). With d = a - 32 (-32 .. SC -
        // 1): x first takes max(d, 0) one-bit steps in a phase of a fixed
        // SER_S cycles (so the latency is a constant), then t[0..32] follow
        // as 33 bits of the stream: -d zeros first when d < 0, then x[0]
        // bits, one a cycle. After the 33rd x holds acc >>> (a + 1) = t >>>
        // 33, t's high part. d is kept as a sign and a count that only
        // counts down (no up/down counter): {0, d} for d >= 0, {1, -d - 1}
        // for d < 0 (the zeros: the count's steps down to 0, then one more
        // that clears the sign).
        localparam SC = $clog2(CMAX) + 39;
        localparam SER_S = SC - 1 > 48 ? SC - 1 : 48;
        // the same for COLS alone (the emitter's latency: lg_matvec_latency)
        localparam SER_SC = $clog2(COLS) + 38 > 48 ? $clog2(COLS) + 38 : 48;
        // the high part's check, one bit a step after the rounding (below):
        // x's bits 0 .. ACC_W - 2 (bit ACC_W - 2 is a copy of the sign
        // after the rounding's last step), at least SER_S - 4 steps so that
        // every COLS up to 255 takes the same count; SER_HC for COLS alone
        localparam SER_H = ACC_W - 2 > SER_S - 4 ? ACC_W - 2 : SER_S - 4;
        localparam ACW_C = (BW + 1 > $clog2(COLS + 1) + 38) ? BW + 1 : $clog2(COLS + 1) + 38;
        localparam SER_HC = ACW_C - 2 > SER_SC - 4 ? ACW_C - 2 : SER_SC - 4;
        localparam TMW = $clog2(SER_S + 1);
        localparam [TMW-1:0] RND_N = 31;
        localparam [31:0] SER_S32 = SER_S;
        localparam [31:0] SER_HM1_32 = SER_H - 1;
        localparam [TMW-1:0] HI_N = SER_HM1_32[TMW-1:0];
        // advancing cycles a row must take at least: x is busy for SER_S
        // shift cycles, one (advancing) wait, the hand-on, 32 rounding
        // steps and SER_H high-part steps
        localparam SER_ROW = SER_S + 36 + SER_H;

        initial begin
            if (2 * BEATS * LANES < SER_ROW || (COLS2 > 0 && 2 * BEATS2 * LANES < SER_ROW)) begin
                $error("Error: OUT_SERIAL needs rows of at least %0d cycles (instance %m)",
                       SER_ROW);
                $finish;
            end
            if (NSTG > SER_S) begin
                $error("Error: OUT_SERIAL needs NSTG <= %0d (instance %m)", SER_S);
                $finish;
            end
            if (SER_S != SER_SC || SER_H != SER_HC) begin
                $error("Error: OUT_SERIAL: COLS2 = %0d needs %0d + %0d serial steps, COLS = %0d %0d + %0d (%m)",
                       COLS2, SER_S, SER_H, COLS, SER_SC, SER_HC);
                $finish;
            end
        end

        // shift decode at start: d = a - 32 = s - 1, clamped to -32 .. 63
        // by bit tests (no comparisons: carry chains on iCE40), as {sign,
        // count} (above). Any d >= SC - 1 (<= 63: SC <= 64 for COLS <=
        // 2^24) gives the same result: x is all sign bits after SER_S >= SC
        // - 1 steps, and the steps past the phase (count > 0 at x_go) are
        // not taken (x hands on its bits, sign copies, one a step). s in
        // -31..63 is s - 1 in 7 bits (the count -d - 1 = ~d); s >= 64 takes
        // 63, s <= -32 takes -32 ({1, 31}).
        wire sh_lo = shift[7] && (shift[6:5] != 2'b11 || shift[4:0] == 5'd0);
        wire sh_hi = !shift[7] && shift[6];
        wire [6:0] sh_dec = shift[6:0] - 7'd1;

        always @(posedge clk) begin
            if (start_ok) begin
                sh_amt_reg[6] <= sh_lo || (!sh_hi && sh_dec[6]);
                sh_amt_reg[5:0] <= sh_lo ? 6'd31 : (sh_hi ? 6'd63 : sh_dec[5:0] ^ {6{sh_dec[6]}});
            end
        end

        reg sh_valid_reg; // x holds a row (its run's last row: sh_last_reg)
        reg sh_last_reg;
        reg [ACC_W-1:0] x_reg;
        reg d_neg;              // d < 0: zeros to come (d_cnt + 1 of them)
        reg [5:0] d_cnt;        // steps left (d >= 0), zeros left - 1 (d < 0)
        // cycles until x has its t, then the serial rounding steps left
        reg [TMW-1:0] x_tm_reg;
        wire x_load = acc_valid_reg;
        wire d_nz = d_cnt != 6'd0;
        wire x_step = !d_neg && d_nz; // phase 1: a one-bit step
        wire x_go;    // x hands its t on: the serial rounding starts
        reg rnd_reg;  // the 32 serial rounding steps (x_tm_reg counts them)
        reg hi_reg;   // the SER_H high-part steps (x_tm_reg counts them)
        wire rnd_last, hi_last;
        wire sh_done; // the last high-part step: x is free
        // the stream's bit: a zero while d < 0, else x[0]
        wire s_bit = !d_neg && x_reg[0];
        wire consume = x_go || rnd_reg;

        // The amount of the row in the accumulator, taken from sh_amt_reg
        // as the row's first element is added (the decoded shift does not
        // ride with the elements). Exact because no start is accepted
        // between the handshakes of a row's first and last beats, which are
        // at least NSTG advancing cycles apart, so the first element
        // reaches the accumulator before the next run's start, and the next
        // row's first element comes no earlier than this row's x load.
        reg [6:0] amt_reg;

        always @(posedge clk) begin
            if (adv && ctl_b[0] && acc_first)
                amt_reg <= sh_amt_reg;
        end

        always @(posedge clk) begin
            if (adv) begin
                if (x_load) begin
                    x_reg <= acc_reg;
                    d_neg <= amt_reg[6];
                    d_cnt <= amt_reg[5:0];
                    x_tm_reg <= SER_S32[TMW-1:0];
                    sh_last_reg <= acc_last_reg;
                end else begin
                    // phase 1: the d one-bit steps; then each bit of the
                    // stream taken: a zero (counted down) or x[0] (x
                    // steps); then the high part's steps
                    if (consume ? !d_neg : (x_step || hi_reg))
                        x_reg <= {x_reg[ACC_W-1], x_reg[ACC_W-1:1]};
                    if ((consume ? d_neg : x_step) && d_nz)
                        d_cnt <= d_cnt - 6'd1;
                    if (consume && !d_nz)
                        d_neg <= 1'b0; // the last zero
                    if (x_go)
                        x_tm_reg <= RND_N;
                    else if (rnd_last)
                        x_tm_reg <= HI_N;
                    else if (x_tm_reg != {TMW{1'b0}})
                        x_tm_reg <= x_tm_reg - 1'b1;
                end
            end
        end

        always @(posedge clk) begin
            if (adv)
                sh_valid_reg <= x_load || (sh_valid_reg && !sh_done);
            if (rst)
                sh_valid_reg <= 1'b0;
        end

        // The rounding, serially: t2 = t >>> 1, inc = t[0] (both
        // directions). When x has taken its steps (x_tm_reg = 0) and the
        // output register is free (or being taken), x hands on: the
        // stream's first bit t[0] is kept as the increment's carry, and then
        // 32 steps (rnd_reg) pass t[32:1], bit by bit from the low end, into
        // the output register as a shift register with the increment's
        // carry: lo = t[32:1] + t[0]. Then x holds t's high part, t >>> 33 =
        // acc >>> (a + 1) (the last rounding step takes x[0]: at most 32
        // zeros come first), and SER_H more one-bit steps (hi_reg) compare
        // its bits 0 .. SER_H - 1 with its sign, one a step at x[0] (no
        // ACC_W-bit comparator; bit ACC_W - 2 is a copy of the sign after
        // the rounding's last step, and steps past it compare sign copies).
        // The last step decides the saturation (fits, above: the carry out
        // of lo, lo's bit 31 and whether its bits 30..0 are zero are kept)
        // and loads the constant instead when the value does not fit. So x
        // is the output buffer's second slot and no 33-bit adder or round
        // stage register is needed.
        reg c_reg;      // the increment's carry into the current bit
        reg nz_reg;     // an earlier result bit (of bits 0..30) was set
        reg eq_reg;     // the high part's bits so far equal its sign
        reg s_ready_reg;
        reg m_valid_reg;
        reg [31:0] m_data_reg;
        reg m_last_reg;
        wire r_bit = s_bit ^ c_reg;
        wire h_bit_eq = x_reg[0] == x_reg[ACC_W-1];
        assign rnd_last = rnd_reg && x_tm_reg == {TMW{1'b0}};
        assign hi_last = hi_reg && x_tm_reg == {TMW{1'b0}};

        assign x_go = sh_valid_reg && !rnd_reg && !hi_reg && x_tm_reg == {TMW{1'b0}} &&
                      (m_out_ready || !m_valid_reg);
        assign c_lo = c_reg;
        assign lo31 = m_data_reg[31];
        assign lo_nz = nz_reg;
        assign hi_eq = eq_reg && h_bit_eq;
        assign hi_sign = x_reg[ACC_W-1];

        always @(posedge clk) begin
            if (adv) begin
                if (x_go) begin
                    c_reg <= s_bit;
                    nz_reg <= 1'b0;
                end else if (rnd_reg) begin
                    c_reg <= s_bit && c_reg;
                    if (!rnd_last)
                        nz_reg <= nz_reg || r_bit;
                end
                if (rnd_last)
                    eq_reg <= 1'b1;
                else if (hi_reg)
                    eq_reg <= eq_reg && h_bit_eq;
            end
        end

        always @(posedge clk) begin
            if (adv) begin
                if (x_go)
                    rnd_reg <= 1'b1;
                else if (rnd_last)
                    rnd_reg <= 1'b0;
                if (rnd_last)
                    hi_reg <= 1'b1;
                else if (hi_last)
                    hi_reg <= 1'b0;
            end
            if (rst) begin
                rnd_reg <= 1'b0;
                hi_reg <= 1'b0;
            end
        end

        // Output register. x waits with its t while the output register is
        // full and not taken; adv (s_ready_reg) drops the cycle after. x
        // holds a row for at most SER_S + 2 + 32 + SER_H advancing cycles
        // (one of them a wait), fewer than a row takes (SER_ROW), so a row
        // never reaches x while x is busy (checked below).
        assign in_flight = |ctl_valid || acc_valid_reg || sh_valid_reg || m_valid_reg;
        assign adv = s_ready_reg;
        assign m_out_valid = m_valid_reg;
        assign m_out_data = m_data_reg;
        assign m_out_last = m_last_reg;
        assign sh_done = adv && hi_last;

        always @(posedge clk) begin
            s_ready_reg <= m_out_ready || !m_valid_reg || !sh_valid_reg || rnd_reg || hi_reg ||
                           x_tm_reg != {TMW{1'b0}};
            if (adv && rnd_reg)
                m_data_reg <= {r_bit, m_data_reg[31:1]};
            else if (adv && hi_last && !fits)
                m_data_reg <= r_neg ? 32'h8000_0001 : 32'h7fff_ffff;
            if (adv && hi_last) begin
                m_valid_reg <= 1'b1;
                m_last_reg <= sh_last_reg;
            end else if (m_out_ready) begin
                m_valid_reg <= 1'b0;
            end
            if (rst) begin
                s_ready_reg <= 1'b0;
                m_valid_reg <= 1'b0;
            end
        end
`ifndef SYNTHESIS
        always @(posedge clk) begin
            if (!rst && adv && x_load && sh_valid_reg && !sh_done) begin
                $display("Error: %m: a row reaches the output shifter while it is busy");
                $stop;
            end
        end
`endif
    end
endgenerate

endmodule

`resetall
