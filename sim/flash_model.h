// flash_model.h: a pin-level model of a Winbond W25Q128JV-class QSPI NOR
// flash for Verilator benches (tests/hdl/tb_qspi.cpp; docs/fpga.md).
//
//   FlashModel fl(image_bytes);            // 16 MiB array, image at offset 0
//   fl.load(0x100000, bytes);              // or place bytes anywhere
//   per clock cycle, after tb.tick():
//     fl.step(t_ns, cs_n, sck, io_o, io_oe);   // the FPGA's registered pins
//     dut->spi_io_i = fl.bus(io_o, io_oe);     // what the FPGA's pads see
//   or, for an FPGA with SCK = clk (a DDR SCK output, the bus taken at clk
//   falling), per cycle: sample = fl.step_ddr(t_ns, half_ns, cs_n, pulse, io_o, io_oe);
//   fl.errors: protocol and timing violations (a bench fails on any)
//
// The model sees the pins once per clk cycle (the FPGA drives them from
// registers, so nothing changes in between) and acts on the SCK edges it
// finds, in SPI mode 0 like the part: inputs are sampled on SCK rising, the
// flash shifts its output on SCK falling, the first output bit (nibble)
// after the falling edge of the last address / mode / dummy clock.
//
// Commands (as the W25Q128JV datasheet, 3-byte addresses):
//   0x03 read (no dummy, IO1)          0x0B fast read (8 dummy, IO1)
//   0x6B quad output read (8 dummy clocks, IO0..IO3; needs QE)
//   0xEB quad I/O read (address on IO0..IO3, mode byte M, 4 dummy clocks;
//        needs QE; M[5:4] = 10b keeps continuous read mode: the next CS#
//        cycle starts at the address)
//   0xAB release from deep power-down (tRES1 = 3 us before the next command;
//        clocked on: 3 dummy bytes, then the device ID 0x17)
//   0xB9 deep power-down (only 0xAB is obeyed there)
//   0x05 / 0x35 / 0x15 read status 1 / 2 / 3 (repeated while clocked)
//   0x06 write enable, 0x04 write disable, 0x50 volatile status write enable
//   0x01 write status 1 (and 2 with a second byte), 0x31 write status 2:
//        taken on CS# rising after whole bytes; with 0x50 before it the
//        volatile copy only (BUSY for busy_volatile_ns), with 0x06 the
//        non-volatile one too (BUSY for busy_nv_ns); ignored otherwise
//   0x9F JEDEC ID EF 40 18, 0xFF (continuous read reset) ignored
// A command that needs QE while QE = 0 is ignored (the bus stays undriven),
// and so is everything but 0xAB in power-down; each such case is also noted
// in `notes` so that a bench can tell why its data is missing.
//
// Checked (each violation appends to `errors`):
//   - SCK high when CS# falls or rises (mode 0 only);
//   - CS# high time before a command: >= 10 ns before an array read, >= 50
//     ns before anything else (tSHSL1/2); a command within tRES1 of 0xAB;
//   - the FPGA driving a line sooner than tSHQZ = 7 ns after CS# rose while
//     the flash drove it;
//   - a command while BUSY other than a status read;
//   - FPGA IO output changing on the same edge SCK rises (hold);
//   - SCK period below 1/133 MHz (1/50 MHz for 0x03);
//   - the FPGA driving a line the flash drives (bus contention);
//   - the FPGA sampling a nibble sooner than tCLQV = 7 ns after SCK fell
//     (checked when `sample_on_rise` is set: data is taken on the rising
//     edge, as lg_qspi_stream does).
// Undriven lines read as random bits (`bus`), never as a convenient value.
#ifndef LLAMAGEN_FLASH_MODEL_H
#define LLAMAGEN_FLASH_MODEL_H

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

class FlashModel {
  public:
    // ---- configuration ----------------------------------------------------------
    std::vector<uint8_t> mem;      // (size) the array; size a power of two
    uint8_t sr1 = 0, sr2 = 0, sr3 = 0; // volatile status registers (SR2 bit 1 = QE)
    uint8_t sr2_nv = 0;            // non-volatile SR2
    bool powered_down = false;     // in deep power-down (start a bench with it set)
    uint64_t busy_volatile_ns = 0; // BUSY after a volatile status write
    uint64_t busy_nv_ns = 10000;   // BUSY after a non-volatile status write (tW)
    bool sample_on_rise = true;    // check tCLQV against the rising edge

    // ---- results ------------------------------------------------------------------
    std::vector<std::string> errors; // protocol / timing violations
    std::vector<std::string> notes;  // commands ignored (QE = 0, power-down, unknown)
    uint64_t reads = 0;              // read commands started
    uint64_t bytes_out = 0;          // data bytes shifted out by reads
    uint32_t min_read_addr = 0xffffffffu; // the lowest address a read started at

