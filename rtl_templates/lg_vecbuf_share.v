`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: one vector of the decoder's datapath in a block RAM, the lean
 * form of --mul-share for the buffers whose consumer follows the producer's
 * count (the residual stream x, the FFN gate h1; template
 * rtl_templates/lg_vecbuf_share.v, the sibling of lg_vecbuf.v with the same
 * ports; no C twin: it only stores values).
 *
 * Why: lg_vecbuf.v streams a vector with its own read address counter,
 * flags and an issue/take handshake (about 20 logic cells on iCE40). In the
 * decoder, the x buffer's writes are numbered by the counter that also
 * orders the residual add's reads (element i is read, added to the mat-vec
 * row i, and written back at i), and the h1 buffer's writes by the result
 * counter that numbers the W3 rows h1 is paired with. So the write address
 * is always the element the consumer wants next, and the buffer reads there:
 * no counter of its own. The lean mat-vec engine (lg_matvec_share.v) gives
 * its rows tens of cycles apart, so a read one cycle behind the address
 * costs nothing.
 *
 * Parameters: DEPTH (elements, >= 2), W (bits per element).
 *
 * Handshake contract (differs from lg_vecbuf.v):
 *  - write port: we/waddr/wdata, one element per cycle. waddr is also the
 *    read address, every cycle, whether or not we is high: the producer's
 *    address must be the consumer's next element whenever the consumer
 *    takes one.
 *  - m: m_data is the element at the address of the cycle before;
 *    m_valid is always high: the consumer must not take an element (m_ready)
 *    in a cycle whose address differs from the cycle before's, nor in the
 *    cycle after a write (then the read register holds the element at the
 *    current address, and a read that met a write of its own address,
 *    undefined in a block RAM, is never taken; simulation stops
 *    otherwise). The decoder's consumers take an element only with a
 *    mat-vec result, and the lean engine's results are tens of cycles
 *    apart, the address moving and the write coming right after a take.
 *  - rd_start: ignored (kept for lg_vecbuf.v's port list); rd_busy and
 *    m_last are 0.
 *
 * Latency and throughput: m_data holds the element at an address from the
 * cycle after the address is set (the RAM read register), one cycle after
 * a write of it.
 */
module ${MODULE} #(
    // elements held (>= 2)
    parameter DEPTH = ${DEPTH},
    // bits per element
    parameter W = 32
) (
    input  wire                     clk,
    input  wire                     rst,

    /*
     * Write port (its address is also the read address)
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

// bad parameter combinations are rejected at elaboration
initial begin
    if (DEPTH < 2 || W < 1) begin
        $error("Error: DEPTH must be >= 2 and W >= 1 (instance %m)");
        $finish;
    end
end

// no_rw_check: a read that meets a write of its own address is never taken
// (see the contract), so Yosys need not build read-first logic around the
// block RAM
(* no_rw_check *)
reg [W-1:0] mem [0:DEPTH-1];
reg [W-1:0] q_reg;

always @(posedge clk) begin
    if (we)
        mem[waddr] <= wdata;
    q_reg <= mem[waddr];
end

`ifndef SYNTHESIS
// the contract's rule, checked in every simulation: a take sees the element
// at its address (no write the cycle before, no address move this cycle)
reg we_prev = 1'b0;
reg [$clog2(DEPTH)-1:0] waddr_prev = {$clog2(DEPTH){1'b0}};
always @(posedge clk) begin
    we_prev <= we;
    waddr_prev <= waddr;
    if (!rst && m_ready && (we_prev || waddr != waddr_prev)) begin
        $display("Error: %m: an element taken the cycle after a write or an address move");
        $stop;
    end
end
`endif

assign m_valid = 1'b1;
assign m_data = q_reg;
assign m_last = 1'b0;
assign rd_busy = 1'b0;
wire unused_rd_start = rd_start;

endmodule

`resetall
