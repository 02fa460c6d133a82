`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: on-chip weight memory, streamed as the decoder's weight beats
 * (template rtl_templates/lg_wmem.v; image writer lg_wimage_build /
 * lg_emit_weights_hex in src/emit_wmem.c).
 *
 * Why: every weight mat-vec reads its matrix exactly once per token, in a
 * fixed order (docs/architecture.md, "The weight stream"), so the whole
 * weight set is one sequential stream. This unit is the on-chip source of
 * that stream: a block RAM of beats, initialized by $readmemh from the
 * generator's image and/or written through a boot port, read sequentially
 * from a start address. A QSPI or AXI reader can replace it behind the same
 * m_w stream.
 *
 * Beat layout (one RAM word, BEAT_W = 8 * LANES + 4 * NDX bits): bits
 * [8*i +: 8] hold lane i's int8 mantissa (lane 0 least significant), bits
 * [8*LANES + 4*j +: 4] the dexp of the j-th group the beat covers (NDX = 1
 * when LANES <= GROUP, LANES / GROUP otherwise). m_w_mant / m_w_dexp are the
 * two fields, ready for lg_matvec's s_w_mant / s_w_dexp.
 *
 * Parameters: LANES (power of two, 1..64), GROUP (power of two, 4..256),
 * DEPTH (beats held, >= 2), INIT_FILE ($readmemh image, "" for none: then
 * only the boot port fills the RAM), PRELOADED (1: the image is valid from
 * reset; 0: wait for boot_done).
 *
 * Handshake contract:
 *  - start: one-cycle pulse, taken when busy is low and loaded is high
 *    (ignored otherwise). start_addr and last_addr (start_addr <= last_addr
 *    < DEPTH) are captured with it; the unit then streams beats start_addr ..
 *    last_addr. Per token the controller pulses start with 0 and the image's
 *    last beat.
 *  - m_w: valid/ready; valid stays high and data stable until ready
 *    (AXI-stream rules); m_w_last marks the beat at last_addr. m_w_ready
 *    reaches only the output skid registers: the RAM read enable and the
 *    address counter depend on registers alone, so a long ready path from
 *    the consumer never lands on the (possibly wide, many-BRAM) read port.
 *  - done: one-cycle pulse the cycle after the last beat is taken; busy
 *    falls with it.
 *  - boot port: boot_we writes boot_data to boot_addr (one beat per cycle,
 *    any order) and clears loaded; boot_done (pulse) sets loaded. Writes
 *    are meant for the boot phase: a write while busy may or may not be seen
 *    by the running stream (a beat already read ahead keeps its old value).
 *
 * Latency and throughput: the first beat is valid 3 cycles after the start
 * cycle (address register, RAM read register, output register); then one
 * beat per cycle while m_w_ready is high, so a stream of N beats ends with
 * done N + 3 cycles after start. The registered RAM read is hidden by
 * issuing the next read while the output holds the previous beat; the
 * two-entry skid buffer absorbs the one beat in flight when ready falls.
 */
module ${MODULE} #(
    // MAC lanes of the mat-vec: int8 mantissas per beat (power of two, 1..64)
    parameter LANES = ${LANES},
    // I8E group size G (power of two, 4..256)
    parameter GROUP = ${GROUP},
    // beats held (the whole weight image, >= 2)
    parameter DEPTH = ${DEPTH},
    // $readmemh image of the beats ("" = none, boot port only)
    parameter INIT_FILE = "${INIT_FILE}",
    // 1: the RAM content is valid from reset (loaded = 1 after reset)
    parameter PRELOADED = 1
) (
    input  wire                                              clk,
    input  wire                                              rst,

    /*
     * Control
     */
    input  wire                                              start,
    input  wire [$clog2(DEPTH)-1:0]                          start_addr,
    input  wire [$clog2(DEPTH)-1:0]                          last_addr,
    output wire                                              busy,
    output wire                                              done,

    /*
     * Boot write port
     */
    input  wire                                              boot_we,
    input  wire [$clog2(DEPTH)-1:0]                          boot_addr,
    input  wire [LANES*8+((LANES > GROUP) ? LANES / GROUP : 1)*4-1:0] boot_data,
    input  wire                                              boot_done,
    output wire                                              loaded,

    /*
     * Weight stream output
     */
    output wire                                              m_w_valid,
    input  wire                                              m_w_ready,
    output wire [LANES*8-1:0]                                m_w_mant,
    output wire [((LANES > GROUP) ? LANES / GROUP : 1)*4-1:0] m_w_dexp,
    output wire                                              m_w_last
);

// ---- derived sizes ------------------------------------------------------------

// dexps per beat and the beat width
localparam NDX = (LANES > GROUP) ? LANES / GROUP : 1;
localparam BEAT_W = LANES * 8 + NDX * 4;
localparam AW = $clog2(DEPTH);

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
    if (DEPTH < 2) begin
        $error("Error: DEPTH must be >= 2 (instance %m)");
        $finish;
    end
end

// ---- the RAM ---------------------------------------------------------------------

// One write port (boot), one registered read port (stream): a simple
// dual-port block RAM. Nothing observable reads a word before it was
// initialized or written (the stream only runs while loaded is high).
reg [BEAT_W-1:0] mem [0:DEPTH-1];

generate
    if (INIT_FILE != "") begin : g_init
        initial $readmemh(INIT_FILE, mem);
    end
endgenerate

always @(posedge clk) begin
    if (boot_we)
        mem[boot_addr] <= boot_data;
end

// ---- boot state -------------------------------------------------------------------

// loaded: the RAM holds a complete image; a boot write invalidates it until
// the boot loader says it is done
reg loaded_reg;
assign loaded = loaded_reg;

always @(posedge clk) begin
    if (boot_done)
        loaded_reg <= 1'b1;
    else if (boot_we)
        loaded_reg <= 1'b0;
    if (rst)
        loaded_reg <= PRELOADED != 0;
end

// ---- read control -----------------------------------------------------------------

// pipeline advance: the registered ready of the output skid buffer. The RAM
// read register and the address counter move only when adv is high, so the
// beat read ahead is held in the RAM's own output register while the
// consumer stalls.
wire adv;

reg busy_reg;   // start .. last beat taken
reg rd_left_reg; // reads still to issue
reg done_reg;
reg [AW-1:0] addr_reg;
reg [AW-1:0] last_reg;

wire start_ok = start && !busy_reg && loaded_reg;
wire rd_en = rd_left_reg && adv;
wire rd_last = addr_reg == last_reg;
wire out_fire_last = m_w_valid && m_w_ready && m_w_last;

assign busy = busy_reg;
assign done = done_reg;

always @(posedge clk) begin
    if (start_ok)
        busy_reg <= 1'b1;
    else if (out_fire_last)
        busy_reg <= 1'b0;
    if (rst)
        busy_reg <= 1'b0;
end

always @(posedge clk) begin
    if (start_ok)
        rd_left_reg <= 1'b1;
    else if (rd_en && rd_last)
        rd_left_reg <= 1'b0;
    if (rst)
        rd_left_reg <= 1'b0;
end

always @(posedge clk) begin
    done_reg <= out_fire_last;
    if (rst)
        done_reg <= 1'b0;
end

// read address: start_addr, then +1 per read issued
always @(posedge clk) begin
    if (start_ok) begin
        addr_reg <= start_addr;
        last_reg <= last_addr;
    end else if (rd_en) begin
        addr_reg <= addr_reg + 1'b1;
    end
end

// ---- stage 1: registered RAM read ---------------------------------------------------

reg [BEAT_W-1:0] q_reg;
reg q_valid_reg;
reg q_last_reg;

always @(posedge clk) begin
    if (rd_en)
        q_reg <= mem[addr_reg];
end

// q is taken by the skid buffer whenever adv is high, so it is refilled (or
// emptied) exactly then
always @(posedge clk) begin
    if (adv) begin
        q_valid_reg <= rd_en;
        q_last_reg <= rd_last;
    end
    if (rst)
        q_valid_reg <= 1'b0;
end

// ---- output skid buffer (alexforencich axis_register, SKID mode) -------------

reg s_ready_reg;
reg m_valid_reg;
reg [BEAT_W-1:0] m_data_reg;
reg m_last_reg;
reg tmp_valid_reg;
reg [BEAT_W-1:0] tmp_data_reg;
reg tmp_last_reg;

assign adv = s_ready_reg;
assign m_w_valid = m_valid_reg;
assign m_w_mant = m_data_reg[LANES*8-1:0];
assign m_w_dexp = m_data_reg[BEAT_W-1:LANES*8];
assign m_w_last = m_last_reg;

// ready next cycle if the output is taken, or nothing can fill the temp slot
wire s_ready_early = m_w_ready || (!tmp_valid_reg && (!m_valid_reg || !q_valid_reg));

always @(posedge clk) begin
    s_ready_reg <= s_ready_early;
    if (s_ready_reg) begin
        if (m_w_ready || !m_valid_reg) begin
            // output free: the RAM word goes straight to the output register
            m_valid_reg <= q_valid_reg;
            m_data_reg <= q_reg;
            m_last_reg <= q_last_reg;
        end else begin
            // output stalled: park the RAM word in the temp slot
            tmp_valid_reg <= q_valid_reg;
            tmp_data_reg <= q_reg;
            tmp_last_reg <= q_last_reg;
        end
    end else if (m_w_ready) begin
        // reads frozen: drain the temp slot
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
