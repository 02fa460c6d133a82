`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * icebreaker_shell: what every iCEBreaker top shares (icebreaker_probe.v,
 * icebreaker_decoder.v): the PLL from the 12 MHz oscillator pad, the reset
 * (PLL lock, then 255 cycles; BTN_N resets too) and the QSPI flash pins
 * through SB_IO cells.
 *
 * Clock: SB_PLL40_PAD; the Makefile derives PLL_DIVR/DIVF/DIVQ/FILTER from
 * FREQ with icepll (the defaults below make 30 MHz). NO_PLL (the Makefile's
 * 12 MHz) takes the oscillator pad's clock as it is.
 *
 * Flash pins: SB_IO with registered outputs, output enables and inputs, so
 * every flash path starts or ends in an IO cell; the round trip is two clk
 * cycles longer, which the reader's IN_LAT = 2 accounts for.
 *
 * SCK_DDR = 1 (the reader's SCK_DDR: SCK = clk): SCK is a DDR output, low
 * in the first half of every cycle (D_OUT_0) and spi_sck in the second
 * (D_OUT_1, which the IO cell takes at clk falling: spi_sck goes through
 * one fabric register first so that the pulse leaves in the same cycle as
 * the IO0 / CS# values it belongs to, as with SCK_DDR = 0); the bus is read
 * from the input cells' falling-edge registers (D_IN_1), i.e. at SCK's
 * rising edge, half a cycle after the flash shifted the nibble out on the
 * falling one. The round trip stays IN_LAT = 2.
 */
`ifndef PLL_DIVR
`define PLL_DIVR 4'd0
`define PLL_DIVF 7'd79
`define PLL_DIVQ 3'd5
`define PLL_FILTER 3'd1
`endif

module icebreaker_shell #(
    // 1: SCK = clk (DDR SCK output, bus sampled at clk falling); 0: SCK = clk / 2
    parameter SCK_DDR = 0
) (
    input  wire       CLK,
    input  wire       BTN_N,
    output wire       FLASH_SCK,
    output wire       FLASH_SSB,
    inout  wire       FLASH_IO0,
    inout  wire       FLASH_IO1,
    inout  wire       FLASH_IO2,
    inout  wire       FLASH_IO3,

    // the design's clock and synchronous reset
    output wire       clk,
    output reg        rst,

    // the flash reader's side of the pins (lg_qspi_stream)
    input  wire       spi_cs_n,
    input  wire       spi_sck,
    input  wire [3:0] spi_io_o,
    input  wire [3:0] spi_io_oe,
    output wire [3:0] spi_io_i
);

// ---- clock and reset ------------------------------------------------------------

wire pll_lock;

`ifdef NO_PLL
// 12 MHz: the oscillator itself (the PLL makes 16 - 275 MHz); nextpnr puts
// the pad's net on a global buffer
assign clk = CLK;
assign pll_lock = 1'b1;
`else
SB_PLL40_PAD #(
    .FEEDBACK_PATH("SIMPLE"),
    .DIVR(`PLL_DIVR),
    .DIVF(`PLL_DIVF),
    .DIVQ(`PLL_DIVQ),
    .FILTER_RANGE(`PLL_FILTER)
) u_pll (
    .PACKAGEPIN(CLK),
    .PLLOUTGLOBAL(clk),
    .LOCK(pll_lock),
    .RESETB(1'b1),
    .BYPASS(1'b0)
);
`endif

reg [1:0] btn_sync_reg = 2'b00;
reg [7:0] por_reg = 8'd0;
initial rst = 1'b1;

always @(posedge clk) begin
    btn_sync_reg <= {btn_sync_reg[0], BTN_N};
    if (!pll_lock || !btn_sync_reg[1])
        por_reg <= 8'd0;
    else if (por_reg != 8'hff)
        por_reg <= por_reg + 8'd1;
    rst <= por_reg != 8'hff;
end

// ---- flash pins -------------------------------------------------------------------

wire [3:0] io_in_rise, io_in_fall;

generate
    if (SCK_DDR != 0) begin : g_sck_ddr
        // (the IO cell's D_OUT_1 register is clocked at clk falling: this
        // one keeps the pulse in step with IO0 / CS#, which go through the
        // cells' rising-edge output registers)
        reg sck_q = 1'b0;
        always @(posedge clk)
            sck_q <= spi_sck;
        SB_IO #(.PIN_TYPE(6'b0100_01)) u_io_sck (
            .PACKAGE_PIN(FLASH_SCK), .OUTPUT_CLK(clk), .CLOCK_ENABLE(1'b1),
            .D_OUT_0(1'b0), .D_OUT_1(sck_q));
        assign spi_io_i = io_in_fall;
        wire unused_rise = ^io_in_rise;
    end else begin : g_sck
        SB_IO #(.PIN_TYPE(6'b0101_01)) u_io_sck (
            .PACKAGE_PIN(FLASH_SCK), .OUTPUT_CLK(clk), .CLOCK_ENABLE(1'b1), .D_OUT_0(spi_sck));
        assign spi_io_i = io_in_rise;
        wire unused_fall = ^io_in_fall;
    end
endgenerate

SB_IO #(.PIN_TYPE(6'b0101_01)) u_io_ssb (
    .PACKAGE_PIN(FLASH_SSB), .OUTPUT_CLK(clk), .CLOCK_ENABLE(1'b1), .D_OUT_0(spi_cs_n));
SB_IO #(.PIN_TYPE(6'b1101_00), .PULLUP(1'b1)) u_io0 (
    .PACKAGE_PIN(FLASH_IO0), .OUTPUT_CLK(clk), .INPUT_CLK(clk), .CLOCK_ENABLE(1'b1),
    .OUTPUT_ENABLE(spi_io_oe[0]), .D_OUT_0(spi_io_o[0]), .D_IN_0(io_in_rise[0]),
    .D_IN_1(io_in_fall[0]));
SB_IO #(.PIN_TYPE(6'b1101_00), .PULLUP(1'b1)) u_io1 (
    .PACKAGE_PIN(FLASH_IO1), .OUTPUT_CLK(clk), .INPUT_CLK(clk), .CLOCK_ENABLE(1'b1),
    .OUTPUT_ENABLE(spi_io_oe[1]), .D_OUT_0(spi_io_o[1]), .D_IN_0(io_in_rise[1]),
    .D_IN_1(io_in_fall[1]));
SB_IO #(.PIN_TYPE(6'b1101_00), .PULLUP(1'b1)) u_io2 (
    .PACKAGE_PIN(FLASH_IO2), .OUTPUT_CLK(clk), .INPUT_CLK(clk), .CLOCK_ENABLE(1'b1),
    .OUTPUT_ENABLE(spi_io_oe[2]), .D_OUT_0(spi_io_o[2]), .D_IN_0(io_in_rise[2]),
    .D_IN_1(io_in_fall[2]));
SB_IO #(.PIN_TYPE(6'b1101_00), .PULLUP(1'b1)) u_io3 (
    .PACKAGE_PIN(FLASH_IO3), .OUTPUT_CLK(clk), .INPUT_CLK(clk), .CLOCK_ENABLE(1'b1),
    .OUTPUT_ENABLE(spi_io_oe[3]), .D_OUT_0(spi_io_o[3]), .D_IN_0(io_in_rise[3]),
    .D_IN_1(io_in_fall[3]));

endmodule

`resetall
