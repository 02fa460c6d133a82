// sim_probe: the iCEBreaker probe's logic (icebreaker_probe_core) end to end
// in Verilator (`make sim`): a random I8E matrix packed into a flash image
// (lg_wimage_pack_mat + lg_flash_pack, as mkflash probe does) served by the
// pin-level flash model (sim/flash_model.h), a host UART sending the 'G'
// frame bit by bit, and every int32 result checked against lg_ref_matvec.
//
// The board's SB_IO registers are modelled here: the flash sees the core's
// pins one cycle late and the core sees the flash pads through an input
// register (IN_LAT 2, as on the board; 1 or 3 fail).
// The UART runs at CLK_HZ / 10 per bit (the model is built with CLK_HZ =
// 10 * 115200), so a run takes about a million cycles.
// Plusargs: +seed=N, +trace[=FILE], and for a host program instead of the
// harness's own frame (the board's bring-up, rehearsed: `mkflash probe`'s
// image and `lgtok.py probe` with its expectation file):
//   +image=FILE  the flash image at 1 MiB (mkflash probe -o FILE), in place
//                of the harness's random matrix
//   +pty=FILE    the host on a pseudo-terminal (sim/pty_link.h; its device
//                name written to FILE): its bytes onto the UART line, the
//                core's records back, until the first 'E' record; the host
//                compares the results (this harness checks the UART's
//                stop bits and the flash model's protocol and timing).
//                Fails after +idle=S (default 120) seconds without a byte
//                from the host
#include "Vdut.h"
#include "flash_model.h"
#include "pty_link.h"
#include "testb.h"

extern "C" {
#include "flash_image.h"
#include "llamagen/emit_mem.h"
#include "llamagen/ref.h"
}

#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>
#include <vector>

#ifndef SIM_LANES
#define SIM_LANES 4
#endif
#ifndef SIM_ROWS
#define SIM_ROWS 512
#endif
#ifndef SIM_COLS
#define SIM_COLS 172
#endif
static const int CPB = 10; // clk cycles per UART bit

typedef TESTB<Vdut> TB;

