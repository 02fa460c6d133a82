`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: UART transmitter, 8N1 (template rtl_templates/lg_uart_tx.v;
 * bench tests/hdl/tb_uart.cpp; protocol in docs/fpga.md).
 *
 * Why: the generated tokens go back to the host over the FTDI's UART.
 *
 * Parameters: CLK_HZ (clk frequency), BAUD (line rate); one bit lasts
 * CPB = round(CLK_HZ / BAUD) clk cycles (>= 8), exactly.
 *
 * Handshake contract:
 *  - s: valid/ready; s_ready is a register, high while the transmitter is
 *    idle. A byte taken goes out as start bit, 8 data bits (LSB first) and
 *    one stop bit, each CPB cycles long; txd is a register (idle high):
 *    the low bit of the frame's shift register, which also counts the bits
 *    (zeros shifted in behind the stop bit).
 *
 * Latency and throughput: the start bit begins on txd the cycle after the
 * handshake; s_ready rises again at the end of the stop bit, so bytes
 * offered back to back leave one every 10 * CPB + 1 cycles (the stop bit
 * lasts one extra cycle: the handshake).
 */
module ${MODULE} #(
    // clk frequency in Hz
    parameter CLK_HZ = 24000000,
    // line rate in baud
    parameter BAUD = 115200
) (
    input  wire       clk,
    input  wire       rst,

    /*
     * Bytes to send
     */
    input  wire       s_valid,
    output wire       s_ready,
    input  wire [7:0] s_data,

    /*
     * Serial line (idle high)
     */
    output wire       txd
);

// ---- derived sizes ------------------------------------------------------------

// clk cycles per bit (rounded)
localparam CPB = (CLK_HZ + BAUD / 2) / BAUD;
localparam CW = $clog2(CPB);
localparam [31:0] CPB_M1_32 = CPB - 1;
localparam [CW-1:0] CPB_M1 = CPB_M1_32[CW-1:0];

// bad parameter combinations are rejected at elaboration
initial begin
    if (BAUD < 1 || CLK_HZ < 8 * BAUD) begin
        $error("Error: CLK_HZ must be at least 8 * BAUD (instance %m)");
        $finish;
    end
end

// ---- transmitter ----------------------------------------------------------------

reg ready_reg;      // idle
// the frame from the current bit on, LSB on txd: {stop, data, start} when
// taken, zeros shifted in from the top, so the stop bit alone is left
// (sh_reg == 1) for the last bit and while idle (no bit counter)
reg [9:0] sh_reg;
reg [CW-1:0] cnt_reg;

assign s_ready = ready_reg;
assign txd = sh_reg[0];

always @(posedge clk) begin
    if (ready_reg) begin
        if (s_valid) begin
            // start bit now, then data and stop
            sh_reg <= {1'b1, s_data, 1'b0};
            cnt_reg <= CPB_M1;
            ready_reg <= 1'b0;
        end
    end else if (cnt_reg != {CW{1'b0}}) begin
        cnt_reg <= cnt_reg - 1'b1;
    end else if (sh_reg[9:1] != 9'd0) begin
        sh_reg <= {1'b0, sh_reg[9:1]};
        cnt_reg <= CPB_M1;
    end else begin
        // the stop bit is over
        ready_reg <= 1'b1;
    end
    if (rst) begin
        ready_reg <= 1'b1;
        sh_reg <= 10'd1;
        cnt_reg <= {CW{1'b0}};
    end
end

endmodule

`resetall
