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
 * write port, one registered read port) holds it; a two-entry FIFO behind
 * the read port turns the registered read into a stream that runs at one
 * element per cycle and stalls without loss.
 *
 * Parameters: DEPTH (elements, >= 2; a read streams all of them), W (bits
 * per element).
 *
 * Handshake contract:
 *  - write port: we/waddr/wdata, one element per cycle, any time. A read of
 *    an address in the same cycle as its write returns the old element
 *    (read-first), so a read-modify-write that reads element i before it
 *    writes element i (the residual add) is safe.
 *  - rd_start: one-cycle pulse; the unit then streams elements 0..DEPTH-1 on
 *    m (valid/ready; valid stays high and data stable until ready; m_last on
 *    element DEPTH-1). A rd_start while a stream is running restarts the
 *    address (the controller never does that).
 *  - rd_busy: high from rd_start until the last element has been taken.
 *
 * Latency and throughput: the first element is valid 2 cycles after the
 * rd_start cycle (address, RAM read register, FIFO); then one element per
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

reg [W-1:0] mem [0:DEPTH-1];

always @(posedge clk) begin
    if (we)
        mem[waddr] <= wdata;
end

// ---- read side: address counter, registered read, two-entry FIFO -----------------

reg         left_reg;  // reads still to issue
reg [AW-1:0] raddr_reg;
reg         rd_v_reg;  // rd_q_reg holds a fresh read this cycle
reg [W-1:0] rd_q_reg;
reg         rd_l_reg;  // ... and it is element DEPTH-1
reg [1:0]   cnt_reg;   // FIFO entries (0..2)
reg [W-1:0] d0_reg, d1_reg;
reg         l0_reg, l1_reg;

assign m_valid = cnt_reg != 2'd0;
assign m_data = d0_reg;
assign m_last = l0_reg;
assign rd_busy = left_reg || rd_v_reg || m_valid;

wire pop = m_valid && m_ready;
// entries after this edge without a new read: cnt + rd_v - pop (0..2); a
// read is issued only when that leaves room for it, so cnt + rd_v <= 2
wire [1:0] keep = cnt_reg + {1'b0, rd_v_reg} - {1'b0, pop};
wire issue = left_reg && (keep != 2'd2);
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

// registered read (block RAM read port with enable)
always @(posedge clk) begin
    if (issue) begin
        rd_q_reg <= mem[raddr_reg];
        rd_l_reg <= raddr_last;
    end
end

always @(posedge clk) begin
    rd_v_reg <= issue;
    if (rst)
        rd_v_reg <= 1'b0;
end

// FIFO: d0 is the head (the output register), d1 the second entry
always @(posedge clk) begin
    case ({rd_v_reg, pop})
        2'b10: begin
            if (cnt_reg == 2'd0) begin
                d0_reg <= rd_q_reg;
                l0_reg <= rd_l_reg;
            end else begin
                d1_reg <= rd_q_reg;
                l1_reg <= rd_l_reg;
            end
        end
        2'b01: begin
            d0_reg <= d1_reg;
            l0_reg <= l1_reg;
        end
        2'b11: begin
            if (cnt_reg == 2'd1) begin
                d0_reg <= rd_q_reg;
                l0_reg <= rd_l_reg;
            end else begin
                d0_reg <= d1_reg;
                l0_reg <= l1_reg;
                d1_reg <= rd_q_reg;
                l1_reg <= rd_l_reg;
            end
        end
        default: begin
        end
    endcase
end

// the fresh read (if any) enters, the head (if taken) leaves
always @(posedge clk) begin
    cnt_reg <= keep;
    if (rst)
        cnt_reg <= 2'd0;
end

endmodule

`resetall