int main(int argc, char **argv)
{
    TB tb(argc, argv, "sim_probe");
    std::mt19937_64 rng(tb.plusarg("seed", 1));
    int errors = 0;

    // ---- the matrix, the vector, the expected results, the flash image ----
    lg_qmat m = {SIM_ROWS, SIM_COLS, 32, (SIM_COLS + 31) / 32, -12, nullptr, nullptr};
    std::vector<int8_t> mant((size_t)SIM_ROWS * SIM_COLS);
    std::vector<uint8_t> dexp((size_t)SIM_ROWS * m.ngroups);
    for (auto &v : mant)
        v = (int8_t)rng();
    for (auto &v : dexp)
        v = (uint8_t)(rng() & 7);
    m.mant = mant.data();
    m.dexp = dexp.data();
    std::vector<int16_t> x(SIM_COLS);
    for (auto &v : x)
        v = (int16_t)rng();
    const int shift = 16;
    std::vector<int32_t> y(SIM_ROWS);
    lg_ref_matvec(y.data(), &m, x.data(), -shift - m.ebase);

    lg_wimage img = {};
    img.lanes = SIM_LANES;
    img.group = 32;
    img.ndexp = lg_wimage_ndexp(SIM_LANES, 32);
    img.beat_bits = 8 * SIM_LANES + 4 * img.ndexp;
    img.words = (img.beat_bits + 63) / 64;
    img.nbeats = lg_wimage_mat_beats(&m, SIM_LANES);
    std::vector<uint64_t> beats((size_t)img.nbeats * img.words, 0);
    img.beats = beats.data();
    lg_err err = {{0}};
    if (lg_wimage_pack_mat(img.beats, img.words, &m, SIM_LANES, &err)) {
        std::printf("sim_probe: %s\n", err.msg);
        return tb.finish(false);
    }
    std::vector<uint8_t> bytes((size_t)lg_flash_image_bytes(&img));
    lg_flash_pack(bytes.data(), &img);
    std::string image = tb.plusarg_str("image", "");
    if (!image.empty()) {
        std::ifstream f(image, std::ios::binary);
        if (f.is_open())
            bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
        if (!f.is_open() || f.bad() || bytes.empty()) {
            std::printf("sim_probe: +image=%s: %s\n", image.c_str(),
                        !f.is_open() ? "cannot open it" : f.bad() ? "cannot read it" : "empty");
            return tb.finish(false);
        }
        std::printf("sim_probe: flash image %s, %zu bytes at 0x%x\n", image.c_str(),
                    bytes.size(), LG_FLASH_BASE);
    }
    FlashModel fl;
    fl.load(LG_FLASH_BASE, bytes);
    fl.powered_down = true; // as after a deep power-down; QE = 0 (an -IM part)

    // ---- the frame ----
    std::vector<uint8_t> frame = {'G', (uint8_t)shift, 0, 0, 0, 0, 0, 0, 0, 0,
                                  (uint8_t)SIM_COLS, (uint8_t)(SIM_COLS >> 8)};
    for (int16_t v : x) {
        frame.push_back((uint8_t)v);
        frame.push_back((uint8_t)((uint16_t)v >> 8));
        frame.push_back(0);
    }
    uint8_t chk = 0;
    for (uint8_t b : frame)
        chk ^= b;
    frame.push_back(chk);
    // the host's line: 10 bits per byte, CPB cycles per bit
    std::deque<int> line;
    for (int i = 0; i < 200; i++)
        line.push_back(1);
    for (uint8_t b : frame)
        uart_line_byte(line, b, CPB);

    // ---- run ----
    tb.m->rxd = 1;
    tb.m->spi_io_i = 0xf;
    tb.reset(4);
    std::vector<uint8_t> rx;
    int rx_state = 0, rx_bit = 0;
    uint64_t rx_t = 0;
    uint8_t rx_byte = 0;
    int prev_txd = 1;
    // SB_IO registers: outputs (pins = last edge's fabric values), input
    uint8_t cs_d = 1, sck_d = 0, o_d = 0, oe_d = 0, pad = 0xf, in_reg = 0xf;
    // one clock cycle of the board around the core
    auto step = [&]() {
        tb.m->rxd = line.empty() ? 1 : line.front();
        if (!line.empty())
            line.pop_front();
        tb.m->spi_io_i = in_reg;
        tb.tick();
        // the edge: the input register takes the pad, the output registers
        // the core's pins of the last cycle; then the flash reacts
        in_reg = pad;
        fl.step(tb.cycle * 868, cs_d, sck_d, o_d, oe_d); // 868 ns: 1.152 MHz
        pad = fl.bus(o_d, oe_d);
        cs_d = tb.m->spi_cs_n;
        sck_d = tb.m->spi_sck;
        o_d = tb.m->spi_io_o;
        oe_d = tb.m->spi_io_oe;
        // host UART receiver (samples the middle of each bit)
        int v = tb.m->txd;
        if (rx_state == 0 && prev_txd && !v) {
            rx_state = 1;
            rx_t = tb.cycle;
            rx_bit = 0;
            rx_byte = 0;
        } else if (rx_state == 1 && tb.cycle - rx_t == (uint64_t)(CPB / 2 + CPB * (rx_bit + 1))) {
            if (rx_bit < 8) {
                rx_byte |= (uint8_t)(v << rx_bit);
                rx_bit++;
            } else {
                if (!v)
                    errors++, std::printf("FAIL: stop bit low\n");
                rx.push_back(rx_byte);
                rx_state = 0;
            }
        }
        prev_txd = v;
    };

    std::string pty_file = tb.plusarg_str("pty", "");
    if (!pty_file.empty()) {
        // ---- a host program on a pseudo-terminal, until the first 'E' ----
        PtyLink pty;
        if (!pty.open_pty(pty_file))
            return tb.finish(false);
        line.clear();
        double idle_s = (double)tb.plusarg("idle", 120);
        auto last_host = std::chrono::steady_clock::now();
        size_t parsed = 0; // rx bytes forwarded and walked record by record
        bool ended = false;
        while (!ended && errors == 0) {
            std::vector<uint8_t> in = pty.poll_in();
            if (!in.empty()) {
                last_host = std::chrono::steady_clock::now();
                for (uint8_t b : in)
                    uart_line_byte(line, b, CPB);
            } else if (line.empty() && rx_state == 0) {
                double idle = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                            last_host).count();
                if (idle > idle_s) {
                    std::printf("FAIL: no byte from the host for %.0f s\n", idle_s);
                    errors++;
                }
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
            for (int k = 0; k < 4096; k++)
                step();
            // forward whole records; the first 'E' ends the session
            while (parsed < rx.size() && !ended) {
                uint8_t r = rx[parsed];
                size_t need = uart_record_len(r);
                if (rx.size() - parsed < need)
                    break;
                pty.out.insert(pty.out.end(), rx.begin() + (long)parsed,
                               rx.begin() + (long)(parsed + need));
                ended = r == 'E';
                parsed += need;
            }
            pty.flush_out();
        }
        if (!pty.drain(10))
            errors++, std::printf("FAIL: the host did not read the last %zu bytes\n",
                                  pty.out.size());
        for (size_t i = 0; i < fl.errors.size() && i < 10; i++)
            errors++, std::printf("FAIL: flash: %s\n", fl.errors[i].c_str());
        for (size_t i = 0; i < fl.notes.size() && i < 10; i++)
            errors++, std::printf("FAIL: flash note: %s\n", fl.notes[i].c_str());
        std::printf("sim_probe: served the host: %zu record bytes, %d errors\n", parsed, errors);
        // (the host reads the last record before the master side goes)
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        return tb.finish(errors == 0);
    }

    size_t expect_bytes = 1 + 8 * (size_t)SIM_ROWS + 4; // 'A', 2 'T' per row, 'E'
    uint64_t limit = 4000000;
    while (tb.cycle < limit && rx.size() < expect_bytes)
        step();

    // ---- check ----
    if (rx.size() < expect_bytes) {
        std::printf("FAIL: %zu of %zu reply bytes after %llu cycles\n", rx.size(), expect_bytes,
                    (unsigned long long)tb.cycle);
        errors++;
    } else {
        if (rx[0] != 'A')
            errors++, std::printf("FAIL: first record 0x%02x, not 'A'\n", rx[0]);
        int bad = 0;
        for (int r = 0; r < SIM_ROWS; r++) {
            const uint8_t *p = &rx[1 + 8 * (size_t)r];
            uint32_t lo = p[1] | p[2] << 8, hi = p[5] | p[6] << 8;
            int32_t got = (int32_t)(lo | hi << 16);
            if (p[0] != 'T' || p[4] != 'T' || got != y[(size_t)r]) {
                if (bad++ < 10)
                    std::printf("FAIL: row %d: got %d, expected %d\n", r, got, y[(size_t)r]);
            }
        }
        errors += bad;
        const uint8_t *e = &rx[1 + 8 * (size_t)SIM_ROWS];
        if (e[0] != 'E' || e[1] != 0 || (e[2] | e[3] << 8) != 2 * SIM_ROWS)
            errors++, std::printf("FAIL: end record %02x %02x %02x %02x\n", e[0], e[1], e[2],
                                  e[3]);
    }
    for (size_t i = 0; i < fl.errors.size() && i < 10; i++)
        errors++, std::printf("FAIL: flash: %s\n", fl.errors[i].c_str());
    for (size_t i = 0; i < fl.notes.size() && i < 10; i++)
        errors++, std::printf("FAIL: flash note: %s\n", fl.notes[i].c_str());
    std::printf("sim_probe: %d x %d mat-vec, lanes %d, from flash over the UART: %d errors\n",
                SIM_ROWS, SIM_COLS, SIM_LANES, errors);
    return tb.finish(errors == 0);
}
