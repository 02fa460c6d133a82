`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: UART receiver, 8N1 (template rtl_templates/lg_uart_rx.v; bench
 * tests/hdl/tb_uart.cpp; the host protocol on top of it is lg_uart_tokens,
 * docs/fpga.md).
 *
 * Why: the iCEBreaker talks to its host through the FTDI's UART; the token
 * protocol needs a byte stream in.
 *
 * Parameters: CLK_HZ (clk frequency), BAUD (line rate); one bit lasts
 * CPB = round(CLK_HZ / BAUD) clk cycles (>= 8).
 *
 * Operation: rxd passes a two-flop synchronizer (it is asynchronous). A
 * falling edge starts a frame; the start bit is checked at its middle (a
 * glitch shorter than half a bit returns to idle), the 8 data bits (LSB
 * first) and the stop bit are sampled at their middles, CPB cycles apart.
 * The receiver is ready for the next start bit from the middle of the stop
 * bit on, so the two ends' rates may differ by about +-4 %. The data bits
 * are counted by a marker bit in the shift register (no bit counter, no
 * stop-bit state); the bit timer counts up and is cleared by each sample.
 *
 * Handshake contract:
 *  - m (HOLD = 1): valid/ready; valid stays high and data stable until
 *    ready. A UART cannot wait: a byte completed while m_valid is still
 *    high is dropped and err_overrun pulses.
 *  - m (HOLD = 0, for a consumer that is always ready, like lg_uart_tokens):
 *    m_valid is a one-cycle pulse and m_ready is ignored; the byte is read
 *    from the shift register itself (no output register: 8 flip-flops
 *    fewer), valid in that cycle (and until the next start bit's middle);
 *    err_overrun stays low.
 *  - err_frame: one-cycle pulse when a stop bit is low (the byte is
 *    dropped); the receiver then waits for the line to be high again (a
 *    break is one error, not a stream of zero bytes).
 *  - bit_tick: a one-cycle strobe at least once every CPB cycles, in every
 *    state (the bit timer's wrap; it runs on while the line is idle), so a
 *    consumer can time a silence in bit periods with a narrow counter
 *    instead of counting clk cycles (lg_uart_tokens' frame timeout).
 *
 * Latency: m_valid rises 3 + CPB / 2 + 9 * CPB cycles after the first
 * cycle with rxd low (2 synchronizer stages, 1 to see the edge, half the
 * start bit, 8 data bits and half the stop bit), for both HOLD values
 * (HOLD = 0 pulses a registered m_valid in the cycle after the stop bit's
 * sample: the strobe must not reach the consumer through the bit counter's
 * compare, which was the iCEBreaker probe's critical path).
 */
module ${MODULE} #(
    // clk frequency in Hz
    parameter CLK_HZ = 24000000,
    // line rate in baud
    parameter BAUD = 115200,
    // 1: the byte is held in an output register until taken; 0: a one-cycle
    // m_valid pulse for an always-ready consumer (no output register)
    parameter HOLD = 1
) (
    input  wire       clk,
    input  wire       rst,

    /*
     * Serial line (asynchronous, idle high)
     */
    input  wire       rxd,

    /*
     * Received bytes
     */
    output wire       m_valid,
    input  wire       m_ready,
    output wire [7:0] m_data,

    /*
     * Errors (one-cycle pulses)
     */
    output wire       err_frame,
    output wire       err_overrun,

    /*
     * Bit-period strobe (for a consumer's idle timeout: lg_uart_tokens)
     */
    output wire       bit_tick
);

// ---- derived sizes ------------------------------------------------------------

// clk cycles per bit (rounded), and to the middle of the start bit
localparam CPB = (CLK_HZ + BAUD / 2) / BAUD;
localparam HALF = CPB / 2;
localparam CW = $clog2(CPB);
localparam [31:0] CPB_M1_32 = CPB - 1;
localparam [31:0] HALF_M1_32 = HALF - 1;
localparam [CW-1:0] CPB_M1 = CPB_M1_32[CW-1:0];
localparam [CW-1:0] HALF_M1 = HALF_M1_32[CW-1:0];

// bad parameter combinations are rejected at elaboration
initial begin
    if (BAUD < 1 || CLK_HZ < 8 * BAUD) begin
        $error("Error: CLK_HZ must be at least 8 * BAUD (instance %m)");
        $finish;
    end
end

// ---- synchronizer -------------------------------------------------------------

reg rx_meta_reg;
reg rx_reg;

always @(posedge clk) begin
    rx_meta_reg <= rxd;
    rx_reg <= rx_meta_reg;
    if (rst) begin
        rx_meta_reg <= 1'b1;
        rx_reg <= 1'b1;
    end
end

// ---- receiver -------------------------------------------------------------------

localparam [1:0] S_IDLE = 2'd0,  // line high, waiting for a start bit
                 S_START = 2'd1, // to the middle of the start bit
                 S_DATA = 2'd2,  // 8 data bits, then the stop bit
                 S_BREAK = 2'd3; // after a framing error: wait for high

// binary state codes (Yosys' one-hot FSM recoding costs more cells here)
(* fsm_encoding = "none" *)
reg [1:0] state_reg;
// clk cycles since the start edge (S_START), the last sample or (idle line)
// the last bit_tick: an up-count cleared by the sample itself (its clear is
// the flip-flops' reset pin: no load multiplexer); while idle it wraps
// every CPB cycles (bit_tick) and the start edge clears it
reg [CW-1:0] cnt_reg;
reg [8:0] sh_reg;   // data bits in from the top above a marker 1: the marker in
                    // bit 0 means the 8 data bits are in sh_reg[8:1] and the
                    // stop bit is next (no bit counter, no stop state)
reg m_valid_reg;
reg [7:0] m_data_reg;
reg err_frame_reg;
reg err_overrun_reg;

assign err_frame = err_frame_reg;

// the middle of the start bit HALF cycles after the edge, then every CPB
// (and every CPB while idle: only bit_tick looks at it then)
wire tick = (state_reg == S_START) ? cnt_reg == HALF_M1 : cnt_reg == CPB_M1;
assign bit_tick = tick;

// + !clr rather than + 1: with a constant 1 yosys drops the chain's first
// carry, and the chain then needs a feed-in cell of its own
wire cnt_clr = (state_reg == S_IDLE && !rx_reg) || tick;
always @(posedge clk) begin
    cnt_reg <= cnt_reg + {{(CW-1){1'b0}}, !cnt_clr};
    if (cnt_clr)
        cnt_reg <= {CW{1'b0}};
end

always @(posedge clk) begin
    err_frame_reg <= 1'b0;
    err_overrun_reg <= 1'b0;
    // HOLD 0: a one-cycle pulse whatever m_ready says
    if (m_ready || HOLD == 0)
        m_valid_reg <= 1'b0;
    case (state_reg)
        S_IDLE: begin
            if (!rx_reg)
                state_reg <= S_START;
        end
        S_START: begin
            if (tick) begin
                sh_reg <= 9'h100;
                // high again: a glitch, not a start bit
                state_reg <= rx_reg ? S_IDLE : S_DATA;
            end
        end
        S_DATA: begin
            if (tick) begin
                if (!sh_reg[0]) begin
                    sh_reg <= {rx_reg, sh_reg[8:1]};
                end else if (rx_reg) begin
                    // the stop bit
                    if (HOLD != 0 && m_valid_reg && !m_ready) begin
                        err_overrun_reg <= 1'b1;
                    end else begin
                        m_valid_reg <= 1'b1;
                        m_data_reg <= sh_reg[8:1];
                    end
                    state_reg <= S_IDLE;
                end else begin
                    err_frame_reg <= 1'b1;
                    state_reg <= S_BREAK;
                end
            end
        end
        default: begin
            if (rx_reg)
                state_reg <= S_IDLE;
        end
    endcase
    if (rst) begin
        state_reg <= S_IDLE;
        m_valid_reg <= 1'b0;
        err_frame_reg <= 1'b0;
        err_overrun_reg <= 1'b0;
    end
end

generate
    if (HOLD != 0) begin : g_hold
        assign m_valid = m_valid_reg;
        assign m_data = m_data_reg;
        assign err_overrun = err_overrun_reg;
    end else begin : g_pulse
        // the cycle after the stop bit's sample (a register, so the byte
        // strobe leaves this unit from a flip-flop, not through the bit
        // counter's compare): the data bits are in sh_reg[8:1] until the
        // next start bit's middle
        assign m_valid = m_valid_reg;
        assign m_data = sh_reg[8:1];
        assign err_overrun = 1'b0;
        wire unused_hold = &{1'b0, m_data_reg, err_overrun_reg};
    end
endgenerate

endmodule

`resetall
