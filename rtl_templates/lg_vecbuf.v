`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: one vector of the decoder's datapath (residual stream x, the
 * rotated query q, the FFN gate h1) in a block RAM, written element by
 * element and read back as a valid/ready stream (template
 * rtl_templates/lg_vecbuf.v; no C twin: it only stores values).
 *
 * Why: the units between the mat-vec runs (rmsnorm, residual, attention,
 * silu) consume their vector inputs as streams, but the producer of a vector
 * and its consumer run at different times (q is made before the K/V row is
 * in the cache; x is read twice per block). A simple dual-port RAM (one
 * write port, one registered read port) holds it; the read register is the
 * stream's output register (read enable = output empty or being taken), so
 * the stream runs at one element per cycle and stalls without loss.
 *
 * Parameters: DEPTH (elements, >= 2; a read streams all of them), W (bits
 * per element).
 *
 * Handshake contract:
 *  - write port: we/waddr/wdata, one element per cycle, any time except
 *    that it must not write the address the read side reads in the same
 *    cycle (block RAMs leave that undefined; simulation stops with an error
 *    if it happens). The read side reads element i + 1 in the cycle element
 *    i is taken, so a read-modify-write that writes element i after taking
 *    it (the residual add) never collides.
 *  - rd_start: one-cycle pulse; the unit then streams elements 0..DEPTH-1 on
 *    m (valid/ready; valid stays high and data stable until ready; m_last on
 *    element DEPTH-1). A rd_start while a stream is running restarts the
 *    address (the controller never does that).
 *  - rd_busy: high from rd_start until the last element has been taken.
 *
 * Latency and throughput: the first element is valid 2 cycles after the
 * rd_start cycle (address, RAM read register); then one element per
 * cycle while m_ready is high: DEPTH + 1 cycles from rd_start to the last
 * handshake without stalls.
 */
module ${MODULE} #(
    // elements held and streamed per read (>= 2)
    parameter DEPTH = ${DEPTH},
    // bits per element
    parameter W = 32
) (
    input  wire                     clk,
    input  wire                     rst,

    /*
     * Write port
     */
    input  wire                     we,
    input  wire [$clog2(DEPTH)-1:0] waddr,
    input  wire [W-1:0]             wdata,

    /*
     * Read stream
     */
    input  wire                     rd_start,
    output wire                     rd_busy,
    output wire                     m_valid,
    input  wire                     m_ready,
    output wire [W-1:0]             m_data,
    output wire                     m_last
);

// ---- derived sizes ------------------------------------------------------------

localparam AW = $clog2(DEPTH);
localparam [31:0] DEPTH_M1 = DEPTH - 1;
localparam [AW-1:0] ADDR_LAST = DEPTH_M1[AW-1:0];

// bad parameter combinations are rejected at elaboration
initial begin
    if (DEPTH < 2 || W < 1) begin
        $error("Error: DEPTH must be >= 2 and W >= 1 (instance %m)");
        $finish;
    end
end

// ---- the RAM: one write port, one registered read port ---------------------------

// no_rw_check: a read never meets a write of the same address in one cycle
// (see the contract; checked in simulation below), so Yosys need not build
// read-first logic around the block RAM (a write register and a bypass mux,
// W + AW + 1 flip-flops and W LUTs on iCE40, whose EBR leaves collisions
// undefined)
(* no_rw_check *)
reg [W-1:0] mem [0:DEPTH-1];

always @(posedge clk) begin
    if (we)
        mem[waddr] <= wdata;
end

// ---- read side: address counter and the RAM's read register as the output ------------------
// The registered read is the stream's output register: a read is issued when
// there is an element left and the output is empty or being taken this cycle,
// so the RAM's read enable holds the data through a stall (no FIFO, no copy of
// the data in flip-flops: the read register is the block RAM's own).

reg          left_reg;  // reads still to issue
reg [AW-1:0] raddr_reg;
reg          v_reg;     // q_reg holds an element not yet taken
reg [W-1:0]  q_reg;
reg          l_reg;     // ... and it is element DEPTH-1

assign m_valid = v_reg;
assign m_data = q_reg;
assign m_last = l_reg;
assign rd_busy = left_reg || v_reg;

wire pop = v_reg && m_ready;
wire issue = left_reg && (!v_reg || m_ready);
wire raddr_last = raddr_reg == ADDR_LAST;

// issue side: addresses 0..DEPTH-1 from rd_start
always @(posedge clk) begin
    if (rd_start) begin
        left_reg <= 1'b1;
        raddr_reg <= {AW{1'b0}};
    end else if (issue) begin
        if (raddr_last)
            left_reg <= 1'b0;
        raddr_reg <= raddr_reg + 1'b1;
    end
    if (rst) begin
        left_reg <= 1'b0;
        raddr_reg <= {AW{1'b0}};
    end
end

`ifndef SYNTHESIS
// the contract's no-collision rule, checked in every simulation
always @(posedge clk) begin
    if (!rst && we && issue && waddr == raddr_reg) begin
        $display("Error: %m: read and write of address %0d in one cycle", waddr);
        $stop;
    end
end
`endif

// registered read with enable (block RAM read port, its output register)
always @(posedge clk) begin
    if (issue) begin
        q_reg <= mem[raddr_reg];
        l_reg <= raddr_last;
    end
end

// a read refills the output; a take without a read empties it
always @(posedge clk) begin
    if (issue)
        v_reg <= 1'b1;
    else if (pop)
        v_reg <= 1'b0;
    if (rst)
        v_reg <= 1'b0;
end

endmodule

`resetall