    explicit FlashModel(size_t size = 16u << 20, uint64_t seed = 1) : mem(size, 0xff), rng(seed)
    {
    }

    void load(size_t addr, const std::vector<uint8_t> &bytes)
    {
        for (size_t i = 0; i < bytes.size(); i++)
            mem[(addr + i) & (mem.size() - 1)] = bytes[i];
    }

    bool qe() const { return (sr2 & 0x02) != 0; }
    bool busy(uint64_t t) const { return t < busy_until; }

    // One observation of the pins at time t_ns (after a clk edge).
    void step(uint64_t t, int cs_n, int sck, uint8_t io_o, uint8_t io_oe)
    {
        io_o &= 15;
        io_oe &= 15;
        if (cs_n != prev_cs) {
            if (prev_sck || sck)
                err(t, "SCK high while CS# %s (mode 0 only)", cs_n ? "rises" : "falls");
            if (!cs_n)
                cs_fall(t);
            else
                cs_rise(t);
        } else if (!cs_n && sck != prev_sck) {
            if (sck) {
                if ((io_o ^ prev_io_o) & io_oe & prev_io_oe)
                    err(t, "FPGA IO changed on the SCK rising edge (hold violation)");
                if (have_rise && t - last_rise < min_period)
                    err(t, "SCK period %llu ns below the minimum %llu ns",
                        (unsigned long long)(t - last_rise), (unsigned long long)min_period);
                last_rise = t;
                have_rise = true;
                if (sample_on_rise && driving && t - last_fall < 7)
                    err(t, "data sampled %llu ns after SCK fell (tCLQV 7 ns)",
                        (unsigned long long)(t - last_fall));
                rise(t, io_o);
            } else {
                last_fall = t;
                fall();
            }
        }
        if (drive_oe & io_oe)
            err(t, "bus contention: flash drives %x, FPGA drives %x", drive_oe, io_oe);
        if (t < hiz_until && (released_oe & io_oe))
            err(t, "FPGA drives IO %x within tSHQZ (7 ns) of CS# rising", released_oe & io_oe);
        prev_cs = cs_n;
        prev_sck = sck;
        prev_io_o = io_o;
        prev_io_oe = io_oe;
    }

    // One clk cycle of an FPGA that drives SCK as a DDR output (lg_qspi_stream
    // SCK_DDR): the pins as they stand after the clk edge at t (SCK low: a
    // pulse in flight falls with the edge, the flash shifts), the bus as the
    // FPGA's falling-edge input register takes it half_ns later, then SCK
    // high for the second half if `pulse`. Returns that sample.
    uint8_t step_ddr(uint64_t t, uint64_t half_ns, int cs_n, int pulse, uint8_t io_o,
                     uint8_t io_oe)
    {
        step(t, cs_n, 0, io_o, io_oe);
        uint8_t v = bus(io_o, io_oe);
        step(t + half_ns, cs_n, pulse, io_o, io_oe);
        return v;
    }

    // The value on IO3..IO0 as the FPGA's input buffers see it.
    uint8_t bus(uint8_t io_o, uint8_t io_oe)
    {
        uint8_t v = (uint8_t)(rng() & 15);
        v = (uint8_t)((v & ~drive_oe) | (drive_val & drive_oe));
        v = (uint8_t)((v & ~io_oe) | (io_o & io_oe));
        return (uint8_t)(v & 15);
    }

  private:
    enum Phase { P_CMD, P_ADDR, P_MODE, P_DUMMY, P_OUT, P_WDATA, P_IGNORE };
    std::mt19937_64 rng;
    int prev_cs = 1, prev_sck = 0;
    uint8_t prev_io_o = 0, prev_io_oe = 0;
    uint64_t cs_rise_t = 0, last_rise = 0, last_fall = 0, res_until = 0, busy_until = 0;
    bool have_cs_rise = false, have_rise = false;
    uint64_t min_period = 8;

    Phase phase = P_IGNORE;
    uint8_t cmd = 0;
    int bits = 0;          // bits collected in the current phase
    uint32_t shreg = 0;    // collected bits
    uint32_t addr = 0;
    int addr_lanes = 1;    // IO lines carrying the address (1 or 4)
    int dummy_left = 0;    // dummy clocks still to come
    int out_lanes = 1;     // 1: IO1, 4: IO3..IO0
    bool out_pending = false; // drive the first output on the next falling edge
    bool continuous = false;  // 0xEB continuous read mode armed
    bool wren = false, wren_volatile = false;
    std::vector<uint8_t> wdata; // status write bytes
    // output: the current byte and the bit position of what is on the bus
    uint8_t out_byte = 0;
    int out_pos = 0;       // bits of out_byte already shifted out
    int out_kind = 0;      // 0 array, 1 status, 2 id, 3 jedec
    int out_idx = 0;       // status register number / id byte index
    bool driving = false;
    uint8_t drive_oe = 0, drive_val = 0;

