`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * icebreaker_probe: the llamagen iCE40 building blocks on the iCEBreaker
 * without the decoder: one mat-vec engine (lg_matvec, LANES lanes, the
 * largest 260k shape 512 x 172) fed by the QSPI weight stream from the
 * board's flash (lg_qspi_stream), driven over the FTDI UART with the host
 * token protocol (lg_uart_rx / lg_uart_tokens / lg_uart_tx). Two uses:
 *  - early resource and Fmax numbers for the UP5K (make report; docs/fpga.md,
 *    "Measured");
 *  - a bring-up test of the flash path: mkflash probe writes a random I8E
 *    matrix image and the expected results, lgtok.py --probe runs it.
 *
 * Protocol mapping (docs/fpga.md, "Host protocol"): a 'G' frame's prompt
 * ids are the activation vector (COLS int16 values, 16-bit ids), inv_temp
 * bits 7:0 the mat-vec's signed shift; the FPGA answers 'A', then every
 * int32 result as two 'T' records (low 16 bits, then high 16 bits), then
 * 'E'. n_gen and seed are ignored.
 *
 * This module is the board shell (PLL, reset, SB_IO cells, LEDs); the
 * logic is icebreaker_probe_core.v, which also simulates (make sim).
 *
 * Clock: SB_PLL40_PAD from the 12 MHz oscillator; the Makefile derives
 * PLL_DIVR/DIVF/DIVQ/FILTER and LG_CLK_HZ from FREQ with icepll. Reset:
 * PLL lock, then 255 cycles; BTN_N resets too.
 *
 * Flash pins: SB_IO with registered outputs and output enables and
 * registered inputs, so every flash path starts or ends in an IO cell; the
 * round trip is two clk cycles longer, which IN_LAT = 2 accounts for.
 */
`ifndef LG_CLK_HZ
`define LG_CLK_HZ 30000000
`endif
`ifndef PLL_DIVR
`define PLL_DIVR 4'd0
`define PLL_DIVF 7'd79
`define PLL_DIVQ 3'd5
`define PLL_FILTER 3'd1
`endif

module icebreaker_probe #(
    // clk frequency in Hz (the PLL output)
    parameter CLK_HZ = `LG_CLK_HZ,
    // mat-vec lanes, rows, columns (as emitted: gen_fpga_units board)
    parameter LANES = 4,
    parameter ROWS = 512,
    parameter COLS = 172,
    // UART rate
    parameter BAUD = 115200
) (
    input  wire CLK,
    input  wire RX,
    output wire TX,
    input  wire BTN_N,
    output wire LEDR_N,
    output wire LEDG_N,
    output wire FLASH_SCK,
    output wire FLASH_SSB,
    inout  wire FLASH_IO0,
    inout  wire FLASH_IO1,
    inout  wire FLASH_IO2,
    inout  wire FLASH_IO3
);

// ---- clock and reset ------------------------------------------------------------

wire clk;
wire pll_lock;

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

reg [1:0] btn_sync_reg = 2'b00;
reg [7:0] por_reg = 8'd0;
reg rst = 1'b1;

always @(posedge clk) begin
    btn_sync_reg <= {btn_sync_reg[0], BTN_N};
    if (!pll_lock || !btn_sync_reg[1])
        por_reg <= 8'd0;
    else if (por_reg != 8'hff)
        por_reg <= por_reg + 8'd1;
    rst <= por_reg != 8'hff;
end

// ---- flash pins -------------------------------------------------------------------

wire spi_cs_n, spi_sck;
wire [3:0] spi_io_o, spi_io_oe, spi_io_i;

SB_IO #(.PIN_TYPE(6'b0101_01)) u_io_sck (
    .PACKAGE_PIN(FLASH_SCK), .OUTPUT_CLK(clk), .CLOCK_ENABLE(1'b1), .D_OUT_0(spi_sck));
SB_IO #(.PIN_TYPE(6'b0101_01)) u_io_ssb (
    .PACKAGE_PIN(FLASH_SSB), .OUTPUT_CLK(clk), .CLOCK_ENABLE(1'b1), .D_OUT_0(spi_cs_n));
SB_IO #(.PIN_TYPE(6'b1101_00), .PULLUP(1'b1)) u_io0 (
    .PACKAGE_PIN(FLASH_IO0), .OUTPUT_CLK(clk), .INPUT_CLK(clk), .CLOCK_ENABLE(1'b1),
    .OUTPUT_ENABLE(spi_io_oe[0]), .D_OUT_0(spi_io_o[0]), .D_IN_0(spi_io_i[0]));
SB_IO #(.PIN_TYPE(6'b1101_00), .PULLUP(1'b1)) u_io1 (
    .PACKAGE_PIN(FLASH_IO1), .OUTPUT_CLK(clk), .INPUT_CLK(clk), .CLOCK_ENABLE(1'b1),
    .OUTPUT_ENABLE(spi_io_oe[1]), .D_OUT_0(spi_io_o[1]), .D_IN_0(spi_io_i[1]));
SB_IO #(.PIN_TYPE(6'b1101_00), .PULLUP(1'b1)) u_io2 (
    .PACKAGE_PIN(FLASH_IO2), .OUTPUT_CLK(clk), .INPUT_CLK(clk), .CLOCK_ENABLE(1'b1),
    .OUTPUT_ENABLE(spi_io_oe[2]), .D_OUT_0(spi_io_o[2]), .D_IN_0(spi_io_i[2]));
SB_IO #(.PIN_TYPE(6'b1101_00), .PULLUP(1'b1)) u_io3 (
    .PACKAGE_PIN(FLASH_IO3), .OUTPUT_CLK(clk), .INPUT_CLK(clk), .CLOCK_ENABLE(1'b1),
    .OUTPUT_ENABLE(spi_io_oe[3]), .D_OUT_0(spi_io_o[3]), .D_IN_0(spi_io_i[3]));

// ---- the probe ------------------------------------------------------------------

wire st_loaded, st_active;

icebreaker_probe_core #(
    .CLK_HZ(CLK_HZ),
    .LANES(LANES),
    .ROWS(ROWS),
    .COLS(COLS),
    .BAUD(BAUD),
    .IN_LAT(2)
) u_core (
    .clk(clk),
    .rst(rst),
    .rxd(RX),
    .txd(TX),
    .spi_cs_n(spi_cs_n),
    .spi_sck(spi_sck),
    .spi_io_o(spi_io_o),
    .spi_io_oe(spi_io_oe),
    .spi_io_i(spi_io_i),
    .st_loaded(st_loaded),
    .st_active(st_active)
);

// ---- LEDs (active low): green = flash ready, red = a run / a rejected frame -------

assign LEDG_N = !st_loaded;
assign LEDR_N = !st_active;

endmodule

`resetall
