`timescale 1ns / 1ps
`default_nettype none

/*
 * tb_shell_pins: icebreaker_shell's flash pins through yosys' own SB_IO
 * simulation model (ice40/cells_sim.v), not the C++ stand-ins the
 * co-simulations use (examples/fpga/icebreaker/sim_decoder.cpp for
 * SCK_DDR = 1, sim_probe.cpp for SCK_DDR = 0), which assume:
 *   - the pads show the core's CS#, IO0 and OE one cycle late (the output
 *     registers); SCK_DDR = 1: SCK low in the first half of that cycle and
 *     high in the second iff the core's spi_sck was high (the fabric
 *     register + D_OUT_1); SCK_DDR = 0: SCK = the core's spi_sck, one cycle
 *     late, the whole cycle;
 *   - spi_io_i in a cycle is the bus as it was at the previous clk falling
 *     edge, i.e. at that SCK rise (SCK_DDR = 1: D_IN_1), or at the clk
 *     rising edge that began the cycle (SCK_DDR = 0: D_IN_0).
 * The bench drives the core side with random values from rising-edge
 * registers, plays a flash on IO1..IO3 that changes its outputs tCLQV = 7
 * ns after every SCK falling edge, and checks both assumptions at every
 * edge, and (SCK_DDR = 1) that IO0 never changes within 9 ns of an SCK
 * rise. Run by
 * tests/hdl/test_shell_pins.sh (both SCK_DDR values) with NO_PLL (clk =
 * the CLK pad, 20 ns).
 */
module tb_shell_pins;

parameter SCK_DDR = 1;

reg CLK = 1'b0;
always #10 CLK = !CLK;

wire FLASH_SCK, FLASH_SSB;
wire FLASH_IO0, FLASH_IO1, FLASH_IO2, FLASH_IO3;
wire clk, rst;
reg spi_cs_n = 1'b1, spi_sck = 1'b0;
reg [3:0] spi_io_o = 4'd0, spi_io_oe = 4'd0;
wire [3:0] spi_io_i;

icebreaker_shell #(.SCK_DDR(SCK_DDR)) dut (
    .CLK(CLK), .BTN_N(1'b1),
    .FLASH_SCK(FLASH_SCK), .FLASH_SSB(FLASH_SSB),
    .FLASH_IO0(FLASH_IO0), .FLASH_IO1(FLASH_IO1), .FLASH_IO2(FLASH_IO2), .FLASH_IO3(FLASH_IO3),
    .clk(clk), .rst(rst),
    .spi_cs_n(spi_cs_n), .spi_sck(spi_sck), .spi_io_o(spi_io_o), .spi_io_oe(spi_io_oe),
    .spi_io_i(spi_io_i));

// the "flash": IO1..IO3 from a counter advanced tCLQV after each SCK fall
// (the FPGA never drives IO1..IO3 here: oe[3:1] = 0)
reg [2:0] fl_out = 3'd5;
always @(negedge FLASH_SCK)
    fl_out <= #7 fl_out + 3'd3;
assign FLASH_IO1 = fl_out[0];
assign FLASH_IO2 = fl_out[1];
assign FLASH_IO3 = fl_out[2];

// the core side: random values from rising-edge registers (IO0 driven)
integer seed = 1;
always @(posedge clk) begin
    spi_sck <= $random(seed);
    spi_cs_n <= $random(seed);
    spi_io_o <= $random(seed);
    spi_io_oe <= 4'b0001;
end

// what the pads must show in this cycle: the core's values of the last one
reg prev_sck = 1'b0, prev_cs = 1'b1, prev_io0 = 1'b0;
// the bus at the last SCK rise (and at the last clk fall)
reg [2:0] bus_at_fall = 3'd0, bus_at_rise = 3'd0;
integer errors = 0, rises = 0, cycles = 0;
real t_rise = -100.0, t_io0 = -100.0;

always @(FLASH_IO0)
    t_io0 = $realtime;

always @(posedge FLASH_SCK) begin
    t_rise = $realtime;
    rises = rises + 1;
    // (SCK_DDR = 0: the reader, not the shell, keeps IO0 away from a rise)
    if (SCK_DDR != 0 && t_rise - t_io0 < 9.0) begin
        errors = errors + 1;
        $display("FAIL %0t: IO0 changed %0.1f ns before an SCK rise", $time, t_rise - t_io0);
    end
end

// the bus at the last sampling edge: clk falling (SCK_DDR = 1) or rising
always @(negedge clk)
    if (SCK_DDR != 0)
        bus_at_fall <= {FLASH_IO3, FLASH_IO2, FLASH_IO1};
always @(posedge clk)
    if (SCK_DDR == 0)
        bus_at_rise <= {FLASH_IO3, FLASH_IO2, FLASH_IO1};

always @(posedge clk) begin
    if (!rst) begin
        cycles = cycles + 1;
        // just after the edge: SCK low, CS# and IO0 the core's values of
        // the cycle that ended
        // (SCK_DDR = 0: SCK already shows spi_sck of the cycle that ended)
        #1;
        if (FLASH_SCK !== (SCK_DDR != 0 ? 1'b0 : prev_sck) || FLASH_SSB !== prev_cs ||
            FLASH_IO0 !== prev_io0) begin
            errors = errors + 1;
            $display("FAIL %0t: pads SCK %b CS# %b IO0 %b, want %b %b %b", $time, FLASH_SCK,
                     FLASH_SSB, FLASH_IO0, SCK_DDR != 0 ? 1'b0 : prev_sck, prev_cs, prev_io0);
        end
        // the second half: SCK = the core's spi_sck of the cycle that ended
        #10;
        if (SCK_DDR == 0 && FLASH_SCK !== prev_sck) begin
            errors = errors + 1;
            $display("FAIL %0t: SCK %b in the second half, want %b", $time, FLASH_SCK, prev_sck);
        end
        if (SCK_DDR != 0 && FLASH_SCK !== prev_sck) begin
            errors = errors + 1;
            $display("FAIL %0t: SCK %b in the second half, want %b", $time, FLASH_SCK, prev_sck);
        end
    end
end

// spi_io_i in a cycle: the bus at the clk fall before it (D_IN_1), or at
// the rising edge that began it (D_IN_0; checked at the next edge, before
// bus_at_rise takes the new value)
always @(posedge clk) begin
    if (!rst && cycles > 2 && spi_io_i[3:1] !== (SCK_DDR != 0 ? bus_at_fall : bus_at_rise)) begin
        errors = errors + 1;
        $display("FAIL %0t: spi_io_i %b, the bus at the last sampling edge %b", $time,
                 spi_io_i[3:1], SCK_DDR != 0 ? bus_at_fall : bus_at_rise);
    end
    prev_sck <= spi_sck;
    prev_cs <= spi_cs_n;
    prev_io0 <= spi_io_o[0];
end

initial begin
    wait (!rst);
    repeat (2000) @(posedge clk);
    if (errors == 0 && rises > 300)
        $display("tb_shell_pins: PASS (SCK_DDR %0d: %0d cycles, %0d SCK pulses)", SCK_DDR, cycles,
                 rises);
    else
        $display("tb_shell_pins: FAIL (SCK_DDR %0d: %0d errors, %0d SCK pulses)", SCK_DDR, errors,
                 rises);
    $finish;
end

endmodule

`default_nettype wire