    void err(uint64_t t, const char *fmt, ...) __attribute__((format(printf, 3, 4)))
    {
        char b[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b, sizeof b, fmt, ap);
        va_end(ap);
        char m[320];
        snprintf(m, sizeof m, "t=%llu ns: %s", (unsigned long long)t, b);
        errors.push_back(m);
    }

    void note(const char *what, uint8_t c)
    {
        char b[128];
        snprintf(b, sizeof b, "%s (command 0x%02x)", what, c);
        notes.push_back(b);
    }

    void release()
    {
        driving = false;
        drive_oe = 0;
    }

    void cs_fall(uint64_t t)
    {
        if (have_cs_rise && t - cs_rise_t < 10)
            err(t, "CS# high for %llu ns (tSHSL1 10 ns)", (unsigned long long)(t - cs_rise_t));
        cs_fall_t = t;
        have_rise = false;
        bits = 0;
        shreg = 0;
        out_pending = false;
        release();
        wdata.clear();
        if (continuous) {
            // 0xEB continuous read: the address comes first
            cmd = 0xeb;
            start_quad_io_addr();
        } else {
            phase = P_CMD;
        }
    }

    uint64_t cs_fall_t = 0;
    uint64_t hiz_until = 0;
    uint8_t released_oe = 0;

    void cs_rise(uint64_t t)
    {
        // the outputs float 7 ns (tSHQZ) after CS# rises
        released_oe = drive_oe;
        hiz_until = t + 7;
        release();
        if (phase == P_WDATA && bits == 0 && !wdata.empty())
            write_status(t);
        phase = P_IGNORE;
        cs_rise_t = t;
        have_cs_rise = true;
        if (cmd == 0xab && !continuous)
            res_until = t + 3000;
        if (cmd == 0xb9 && !busy(t))
            powered_down = true;
        cmd = 0;
    }

    void write_status(uint64_t t)
    {
        if (!wren && !wren_volatile) {
            note("status write without write enable ignored", cmd);
            return;
        }
        uint8_t n1 = sr1, n2 = sr2;
        if (cmd == 0x01) {
            n1 = wdata[0];
            if (wdata.size() >= 2)
                n2 = wdata[1];
        } else if (cmd == 0x31) {
            n2 = wdata[0];
        }
        // BUSY and WEL are not writable; LB bits (SR2[5:3]) are OTP (set only)
        sr1 = (uint8_t)((n1 & 0xfc) | (sr1 & 0x03));
        sr2 = (uint8_t)((n2 & 0xc7) | (sr2 & 0x38) | (n2 & 0x38));
        if (wren_volatile) {
            busy_until = t + busy_volatile_ns;
        } else {
            sr2_nv = sr2;
            busy_until = t + busy_nv_ns;
        }
        wren = wren_volatile = false;
        sr1 &= (uint8_t)~0x02;
    }

    void start_quad_io_addr()
    {
        phase = P_ADDR;
        addr_lanes = 4;
        bits = 0;
        shreg = 0;
    }

    // the command byte is complete
    void decode(uint64_t t)
    {
        bool is_read = cmd == 0x03 || cmd == 0x0b || cmd == 0x6b || cmd == 0xeb;
        if (!is_read && have_cs_rise && cs_fall_t - cs_rise_t < 50)
            err(t, "CS# high for %llu ns before command 0x%02x (tSHSL2 50 ns)",
                (unsigned long long)(cs_fall_t - cs_rise_t), cmd);
        if (cmd != 0xab && cs_fall_t < res_until)
            err(t, "command 0x%02x within tRES1 (3 us) of 0xAB", cmd);
        if (powered_down && cmd != 0xab) {
            note("command ignored in deep power-down", cmd);
            phase = P_IGNORE;
            return;
        }
        if (busy(t) && cmd != 0x05 && cmd != 0x35 && cmd != 0x15) {
            err(t, "command 0x%02x while BUSY", cmd);
            phase = P_IGNORE;
            return;
        }
        min_period = cmd == 0x03 ? 20 : 8;
        bits = 0;
        shreg = 0;
        switch (cmd) {
        case 0x03:
        case 0x0b:
            phase = P_ADDR;
            addr_lanes = 1;
            break;
        case 0x6b:
        case 0xeb:
            if (!qe()) {
                note("quad read with QE = 0 ignored", cmd);
                phase = P_IGNORE;
                return;
            }
            phase = P_ADDR;
            addr_lanes = cmd == 0xeb ? 4 : 1;
            break;
        case 0xab:
            powered_down = false;
            // 3 dummy bytes, then the device ID, if clocked on
            phase = P_DUMMY;
            dummy_left = 24;
            out_lanes = 1;
            out_kind = 2;
            break;
        case 0xb9:
            phase = P_IGNORE; // takes effect on CS# rising
            break;
        case 0x05:
        case 0x35:
        case 0x15:
            out_kind = 1;
            out_idx = cmd == 0x05 ? 1 : cmd == 0x35 ? 2 : 3;
            out_lanes = 1;
            begin_output();
            break;
        case 0x9f:
            out_kind = 3;
            out_idx = 0;
            out_lanes = 1;
            begin_output();
            break;
        case 0x06:
            wren = true;
            sr1 |= 0x02;
            phase = P_IGNORE;
            break;
        case 0x04:
            wren = wren_volatile = false;
            sr1 &= (uint8_t)~0x02;
            phase = P_IGNORE;
            break;
        case 0x50:
            wren_volatile = true;
            phase = P_IGNORE;
            break;
        case 0x01:
        case 0x31:
            phase = P_WDATA;
            break;
        case 0xff:
            phase = P_IGNORE;
            break;
        default:
            note("unknown command ignored", cmd);
            phase = P_IGNORE;
            break;
        }
    }

