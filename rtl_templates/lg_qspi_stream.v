`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: the decoder's weight stream read from a QSPI NOR flash
 * (template rtl_templates/lg_qspi_stream.v; flash image layout and board
 * notes in docs/fpga.md; bench tests/hdl/tb_qspi.cpp with the flash model
 * sim/flash_model.h).
 *
 * Why: on the iCE40 UP5K the weights (260k: about 300 KB per token) do not
 * fit on chip, but the board's configuration flash holds 16 MiB. Every token
 * reads the whole weight set once, in one fixed order (docs/architecture.md,
 * "The weight stream"), so one sequential flash burst per token is the
 * whole memory system. This unit is the flash-side twin of lg_wmem: the same
 * start / start_addr / loaded control and the same m_w beat stream (it has
 * no boot write port: the image is written with a flash programmer), but
 * no last_addr, busy, done or m_w_last: a burst never ends by itself, it
 * streams (and past the image, whatever the flash holds) until the next
 * start cuts it; the consumer simply stops taking beats, which pauses SCK.
 * (lg_wmem stops at last_addr; the decoder works with both: it takes only
 * the beats it owes, starts the layer stream once the embedding unit has
 * its row, and has no busy input.)
 *
 * Flash command: Fast Read Quad Output, 0x6B (1-1-4): instruction and 24-bit
 * address on IO0, 8 dummy clocks, then one nibble per SCK on IO3..IO0 (high
 * nibble of each byte first) for as long as CS# stays low, the address
 * incrementing by itself. 0x6B rather than Quad I/O 0xEB: a burst is issued
 * once per token (about 300 KB), so the 20 SCK cycles 0xEB would save are
 * noise, and 0x6B needs no mode byte (no continuous-read "M" bits that a
 * later command, or the FPGA's own configuration reader after a reset, would
 * have to clear) and drives only IO0 as an output before the turnaround.
 * Both need the Quad Enable bit (QE, status register 2 bit 1 on Winbond
 * W25Q parts); see INIT_QE.
 *
 * Flash image (one beat = BEAT_W = 8 * LANES + 4 * NDX bits, the lg_wmem
 * word; examples/fpga/icebreaker/flash_image.h packs it): NW = BEAT_W / 4
 * nibbles a beat, packed nibble after nibble: beat b starts at nibble
 * b * NW from BASE_ADDR (nibble 2i is the high nibble of byte i, which the
 * flash sends first). With an even NDX a beat is whole bytes, little-endian:
 * byte k holds beat bits [8k +: 8] (lane k's mantissa for k < LANES, then
 * the dexps, dexp 0 in the low nibble). With one dexp (NW odd) the dexp is
 * the beat's first nibble on the wire, then lane 0's mantissa (high nibble
 * first), lane 1's, ...; every odd beat then starts in the middle of a
 * byte: a burst from an odd beat clocks that byte's high nibble and drops
 * it (skip, one SCK more). No pad nibble is stored (the 3-byte beats of
 * lanes 2 before the sixteenth session are 2.5 bytes now: a token's image
 * 17 % smaller, its flash time with it).
 *
 * MARKS = 1, the marked layout (flash_image.h, lg_flash_pack_marks; one
 * dexp a beat, LANES >= 2): flash beats of LANES bytes, NW = 2 * LANES
 * nibbles, little-endian as above: data beats hold the mantissas only; a
 * mark beat (lane 0's byte 0x80, a mantissa I8E never uses) carries the
 * dexp in its last nibble. The reader keeps the last mark's dexp, hands it
 * out with every data beat that follows, and never offers a mark. A burst
 * from beat s starts at flash beat s + s / (GROUP / LANES) (the layout
 * makes that exact for s = 0 and the classifier's rows, the decoder's only
 * starts; the address is computed, no table). Each dexp is stored once where
 * it changes instead of in every beat: at the iCEBreaker's lanes 2 the
 * image is 2.125 bytes a beat instead of 2.5. The rule needs exactly
 * s / (GROUP / LANES) marks ahead of a classifier row; where the dexp
 * changes less often the layout fills up with repeats of the first dexp at
 * the very start (about 4,000 beats, 8 KB, of the stories260K image), and
 * a burst from beat 0 (every token's) starts at flash beat MARKS_LEAD, beat
 * 0's own mark, instead: s = 0 is the one start whose s + s / (GROUP /
 * LANES) is 0, so the constant is ORed in (no adder, no compare).
 *
 * The image check (MARKS): every burst the decoder starts begins at a mark
 * (beat 0, a classifier row), so err_image rises, and stays up until rst,
 * when a burst's first flash beat is no mark: the flash holds no marked
 * image at BASE_ADDR (erased, an older layout, another offset); or when a
 * mark's tag nibble (beside its dexp: nibble dexp mod 4 of the image's
 * 16-bit tag, lg_wimage_tag) is not IMAGE_TAG's: an image of other weights.
 * The stream goes on as before (a consumer in the middle of a run would
 * otherwise wait for beats that never come): the flag is for the host.
 * With BOOT_CHECK = 1 a burst from beat 0 follows the boot sequence by
 * itself (its first beat then waits in the output register until the
 * consumer's first start cuts the burst), so the flag is known before any
 * run: the iCEBreaker's host protocol rejects every frame while it is up.
 *
 * Parameters: LANES (power of two, 1..64), GROUP (power of two, 4..256),
 * DEPTH (beats in the image, >= 2; BASE_ADDR + DEPTH * NW / 2 <= 2^24),
 * BASE_ADDR (flash byte address of beat 0), INIT_WAKE, T_RES_CYCLES,
 * INIT_QE, CS_HIGH_CYCLES, IN_LAT, SCK_DDR (below), MARKS, BOOT_CHECK,
 * IMAGE_TAG and MARKS_LEAD (above).
 *
 * Boot sequence (after rst; loaded rises when it is over):
 *  - INIT_WAKE: 0xAB (release from deep power-down), then T_RES_CYCLES with
 *    CS# high (tRES1 = 3 us: T_RES_CYCLES >= 3e-6 * f_clk);
 *  - INIT_QE: 0x50 (write enable for volatile status), 0x01 0x00 0x02
 *    (status registers 1 and 2, volatile: QE = 1, no protection), then 0x05
 *    (read status register 1) until BUSY = 0. Volatile: no program/erase
 *    cycle is spent and the flash's non-volatile status is untouched (a
 *    power cycle restores it). Parts with QE = 1 from the factory (W25Q..IQ)
 *    need none of it; INIT_QE = 0 skips it.
 *
 * SPI timing (SCK_DDR = 0; SCK_DDR = 1 below): mode 0, SCK = clk / 2 (a
 * registered toggle, high for one clk cycle, low for at least one). Every
 * output (spi_cs_n, spi_sck, spi_io_o, spi_io_oe) is a register, so it can
 * sit in the IO cell; IO0 changes only with SCK falling (never with a
 * rising edge: the flash samples then), and
 * each nibble is sampled on the clk edge that raises SCK, one clk cycle
 * after the flash shifted it out on the falling edge (budget: one clk
 * period for clock-to-pad, the flash's tCLQV (6-7 ns) and the input path).
 * IN_LAT extra register stages in that round trip are compensated: IO
 * output registers plus IO input registers (2 with SB_IO cells registering
 * both, as on the iCEBreaker). CS# stays high at least CS_HIGH_CYCLES (and
 * IN_LAT + 2) cycles between commands (tSHSL >= 50 ns).
 *
 * SCK_DDR = 1: SCK = clk, twice the bandwidth. spi_sck high means one whole
 * SCK pulse, low in the first half of the (pin) cycle and high in the
 * second: a DDR output cell with D_OUT_0 = 0 and D_OUT_1 = spi_sck
 * (examples/fpga/icebreaker/icebreaker_shell.v). IO0 still changes only
 * with the clk edge that ends a pulse (SCK falling), and the flash samples
 * it half a cycle later; the bus is sampled at clk falling (an input cell's
 * falling-edge register, D_IN_1), i.e. as SCK rises, half a cycle after
 * the flash shifted the nibble out (budget: half a clk period for
 * clock-to-pad, tCLQV and the input path: 27.8 ns at 18 MHz). The sample of
 * a pulse issued in cycle c is used IN_LAT cycles later as with SCK_DDR =
 * 0 (IN_LAT >= 1: the falling-edge register is one stage; 2 with the
 * output registers). The sequencer then issues a pulse in a pulse's own
 * cycle whenever the state after its falling edge allows one, so commands,
 * dummy clocks and data run at a bit / nibble per clk; a beat's last
 * nibble, which enters the output register from the bus, is clocked while
 * that register is free or being taken (m_w_ready).
 *
 * Handshake contract:
 *  - start: one-cycle pulse, taken when loaded is high (ignored before);
 *    start_addr (< DEPTH, a beat index) is captured with it; beats
 *    start_addr, start_addr + 1, ... follow for as long as they are taken.
 *    A start during a burst ends it: a beat not taken by the start cycle
 *    is dropped (m_w_valid falls), CS# rises once SCK is low, and the new
 *    burst follows. Per token the decoder pulses start with its embedding
 *    row's first beat and with 0 (a 0x6B burst from BASE_ADDR), each burst
 *    cut by the next start; it stops taking beats after the last it owes
 *    (the beat after it waits in the output register until that start).
 *  - m_w: valid/ready; valid stays high and data stable until ready (or a
 *    start).
 *  - backpressure pauses SCK (held low with CS# low; the flash keeps the
 *    next nibble on the bus): the nibbles of a beat but its last land in
 *    the assembly register, the last one goes from the bus straight into
 *    the output register together with them, so a beat's last nibble is
 *    clocked only while the output register is empty (SCK_DDR: or being
 *    taken; MARKS: the gate is on the first nibble, the last one may wait
 *    in a hold register); no nibble is ever lost and m_w_ready reaches no
 *    SPI pin.
 *
 * Size (every LUT counts on the UP5K): no SPI shift register and no
 * address, offset or length copies: IO0's next bit is picked by the bit
 * counter from the command in flight (constants, or 0x6B and the flash
 * byte address BASE_ADDR + (first beat * NW) / 2, shifts and adds on the
 * beat register, which holds start_addr: no beat counter, no end compare,
 * no last_addr register (the decoder's ranges are cut by its next start
 * instead: -9 flip-flops, a 17-bit incrementer and compare on the
 * iCEBreaker); a start in flight is req_reg seen in the data phase; one
 * counter serves the CS# high waits and the bits of a phase; the command
 * in flight (step_reg) decides what follows it; no beat counts or credits
 * are kept. The nibbles but the last land in an assembly register of
 * NW - 1 nibbles and the last one is loaded into the output register from
 * the bus, so a consumer that takes each beat a little after its valid
 * still sees the flash's full rate: with SCK_DDR, 2 cycles after it (the
 * iCEBreaker's lanes-2 mat-vec) at NW = 5 (IN_LAT 2), at NW = 4 with MARKS
 * (its hold register) and at lanes 64; at SCK = clk / 2 with MARKS too
 * (tests/hdl/tb_qspi.cpp checks all four).
 *
 * Latency and throughput, SCK_DDR = 1 (from idle, m_w_ready high): the
 * first beat is valid 42 + NW + IN_LAT cycles after the start cycle (1 to
 * take the request, 32 for 0x6B and the address, 8 dummy, NW nibbles; one
 * more for a skipped nibble; MARKS: NW more for each mark read first),
 * then one beat every NW cycles (MARKS: NW more for a mark between two
 * beats; tests/hdl/tb_qspi.cpp checks all of it); a beat taken late
 * delays the next by at most as much; the next beat's nibbles but its last
 * are read meanwhile.
 *
 * Latency and throughput, SCK_DDR = 0 (from idle, m_w_ready high): the
 * first beat is valid 81 + 2 * NW + IN_LAT cycles after the start cycle (1
 * cycle to take the request, 64 for 0x6B and the address, 16 dummy, 2 * NW
 * for the beat's nibbles; 2 more for a skipped nibble), then one beat every
 * 2 * NW cycles: the flash's 4 bits per SCK are the bottleneck, so beat
 * N - 1 of a stream from beat 0 is valid 81 + 2 * NW * N + IN_LAT cycles
 * after its start (a start that cuts a burst first waits for SCK low,
 * S_FIN and the CS# high time: CSH + 4 cycles at most).
 */
module ${MODULE} #(
    // MAC lanes of the mat-vec: int8 mantissas per beat (power of two, 1..64)
    parameter LANES = 4,
    // I8E group size G (power of two, 4..256)
    parameter GROUP = 32,
    // beats in the flash image (>= 2): the range of start_addr
    parameter DEPTH = 64,
    // flash byte address of beat 0 (the image sits after the bitstream)
    parameter [23:0] BASE_ADDR = 24'h100000,
    // 1: release the flash from deep power-down (0xAB) after reset
    parameter INIT_WAKE = 1,
    // clk cycles CS# stays high after 0xAB (tRES1 = 3 us at f_clk)
    parameter T_RES_CYCLES = 256,
    // 1: set QE in the volatile status register after reset (Winbond W25Q)
    parameter INIT_QE = 1,
    // minimum clk cycles with CS# high between two commands (>= 50 ns)
    parameter CS_HIGH_CYCLES = 4,
    // extra register stages in the pin round trip: IO output + input registers (0..2)
    parameter IN_LAT = 0,
    // 0: SCK = clk / 2 (spi_sck is SCK's level); 1: SCK = clk, spi_sck high =
    // one whole SCK pulse in the second half of the cycle (a DDR output),
    // the bus sampled at that pulse's rising edge (clk falling; IN_LAT >= 1)
    parameter SCK_DDR = 0,
    // 1: the marked image layout (each dexp once, in a mark beat; LANES >= 2,
    // one dexp a beat)
    parameter MARKS = 0,
    // 1 (MARKS): after reset, once the boot sequence is over, a burst from
    // beat 0 starts by itself, so err_image tells whether the flash holds a
    // marked image before the consumer's first start (which cuts it)
    parameter BOOT_CHECK = 0,
    // MARKS: the image's tag (lg_wimage_tag): each mark holds nibble (dexp
    // mod 4) of it beside its dexp
    parameter [15:0] IMAGE_TAG = 16'h0000,
    // MARKS: the flash beat of beat 0's own mark (lg_wimage_marks_lead, the
    // manifest's weight_marks_lead): the burst from beat 0 starts there, past
    // the repeat marks only the address rule needs (0: it reads them)
    parameter integer MARKS_LEAD = 0
) (
    input  wire                                              clk,
    input  wire                                              rst,

    /*
     * Control
     */
    input  wire                                              start,
    input  wire [$clog2(DEPTH)-1:0]                          start_addr,
    // the boot sequence is over: start is accepted
    output wire                                              loaded,
    // MARKS: a burst's first flash beat was no mark, or a mark's tag nibble
    // was not IMAGE_TAG's (sticky until rst): the flash holds no marked image
    // of these weights at BASE_ADDR, or a start was at a beat where the
    // layout has no mark (only 0 and the classifier's rows have)
    output wire                                              err_image,

    /*
     * Weight stream output
     */
    output wire                                              m_w_valid,
    input  wire                                              m_w_ready,
    output wire [LANES*8-1:0]                                m_w_mant,
    output wire [((LANES > GROUP) ? LANES / GROUP : 1)*4-1:0] m_w_dexp,

    /*
     * QSPI flash pins (every output registered; io_oe high = FPGA drives)
     */
    output wire                                              spi_cs_n,
    output wire                                              spi_sck,
    output wire [3:0]                                        spi_io_o,
    output wire [3:0]                                        spi_io_oe,
    input  wire [3:0]                                        spi_io_i
);

// ---- derived sizes ------------------------------------------------------------

// dexps per beat, beat bits, bytes and nibbles per beat in flash
localparam NDX = (LANES > GROUP) ? LANES / GROUP : 1;
localparam BEAT_W = LANES * 8 + NDX * 4;
// nibbles a flash beat (MARKS: the mantissas only; LANES 1 is refused
// below, and elaborates as without marks until then)
localparam NW = (MARKS != 0 && LANES >= 2) ? 2 * LANES : BEAT_W / 4;
// MARKS: stream beats a group, the shift of s / (GROUP / LANES)
localparam BPG_SH = $clog2(GROUP / LANES > 1 ? GROUP / LANES : 1);
localparam NWW = $clog2(NW);
// one dexp: NW is odd, every odd beat starts in the middle of a byte
localparam ODD = NW % 2;
localparam AW = $clog2(DEPTH);
// CS# high time between commands (the status poll also waits for IN_LAT)
localparam CSH = (CS_HIGH_CYCLES > IN_LAT + 2) ? CS_HIGH_CYCLES : IN_LAT + 2;
localparam WMAX = (T_RES_CYCLES > CSH) ? T_RES_CYCLES : CSH;
// one counter for the CS# high waits and the bits / clocks of a phase (32 at most)
localparam WCW = ($clog2(WMAX + 1) > 6) ? $clog2(WMAX + 1) : 6;

localparam [31:0] NW_M1 = NW - 1;
localparam [NWW-1:0] NIB_LAST = NW_M1[NWW-1:0];
localparam [31:0] NW_32 = NW;
localparam [31:0] CSH_32 = CSH;
localparam [31:0] T_RES_32 = T_RES_CYCLES;
localparam [24:0] NW25 = NW_32[24:0];
localparam [WCW-1:0] C0 = 0, C7 = 7, C23 = 23, C31 = 31;
localparam [WCW-1:0] WAIT_CSH = CSH_32[WCW-1:0];
localparam [WCW-1:0] WAIT_RES = T_RES_32[WCW-1:0];

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
    if (DEPTH < 2 || {8'd0, BASE_ADDR} + (DEPTH * NW + 1) / 2 +
                     (MARKS != 0 ? (DEPTH >> BPG_SH) * LANES : 0) > 32'h1000000) begin
        $error("Error: DEPTH must be >= 2 and the image must end within 16 MiB (instance %m)");
        $finish;
    end
    if (IN_LAT < 0 || IN_LAT > 2 || T_RES_CYCLES < 1 || CS_HIGH_CYCLES < 1) begin
        $error("Error: IN_LAT must be 0..2, T_RES_CYCLES and CS_HIGH_CYCLES >= 1 (instance %m)");
        $finish;
    end
    if ((SCK_DDR != 0 && SCK_DDR != 1) || (SCK_DDR == 1 && IN_LAT < 1)) begin
        $error("Error: SCK_DDR must be 0 or 1, and needs IN_LAT >= 1 (instance %m)");
        $finish;
    end
    if ((MARKS != 0 && MARKS != 1) || (MARKS == 1 && (LANES < 2 || LANES > GROUP))) begin
        $error("Error: MARKS must be 0 or 1, and needs 2 <= LANES <= GROUP (instance %m)");
        $finish;
    end
    if ((BOOT_CHECK != 0 && BOOT_CHECK != 1) || (BOOT_CHECK == 1 && MARKS != 1)) begin
        $error("Error: BOOT_CHECK must be 0 or 1, and needs MARKS = 1 (instance %m)");
        $finish;
    end
    // (the repeats are fewer than DEPTH / (GROUP / LANES), the marks a
    // token's image has room for)
    if (MARKS_LEAD < 0 || (MARKS_LEAD != 0 && (MARKS != 1 || MARKS_LEAD >= (DEPTH >> BPG_SH)))) begin
        $error("Error: MARKS_LEAD must be 0, or with MARKS = 1 below DEPTH / (GROUP / LANES) (instance %m)");
        $finish;
    end
end

// ---- SPI sequencer ---------------------------------------------------------------

// sequencer states
localparam [2:0] S_WAIT = 3'd0,  // CS# high, counting cnt_reg down, then step_reg
                 S_TX = 3'd1,    // a command's bits out on IO0, MSB first
                 S_RX = 3'd2,    // shifting 8 bits in from IO1 (status poll)
                 S_DUMMY = 3'd3, // 8 dummy clocks of 0x6B, IOs released
                 S_DATA = 3'd4,  // quad data nibbles, paced by the output register
                 S_FIN = 3'd5,   // SCK low since the last falling edge: CS# up
                 S_IDLE = 3'd6;  // waiting for a read request
// what S_WAIT does when its count runs out (T_IDLE: boot over; also the
// step of a read burst in flight)
localparam [2:0] T_WAKE = 3'd0, T_WREN = 3'd1, T_WRSR = 3'd2, T_POLL = 3'd3,
                 T_CHECK = 3'd4, T_IDLE = 3'd5;

localparam [2:0] T_FIRST = (INIT_WAKE != 0) ? T_WAKE : (INIT_QE != 0) ? T_WREN : T_IDLE;
localparam [2:0] T_AFTER_WAKE = (INIT_QE != 0) ? T_WREN : T_IDLE;

// binary state codes (Yosys' one-hot FSM recoding costs more cells here)
(* fsm_encoding = "none" *)
reg [2:0] state_reg;
// S_WAIT's next action, and the command in flight until S_FIN (which
// advances it): what follows S_TX, the wait and the next step derive from it
(* fsm_encoding = "none" *)
reg [2:0] step_reg;
// S_WAIT: cycles left with CS# high; S_TX, S_RX, S_DUMMY: bits / clocks left
// after the current one
reg [WCW-1:0] cnt_reg;
reg io0_reg;             // IO0: the command bit on the bus
reg cs_n_reg;
reg sck_reg;
reg [3:0] oe_reg;
reg loaded_reg;
reg req_reg;             // a read burst is requested (its first beat in beat_reg);
                         // in the data phase: a start cuts the burst in flight
reg rx_bit;              // last bit read by the poll: status 1 bit 0, BUSY

// data phase: wire nibble within the beat; the burst's first beat (for its
// address: no beat counter, a burst runs until a start cuts it); the
// output register's valid
reg [NWW-1:0] nib_reg;
reg [AW-1:0] beat_reg;
reg m_valid_reg;         // the output register holds a beat

// a beat's last nibble, which goes from the bus straight into the output
// register, is clocked only while that register is empty (the nibbles
// before it land in the assembly register); SCK_DDR: also while the beat in
// it is being taken (its sample lands IN_LAT >= 1 cycles later, once the
// register is free). (nib_reg is the next nibble to be clocked: it advances
// with each one)
// MARKS: the gate is on a beat's first nibble instead, NW - 1 cycles
// earlier, and a last nibble that lands while the output register is still
// full waits in a hold register (below): a consumer that takes each beat
// a few cycles after its valid (the lanes-2 mat-vec: 2) then keeps the
// flash's rate of NW = 4 cycles a beat, where the last-nibble gate would
// give 5 (no gain over the packed layout's 5-nibble beats).
localparam [NWW-1:0] NIB_GATE = MARKS != 0 ? {NWW{1'b0}} : NIB_LAST;
// MARKS at SCK = clk / 2 also lets a first nibble go while the output
// register is full when the hold register is empty and no last nibble is on
// its way (it could land on the full register and need the hold): the
// previous beat is then whole in the output register, and this one can
// assemble beside it (a beat lands before the next one's first nibble, so
// the output-register gate alone would cost the consumer's delay every
// beat). With SCK_DDR a last nibble is still on its way whenever the next
// first nibble follows it at once, so the term would buy little there and
// the iCEBreaker build, at 99.8 % of its cells, does without it.
// (m_w_ready reaches the SCK register only with SCK_DDR or MARKS: with
// SCK = clk / 2 and the gate on the last nibble a beat being taken costs
// no rate; with the gate on the first nibble it would cost a cycle a beat)
wire hold_busy;   // MARKS: the hold register is full
wire last_fly;    // a last nibble is clocked, not yet sampled
wire issue_ok = nib_reg != NIB_GATE || !m_valid_reg ||
                ((SCK_DDR != 0 || MARKS != 0) && m_w_ready) ||
                (MARKS != 0 && SCK_DDR == 0 && !hold_busy && !last_fly);
wire nib_last = nib_reg == NIB_LAST;
wire fall = sck_reg;
// rise: this cycle issues an SCK pulse (spi_sck high the next cycle). With
// SCK = clk / 2 a pulse's cycle (fall) never issues the next one, so the
// state and counters always describe the pulse being issued; with SCK_DDR
// a pulse follows the last one at once whenever the state after this
// cycle's falling edge allows it (cont: S_TX's last bit goes on to the
// status bits or the dummy clocks, the last dummy clock to data nibble 0,
// a nibble to the next while the output register allows it), and iss_data
// names the pulse issued, not the one in flight.
// (req_reg in the data phase: a start cuts the burst, no more nibbles; CS#
// goes up once SCK is low)
wire rise, iss_data;
wire rise_idle = state_reg == S_TX || state_reg == S_RX || state_reg == S_DUMMY ||
                 (state_reg == S_DATA && issue_ok && !req_reg);
// (a status bit: with SCK_DDR the first of the poll's 8 is clocked from
// S_TX and not flagged; the poll keeps only the last, BUSY)
wire iss_rx = rise && state_reg == S_RX;
generate
    if (SCK_DDR != 0) begin : g_rise_ddr
        // this cycle's pulse is the phase's last (S_TX, S_RX, S_DUMMY)
        wire tx_ends = cnt_reg == C0;
        wire cont = (state_reg == S_TX && (!tx_ends || step_reg == T_POLL || step_reg == T_IDLE)) ||
                    (state_reg == S_RX && !tx_ends) ||
                    (state_reg == S_DUMMY && (!tx_ends || !req_reg)) ||
                    (state_reg == S_DATA && issue_ok && !req_reg);
        assign rise = sck_reg ? cont : rise_idle;
        // a data nibble (the first: the last dummy clock's successor)
        assign iss_data = rise && (state_reg == S_DATA ||
                                   (sck_reg && state_reg == S_DUMMY && tx_ends));
    end else begin : g_rise
        assign rise = !sck_reg && rise_idle;
        assign iss_data = rise && state_reg == S_DATA;
    end
endgenerate

assign spi_cs_n = cs_n_reg;
assign spi_sck = sck_reg;
// IO0: command, address and the write data; IO2 (WP#) and IO3 (HOLD#) high
// whenever the FPGA drives them; IO1 is only an input
assign spi_io_o = {2'b11, 1'b0, io0_reg};
assign spi_io_oe = oe_reg;
assign loaded = loaded_reg;

// start and request: the beat counter takes the first beat with start (a
// burst in flight is being cut: its count is no longer needed), and the
// request with it
wire start_ok;

always @(posedge clk) begin
    if (start_ok) begin
        req_reg <= 1'b1;
    end else if (state_reg == S_IDLE) begin
        req_reg <= 1'b0;
    end
    // (BOOT_CHECK: the boot burst's request, from beat 0: beat_reg below)
    if (rst)
        req_reg <= BOOT_CHECK != 0;
end

// the first beat (beat_reg holds it until the data phase); MARKS: its
// flash beat, s + s / (GROUP / LANES), and for s = 0 (0 by the rule)
// MARKS_LEAD, past the leading repeat marks
localparam [31:0] LEAD32 = MARKS_LEAD;
wire [23:0] start_s = {{(24-AW){1'b0}}, beat_reg};
wire        start_0 = beat_reg == {AW{1'b0}};
wire [23:0] start_x = MARKS != 0 ? (start_s + (start_s >> BPG_SH)) | (LEAD32[23:0] & {24{start_0}})
                                 : start_s;

// start_x * NW as shifts and adds (a constant factor: no multiplier)
function [24:0] times_nw(input [23:0] x);
    integer j;
    begin
        times_nw = 25'd0;
        for (j = 0; j < 8; j = j + 1)
            if (NW25[j])
                times_nw = times_nw + ({1'b0, x} << j);
    end
endfunction

// the burst's flash byte address: BASE_ADDR + the byte of the first beat's
// first nibble, read bit by bit while 0x6B's address goes out (no address
// register); an odd first beat of an odd NW starts at that byte's low
// nibble: the high one is clocked and skipped (nib_reg, below)
wire [24:0] start_nib = times_nw(start_x);
wire [23:0] start_byte = BASE_ADDR + start_nib[24:1];
wire unused_nib0 = start_nib[0];

// IO0's next bit in S_TX: with cnt_reg = k bits left after the current
// one, bit k - 1 of the command word, MSB first; the words are constants
// but for the read's address (bit j of word_x at j + 1: no subtractor on
// the index)
// (a word's MSB goes out as S_TX begins: not in word_x; 0x6B's is 0)
wire [31:0] word_rd = {7'h6b, start_byte, 1'b0};
wire [31:0] word_x = (step_reg == T_WAKE) ? {24'd0, 8'hab} << 1 :
                     (step_reg == T_WREN) ? {24'd0, 8'h50} << 1 :
                     (step_reg == T_WRSR) ? {8'd0, 24'h010002} << 1 :
                     (step_reg == T_POLL) ? {24'd0, 8'h05} << 1 : word_rd;
wire tx_next = word_x[cnt_reg[4:0]];

// cnt - 1 as cnt + {WCW{dec_on}}: dec_on (fall, or S_WAIT) is 1 wherever the
// sequencer counts down; with a constant - 1 yosys drops the carry chain's
// first carry, and the chain then needs a feed-in cell of its own
wire             dec_on = fall || state_reg == S_WAIT;
wire [WCW-1:0]   cnt_dec = cnt_reg + {WCW{dec_on}};

// the sequencer
always @(posedge clk) begin
    case (state_reg)
        S_WAIT: begin
            // IOs driven again one cycle after CS# rose (the flash floats
            // its outputs within tSHQZ)
            oe_reg <= 4'b1101;
            if (cnt_reg != {WCW{1'b0}}) begin
                cnt_reg <= cnt_dec;
            end else begin
                case (step_reg)
                    T_WAKE: begin
                        // release from power-down, then tRES1
                        cs_n_reg <= 1'b0;
                        io0_reg <= 1'b1; // 0xAB, MSB first
                        cnt_reg <= C7;
                        state_reg <= S_TX;
                    end
                    T_WREN: begin
                        // write enable for the volatile status registers
                        cs_n_reg <= 1'b0;
                        io0_reg <= 1'b0;
                        cnt_reg <= C7;
                        state_reg <= S_TX;
                    end
                    T_WRSR: begin
                        // status 1 = 0x00, status 2 = 0x02 (QE)
                        cs_n_reg <= 1'b0;
                        io0_reg <= 1'b0;
                        cnt_reg <= C23;
                        state_reg <= S_TX;
                    end
                    T_POLL: begin
                        // read status register 1
                        cs_n_reg <= 1'b0;
                        io0_reg <= 1'b0;
                        cnt_reg <= C7;
                        state_reg <= S_TX;
                    end
                    T_CHECK: begin
                        // BUSY (bit 0): poll again
                        if (rx_bit) begin
                            step_reg <= T_POLL;
                            cnt_reg <= WAIT_CSH;
                        end else begin
                            state_reg <= S_IDLE;
                        end
                    end
                    default: begin
                        state_reg <= S_IDLE;
                    end
                endcase
            end
        end
        S_IDLE: begin
            if (req_reg) begin
                // 0x6B and the address (from beat_reg), then 8
                // dummy clocks and the data
                cs_n_reg <= 1'b0;
                io0_reg <= 1'b0; // 0x6B, MSB first
                step_reg <= T_IDLE;
                cnt_reg <= C31;
                state_reg <= S_TX;
            end
        end
        S_TX: begin
            if (fall) begin
                if (cnt_reg == C0) begin
                    case (step_reg)
                        T_POLL: begin
                            cnt_reg <= C7;
                            state_reg <= S_RX;
                        end
                        T_IDLE: begin
                            // a read; turnaround: the flash drives IO0..IO3
                            // after the last dummy clock
                            cnt_reg <= C7;
                            oe_reg <= 4'b0000;
                            state_reg <= S_DUMMY;
                        end
                        default: begin
                            state_reg <= S_FIN;
                        end
                    endcase
                end else begin
                    cnt_reg <= cnt_dec;
                    io0_reg <= tx_next;
                end
            end
        end
        S_RX: begin
            if (fall) begin
                cnt_reg <= cnt_dec;
                if (cnt_reg == C0)
                    state_reg <= S_FIN;
            end
        end
        S_DUMMY: begin
            if (fall) begin
                cnt_reg <= cnt_dec;
                if (cnt_reg == C0)
                    state_reg <= S_DATA;
            end
        end
        S_DATA: begin
            // (a burst ends only when a start cuts it)
            if (req_reg && !sck_reg)
                state_reg <= S_FIN;
        end
        S_FIN: begin
            cs_n_reg <= 1'b1;
            case (step_reg)
                T_WAKE: step_reg <= T_AFTER_WAKE;
                T_WREN: step_reg <= T_WRSR;
                T_WRSR: step_reg <= T_POLL;
                T_POLL: step_reg <= T_CHECK;
                default: step_reg <= T_IDLE;
            endcase
            // tRES1 after the wake-up, else the CS# high time
            cnt_reg <= (step_reg == T_WAKE) ? WAIT_RES : WAIT_CSH;
            state_reg <= S_WAIT;
        end
        default: begin
            state_reg <= S_WAIT;
        end
    endcase
    // (IO0 as the former shift register showed it from start: 0x6B's MSB)
    if (start_ok)
        io0_reg <= 1'b0;
    // SCK: up on every permitted rise, down on the next edge
    if (rise)
        sck_reg <= 1'b1;
    else if (fall)
        sck_reg <= 1'b0;
    if (rst) begin
        state_reg <= S_WAIT;
        step_reg <= T_FIRST;
        cnt_reg <= WAIT_CSH;
        cs_n_reg <= 1'b1;
        sck_reg <= 1'b0;
        // (released: a reset during a burst raises CS# while the flash may
        // still drive the bus for tSHQZ; S_WAIT drives the IOs a cycle later)
        oe_reg <= 4'b0000;
        io0_reg <= 1'b0;
    end
end

// loaded: the boot sequence reached S_IDLE once
always @(posedge clk) begin
    if (state_reg == S_IDLE)
        loaded_reg <= 1'b1;
    if (rst)
        loaded_reg <= 1'b0;
end

// nib + 1 as gates (an XOR a bit, the AND of the bits below): a few bits fit
// a LUT a bit, where yosys's carry chain for the add needs a feed-in cell
reg [NWW-1:0] nib_inc;
reg           nib_c;
integer       nib_i;
always @* begin
    nib_c = 1'b1;
    for (nib_i = 0; nib_i < NWW; nib_i = nib_i + 1) begin
        nib_inc[nib_i] = nib_reg[nib_i] ^ nib_c;
        nib_c = nib_c & nib_reg[nib_i];
    end
end

// the first beat, and the nibble counter: all ones (never a nibble of a
// beat: NW odd is no power of two) for the nibble an odd first beat skips,
// which the increment turns into 0
wire skip_first = ODD != 0 && beat_reg[0];
always @(posedge clk) begin
    if (start_ok)
        beat_reg <= start_addr;
    if (rst && BOOT_CHECK != 0)
        beat_reg <= {AW{1'b0}};
    if (state_reg == S_IDLE) begin
        nib_reg <= {NWW{skip_first}};
    end else if (iss_data) begin
        nib_reg <= nib_last ? {NWW{1'b0}} : nib_inc;
    end
end

// ---- sampling: {bus sample, beat's last nibble} ---------------------------------
//
// One sample flag serves the status poll and the data: every poll sample
// lands before loaded rises (CS# stays high CSH >= IN_LAT + 2 cycles after
// the poll) and every data sample after it (a read needs loaded).

// (a skipped nibble is clocked but not sampled: nothing stores it)
wire skip_nib = ODD != 0 && nib_reg == {NWW{1'b1}};
wire [1:0] ev_now = {iss_rx || (iss_data && !skip_nib), nib_last};
wire [1:0] ev;

generate
    if (IN_LAT == 0) begin : g_lat0
        assign ev = ev_now;
        assign last_fly = 1'b0;
    end else if (IN_LAT == 1) begin : g_lat1
        reg [1:0] ev_reg;
        always @(posedge clk) begin
            ev_reg <= ev_now;
            if (rst || start_ok)
                ev_reg <= 2'd0;
        end
        assign ev = ev_reg;
        assign last_fly = ev_reg[0];
    end else begin : g_lat
        // 2 bits per stage, the newest in the low bits
        reg [2*IN_LAT-1:0] ev_pipe;
        always @(posedge clk) begin
            ev_pipe <= {ev_pipe[2*IN_LAT-3:0], ev_now};
            if (rst || start_ok)
                ev_pipe <= {(2*IN_LAT){1'b0}};
        end
        assign ev = ev_pipe[2*IN_LAT-1 -: 2];
        // (the nib_last flags of every stage)
        reg fly;
        integer fi;
        always @* begin
            fly = 1'b0;
            for (fi = 0; fi < IN_LAT; fi = fi + 1)
                fly = fly | ev_pipe[2*fi];
        end
        assign last_fly = fly;
    end
endgenerate

// a start drops the samples in flight (a burst being cut; the pipeline is
// cleared with it)
wire ev_rx = ev[1] && !loaded_reg;
wire ev_data = ev[1] && loaded_reg && !start_ok;
wire ev_nib_last = ev[0];

// status register 1 arrives MSB first: the last bit is BUSY
always @(posedge clk) begin
    if (ev_rx)
        rx_bit <= spi_io_i[1];
end

// ---- beat assembly and output register ------------------------------------

assign start_ok = start && loaded_reg;
assign m_w_valid = m_valid_reg;

genvar k;
wire is_mark;          // the beat being completed is a mark (MARKS)
wire [3:0] asm_top;    // the assembly register's last nibble (MARKS: a mark's tag)
wire load_out;         // the output register takes a beat (valid next cycle)
// the output register is free this cycle, or its beat is being taken
wire out_free = !m_valid_reg || m_w_ready;
generate
    if (1) begin : g_asm
        // wire nibble w < NW - 1 of the beat lands in asm_sr[4w +: 4]; the
        // last one (w = NW - 1) is taken from the bus straight into the
        // output register (MARKS: or into the hold register while the
        // output register is full). Beat nibble n is wire nibble w(n): with
        // an even NDX each byte's high nibble first (w = n ^ 1); with one
        // dexp the dexp (beat nibble NW - 1) first, then each lane's high
        // nibble before its low one (w = (n ^ 1) + 1)
        reg [(NW-1)*4-1:0] asm_sr;
        reg [BEAT_W-1:0] m_data_reg;
        wire [3:0] last_nib;
        wire [NW*4-1:0] wire_beat = {last_nib, asm_sr};
        wire [BEAT_W-1:0] asm_beat;

        if (MARKS != 0) begin : g_mark_nib
            // the mantissas as without marks; the dexp from the last mark
            // (dexp_cur: its beat's last nibble). A data beat's last nibble
            // that lands while the output register is full waits in hold
            // (asm_sr keeps the rest: the next beat's first nibble is
            // clocked only once the output register is free or being
            // taken, or, at SCK = clk / 2, while hold is empty with no last
            // nibble on its way, issue_ok, so it never lands on a full
            // hold). A mark
            // is taken at once, never held: its first nibble waited for
            // the same gate, so no held beat is left to take a wrong dexp.
            reg [3:0] dexp_cur;
            reg [3:0] hold;
            reg hold_v;
            for (k = 0; k < NW; k = k + 1) begin : g_nib
                assign asm_beat[4*k +: 4] = wire_beat[4*(k ^ 1) +: 4];
            end
            assign asm_beat[BEAT_W-1 -: 4] = dexp_cur;
            assign last_nib = hold_v ? hold : spi_io_i;
            assign hold_busy = hold_v;
            wire land = ev_data && ev_nib_last && !is_mark;
            assign load_out = (land || hold_v) && out_free;
            always @(posedge clk) begin
                if (ev_data && ev_nib_last && is_mark)
                    dexp_cur <= spi_io_i;
                if (land && !out_free)
                    hold <= spi_io_i;
                if (land && !out_free)
                    hold_v <= 1'b1;
                else if (out_free)
                    hold_v <= 1'b0;
                if (rst || start_ok)
                    hold_v <= 1'b0;
            end
        end else begin : g_plain_nib
            for (k = 0; k < NW; k = k + 1) begin : g_nib
                if (ODD == 0)
                    assign asm_beat[4*k +: 4] = wire_beat[4*(k ^ 1) +: 4];
                else if (k == NW - 1)
                    assign asm_beat[4*k +: 4] = wire_beat[3:0];
                else
                    assign asm_beat[4*k +: 4] = wire_beat[4*((k ^ 1) + 1) +: 4];
            end
            assign last_nib = spi_io_i;
            // (the last nibble is clocked only while the output register is
            // free or being taken: issue_ok)
            assign load_out = ev_data && ev_nib_last;
            wire unused_plain = is_mark ^ out_free ^ last_fly;
            assign hold_busy = 1'b0;
        end

        always @(posedge clk) begin
            if (ev_data && !ev_nib_last)
                asm_sr <= {spi_io_i, asm_sr[(NW-1)*4-1:4]};
            if (load_out)
                m_data_reg <= asm_beat;
        end
        assign asm_top = asm_sr[(NW-1)*4-1 -: 4];
        assign m_w_mant = m_data_reg[LANES*8-1:0];
        assign m_w_dexp = m_data_reg[BEAT_W-1:LANES*8];
        // MARKS: lane 0's byte (wire nibbles 0 and 1, in the assembly
        // register at the last nibble) 0x80 makes the beat a mark
        assign is_mark = MARKS != 0 && asm_sr[7:0] == 8'h08;
    end
endgenerate

// MARKS: the image check. Every start of the decoder (beat 0, a classifier
// row) is a flash beat that the layout makes a mark, so a burst whose first
// flash beat is no mark reads something else: an erased flash (0xff), an
// image of the packed or 3-byte layouts (a lane-0 mantissa first, never
// 0x80 in the 3-byte one), one at another offset. And each mark carries,
// beside its dexp (its last nibble, on the bus as it completes), nibble
// (dexp mod 4) of the image's tag: a marked image of other weights differs
// in some of them (within a token the stories260K image's marks take all
// four residues, the synthetic one's three), so it is caught by the first
// token at the latest, by the boot burst's first mark with odds 15 in 16.
// Two flip-flops: the burst's first beat is still to come (set in S_IDLE,
// as every burst passes it), and the sticky flag.
generate
    if (MARKS != 0) begin : g_check
        reg first_reg;
        reg err_reg;
        wire [1:0] dres = spi_io_i[1:0];
        wire [3:0] tag_want = IMAGE_TAG[4 * dres +: 4];
        always @(posedge clk) begin
            if (state_reg == S_IDLE)
                first_reg <= 1'b1;
            else if (ev_data && ev_nib_last)
                first_reg <= 1'b0;
            if (ev_data && ev_nib_last &&
                (is_mark ? asm_top != tag_want : first_reg))
                err_reg <= 1'b1;
            if (rst)
                err_reg <= 1'b0;
        end
        assign err_image = err_reg;
    end else begin : g_no_check
        assign err_image = 1'b0;
        wire unused_check = ^asm_top;
    end
endgenerate

// a beat enters the output register with its last nibble (or, MARKS, from
// the hold register), never over a beat not yet taken; a mark is not
// offered
always @(posedge clk) begin
    if (load_out) begin
        m_valid_reg <= 1'b1;
    end else if (m_w_ready) begin
        m_valid_reg <= 1'b0;
    end
    // (a start drops a beat not taken)
    if (rst || start_ok)
        m_valid_reg <= 1'b0;
end

endmodule

`resetall
