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
 * The PLL (LG_CLK_HZ and PLL_DIVR/DIVF/DIVQ/FILTER from FREQ, made by the
 * Makefile with icepll), the reset and the flash pins' SB_IO cells are
 * icebreaker_shell.v, shared by the iCEBreaker tops; IN_LAT = 2 accounts
 * for the IO cells' registers in the flash round trip.
 */
`ifndef LG_CLK_HZ
`define LG_CLK_HZ 30000000
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

// ---- clock, reset and flash pins (icebreaker_shell.v) -----------------------------

wire clk, rst;
wire spi_cs_n, spi_sck;
wire [3:0] spi_io_o, spi_io_oe, spi_io_i;

icebreaker_shell u_shell (
    .CLK(CLK), .BTN_N(BTN_N), .FLASH_SCK(FLASH_SCK), .FLASH_SSB(FLASH_SSB),
    .FLASH_IO0(FLASH_IO0), .FLASH_IO1(FLASH_IO1), .FLASH_IO2(FLASH_IO2), .FLASH_IO3(FLASH_IO3),
    .clk(clk), .rst(rst), .spi_cs_n(spi_cs_n), .spi_sck(spi_sck), .spi_io_o(spi_io_o),
    .spi_io_oe(spi_io_oe), .spi_io_i(spi_io_i));

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