    uint8_t status(int n, uint64_t t) const
    {
        if (n == 1)
            return (uint8_t)((sr1 & 0xfe) | (busy(t) ? 1 : 0));
        return n == 2 ? sr2 : sr3;
    }

    uint64_t now = 0;

    void begin_output()
    {
        phase = P_OUT;
        out_pending = true;
        out_pos = 0;
    }

    uint8_t next_byte()
    {
        switch (out_kind) {
        case 0: {
            uint8_t b = mem[addr & (mem.size() - 1)];
            addr = (uint32_t)((addr + 1) & (mem.size() - 1));
            bytes_out++;
            return b;
        }
        case 1:
            return status(out_idx, now);
        case 2:
            return 0x17;
        default: {
            static const uint8_t id[3] = {0xef, 0x40, 0x18};
            uint8_t b = id[out_idx % 3];
            out_idx++;
            return b;
        }
        }
    }

    // SCK rising: sample the FPGA's lines
    void rise(uint64_t t, uint8_t io)
    {
        now = t;
        switch (phase) {
        case P_CMD:
            shreg = (shreg << 1) | (io & 1);
            if (++bits == 8) {
                cmd = (uint8_t)shreg;
                decode(t);
            }
            break;
        case P_ADDR:
            if (addr_lanes == 4) {
                shreg = (shreg << 4) | io;
                bits += 4;
            } else {
                shreg = (shreg << 1) | (io & 1);
                bits++;
            }
            if (bits == 24) {
                addr = shreg & 0xffffff & (uint32_t)(mem.size() - 1);
                reads++;
                min_read_addr = addr < min_read_addr ? addr : min_read_addr;
                bits = 0;
                shreg = 0;
                out_kind = 0;
                out_lanes = (cmd == 0x6b || cmd == 0xeb) ? 4 : 1;
                if (cmd == 0xeb) {
                    phase = P_MODE;
                } else if (cmd == 0x03) {
                    begin_output();
                } else {
                    phase = P_DUMMY;
                    dummy_left = 8;
                }
            }
            break;
        case P_MODE:
            shreg = (shreg << 4) | io;
            bits += 4;
            if (bits == 8) {
                continuous = ((shreg >> 4) & 3) == 2;
                phase = P_DUMMY;
                dummy_left = 4;
            }
            break;
        case P_DUMMY:
            if (--dummy_left == 0)
                begin_output();
            break;
        case P_WDATA:
            shreg = (shreg << 1) | (io & 1);
            if (++bits == 8) {
                wdata.push_back((uint8_t)shreg);
                bits = 0;
                shreg = 0;
            }
            break;
        default:
            break;
        }
    }

    // SCK falling: shift the next output unit onto the bus
    void fall()
    {
        if (phase != P_OUT)
            return;
        if (out_pending) {
            out_pending = false;
            out_byte = next_byte();
            out_pos = 0;
        } else {
            out_pos += out_lanes;
            if (out_pos >= 8) {
                out_byte = next_byte();
                out_pos = 0;
            }
        }
        driving = true;
        if (out_lanes == 4) {
            drive_oe = 15;
            drive_val = (uint8_t)((out_byte >> (4 - out_pos)) & 15);
        } else {
            drive_oe = 2;
            drive_val = (uint8_t)(((out_byte >> (7 - out_pos)) & 1) << 1);
        }
    }
};

#endif
