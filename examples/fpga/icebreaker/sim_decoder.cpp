// sim_decoder: the whole decoder as the iCEBreaker runs it
// (icebreaker_decoder_core: weights streamed from QSPI flash, tokens over the
// UART host protocol) co-simulated in Verilator against the bit-exact C
// model: every logit of every position (the core's m_logit tap), every
// generated id (as 'T' records on the UART line) and every 'E' status.
//
// Around the core, as on the board (and as sim_probe.cpp):
//  - the flash: sim/flash_model.h (a W25Q128JV at the pins, timing checked)
//    holding the weight image at 1 MiB, packed by lg_flash_pack from the
//    same quantized model the emitter used (mkflash weights writes the same
//    bytes); it starts in deep power-down with QE = 0, so the reader's
//    wake-up and quad-enable sequence runs first;
//  - the SB_IO registers: the flash sees the core's pins one cycle late and
//    the core sees the pads through an input register (IN_LAT 2); SCK = clk
//    as icebreaker_decoder.v builds it (the core's SCK_DDR): SCK low in the
//    first half of each cycle, high in the second when the core's spi_sck
//    was high the cycle before, and the input register (the IO cells'
//    D_IN_1) samples the bus at clk falling, just before SCK rises;
//  - the host: a UART at CLK_HZ / 10 per bit (the model is built with
//    CLK_HZ = 10 * 115200) sending 'G' frames bit by bit and decoding the
//    records on txd.
//
// Plusargs: those of sim/dec_common.h (+dir= the emitted decoder, +config,
// +lanes, +seq-len, ..., +checkpoint, +tokenizer, +prompt / +tokens, +n,
// +temp, +seed), and
//   +errtest     also, first, the image check: the flash erased, then holding
//                the packed layout's image (mkflash weights without --marks,
//                the layout before the sixteenth session), then the marked
//                image with other tag nibbles (other weights), each after a
//                reset: st_err_image up after the boot and the main frame
//                rejected with status bit 6 (0x40), the core never started;
//                then the marked image and a reset again (the flag must stay
//                down); then a frame with a bad checksum (rejected, the core
//                never starts), a prompt with an id >= vocab (st_err_token,
//                status bit 1), then the main sequence again
//   +pty=FILE    instead of the harness's own frames: a host program on a
//                pseudo-terminal (lgtok.py; its device name is written to
//                FILE): its bytes go onto the UART line as they come, the
//                core's records back to it, and every 'G' frame it sends is
//                decoded here as the protocol documents it and, once the
//                core accepts it, checked like the harness's own (logits,
//                ids, 'E' status and count); each is printed ("host frame:
//                ...", "host ids: ...", with a tokenizer "host text: HEX",
//                the bytes the C model's decoder prints) for the caller to
//                compare with what it asked for and what it printed. Ends after +runs=N (default 1) 'E' records,
//                or fails after +idle=S (default 300) seconds without a
//                byte from the host
//   +image=erased  the flash erased instead of holding the image (the
//                reader's check rejects every frame with status 0x40; for
//                +pty: the host's message)
//   +image=FILE  the flash holds FILE (mkflash weights --marks with the
//                emission's arguments, as make decoder-weights writes it for
//                the board), which must equal the harness's own image
//   +quiet       no story text
//   +trace[=F]   waveform
// Exit code 0 = every logit, token and status matched and the flash model
// saw no protocol or timing violation.
#include "Vdut.h"
#include "dec_common.h"
#include "flash_model.h"
#include "pty_link.h"
#include "testb.h"

extern "C" {
#include "flash_image.h"
}

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <thread>
#include <vector>

typedef TESTB<Vdut> TB;

static const int CPB = 10;           // clk cycles per UART bit
static const uint64_t T_CLK_NS = 868; // 1.152 MHz: the model's CLK_HZ
#ifndef BOARD_HZ
#error "BOARD_HZ: the board build's clock in Hz (tests/hdl/units_fpga.mk asks the iCEBreaker Makefile)"
#endif
// the core's SCK_DDR (tests/hdl/units_fpga.mk passes both from one value):
// the pin model below is the SCK = clk one
#if !defined(SIM_SCK_DDR) || SIM_SCK_DDR != 1
#error "SIM_SCK_DDR: sim_decoder models the SCK = clk pins (the core built with SCK_DDR = 1) only"
#endif
// the core's MARKS (the flash image's layout, passed with it): 1 marked, 0 packed
#if !defined(SIM_MARKS) || (SIM_MARKS != 0 && SIM_MARKS != 1)
#error "SIM_MARKS: the core's MARKS (0 or 1), from tests/hdl/units_fpga.mk"
#endif


// A 'G' frame (docs/fpga.md, "Host protocol"); bad_chk flips the checksum.
static std::vector<uint8_t> g_frame(const Sequence &s, bool bad_chk)
{
    std::vector<uint8_t> f = {'G'};
    auto put = [&f](uint32_t v, int n) {
        for (int i = 0; i < n; i++)
            f.push_back((uint8_t)(v >> (8 * i)));
    };
    put(s.inv_temp, 3);
    put(s.seed, 4);
    put((uint32_t)s.n_gen, 2);
    put((uint32_t)s.prompt.size(), 2);
    for (int id : s.prompt)
        put((uint32_t)id, 3);
    uint8_t chk = 0;
    for (uint8_t b : f)
        chk ^= b;
    f.push_back(bad_chk ? (uint8_t)(chk ^ 0x5a) : chk);
    return f;
}

struct System {
    TB *tb;
    Vdut *m;
    FlashModel fl;
    Ref ref;
    KvTap kvt; // the K/V cache's writes (compared by ref after each position)
    const lg_tokenizer *tok;
    bool quiet;
    // SB_IO registers: outputs (the pins show the last edge's fabric values), input
    uint8_t cs_d = 1, sck_d = 0, o_d = 0, oe_d = 0, in_reg = 0xf;
    // host UART
    std::deque<int> line;
    int rx_state = 0, rx_bit = 0, prev_txd = 1;
    uint64_t rx_t = 0;
    uint8_t rx_byte = 0;
    std::deque<uint8_t> rx;
    // measurements
    std::vector<uint64_t> pos_cycles;
    uint64_t last_vec = 0;

    void send(const std::vector<uint8_t> &bytes)
    {
        for (int i = 0; i < 3 * CPB; i++)
            line.push_back(1);
        for (uint8_t b : bytes)
            uart_line_byte(line, b, CPB);
    }

    void tick()
    {
        m->rxd = line.empty() ? 1 : line.front();
        if (!line.empty())
            line.pop_front();
        m->spi_io_i = in_reg;
        kvt.sample(m->rst);
        tb->tick();
        // the edge: the output registers take the core's pins of the last
        // cycle (SCK low: a pulse in flight falls, the flash shifts); at clk
        // falling the input register takes the bus and SCK rises if pulsed
        in_reg = fl.step_ddr(tb->cycle * T_CLK_NS, T_CLK_NS / 2, cs_d, sck_d, o_d, oe_d);
        cs_d = m->spi_cs_n;
        sck_d = m->spi_sck;
        o_d = m->spi_io_o;
        oe_d = m->spi_io_oe;
        // host receiver: samples the middle of each bit
        int v = m->txd;
        if (rx_state == 0 && prev_txd && !v) {
            rx_state = 1;
            rx_t = tb->cycle;
            rx_bit = 0;
            rx_byte = 0;
        } else if (rx_state == 1 && tb->cycle - rx_t == (uint64_t)(CPB / 2 + CPB * (rx_bit + 1))) {
            if (rx_bit < 8) {
                rx_byte |= (uint8_t)(v << rx_bit);
                rx_bit++;
            } else {
                CHECK(v, "UART stop bit low at cycle %llu", (unsigned long long)tb->cycle);
                rx.push_back(rx_byte);
                rx_state = 0;
            }
        }
        prev_txd = v;
    }

    void print_piece(int prev, int next)
    {
        if (quiet || next == 1)
            return;
        if (tok)
            lg_tokenizer_print_piece(stdout, lg_tokenizer_decode(tok, prev, next));
        else
            std::printf("%d ", next);
        std::fflush(stdout);
    }

    // Runs one frame; expect_reject: the status bits of a rejected frame
    // (the core must not run), else -1 (a run checked against the reference).
    bool run(const Sequence &s, bool bad_chk, int expect_reject, uint64_t watchdog)
    {
        if (!quiet)
            std::printf("\n-- %s (%zu prompt ids, n_gen %d, inv_temp %u, seed %u)\n", s.what,
                        s.prompt.size(), s.n_gen, s.inv_temp, s.seed);
        bool runs = expect_reject < 0;
        if (runs)
            ref.begin(s);
        send(g_frame(s, bad_chk));
        int n_tok = 0;
        uint64_t last_progress = tb->cycle;
        last_vec = tb->cycle;
        bool accepted = false, ended = false;
        while (!ended) {
            if (m->m_logit_valid) {
                CHECK(runs, "logits from a rejected frame");
                int p = ref.logit((int32_t)m->m_logit_data, m->m_logit_last);
                if (p >= 0) {
                    if (p + 1 < ref.n_prompt)
                        print_piece(ref.inputs[p], ref.inputs[p + 1]);
                    pos_cycles.push_back(tb->cycle + 1 - last_vec);
                    last_vec = tb->cycle + 1;
                    last_progress = tb->cycle;
                }
            }
            tick();
            // records
            while (!rx.empty()) {
                uint8_t r = rx.front();
                size_t need = uart_record_len(r);
                if (rx.size() < need)
                    break;
                std::vector<uint8_t> rec(rx.begin(), rx.begin() + (long)need);
                rx.erase(rx.begin(), rx.begin() + (long)need);
                last_progress = tb->cycle;
                if (r == 'A') {
                    CHECK(runs && !accepted, "unexpected 'A'");
                    accepted = true;
                } else if (r == 'T') {
                    int t = rec[1] | rec[2] << 8 | rec[3] << 16;
                    n_tok++;
                    CHECK(runs && !ref.exp_tokens.empty(), "unexpected 'T' %d", t);
                    if (runs && !ref.exp_tokens.empty()) {
                        std::pair<int, int> e = ref.exp_tokens.front();
                        ref.exp_tokens.pop_front();
                        CHECK(t == e.second, "generated id %d, reference %d", t, e.second);
                        print_piece(e.first, t);
                    }
                } else if (r == 'E') {
                    int status = rec[1], count = rec[2] | rec[3] << 8;
                    if (runs) {
                        int exp = (ref.err_pos ? 1 : 0) | (ref.err_tok ? 2 : 0);
                        CHECK(accepted, "'E' without 'A'");
                        CHECK(status == exp, "'E' status 0x%02x, expected 0x%02x", status, exp);
                        CHECK(count == n_tok, "'E' count %d, %d 'T' records came", count, n_tok);
                    } else {
                        CHECK(status == expect_reject && count == 0,
                              "'E' status 0x%02x count %d, expected a reject 0x%02x", status,
                              count, expect_reject);
                    }
                    ended = true;
                } else {
                    CHECK(false, "unknown record byte 0x%02x", r);
                }
            }
            if (tb->cycle - last_progress > watchdog) {
                CHECK(false, "no progress for %llu cycles (pos %u)", (unsigned long long)watchdog,
                      (unsigned)m->st_pos);
                return false;
            }
        }
        if (runs) {
            CHECK(ref.tap.empty(), "a partial logit vector (%zu words) at the end", ref.tap.size());
            CHECK(ref.pos_done == (int)ref.inputs.size(),
                  "%d positions ran, the reference has %zu", ref.pos_done, ref.inputs.size());
            ref.end_kv_check();
            CHECK(ref.exp_tokens.empty(), "%zu expected tokens never came",
                  ref.exp_tokens.size());
            CHECK((bool)m->st_err_pos == ref.err_pos && (bool)m->st_err_token == ref.err_tok,
                  "st_err_pos %d st_err_token %d, expected %d %d", (int)m->st_err_pos,
                  (int)m->st_err_token, (int)ref.err_pos, (int)ref.err_tok);
            if (!quiet)
                std::printf("\n-- %d positions, %d tokens over the UART\n", ref.pos_done, n_tok);
        }
        return errors == 0;
    }
};

// The host's 'G' frames decoded from its byte stream, as lg_uart_tokens
// reads them (docs/fpga.md, "Host protocol"): 'G', inv_temp[3], seed[4],
// n_gen[2], n_prompt[2], ids[3 each], the XOR checksum. Bytes outside a
// frame ('I', resync bytes) start none.
struct HostFrames {
    std::vector<uint8_t> cur;
    struct Frame {
        Sequence s;
        bool chk_ok;
    };
    std::deque<Frame> done;

    void feed(uint8_t b)
    {
        if (cur.empty() && b != 'G')
            return;
        cur.push_back(b);
        if (cur.size() < 12)
            return;
        size_t n = (size_t)(cur[10] | cur[11] << 8);
        if (cur.size() < 12 + 3 * n + 1)
            return;
        Frame f;
        auto le = [this](size_t at, int nb) {
            uint32_t v = 0;
            for (int i = 0; i < nb; i++)
                v |= (uint32_t)cur[at + (size_t)i] << (8 * i);
            return v;
        };
        f.s.inv_temp = le(1, 3);
        f.s.seed = le(4, 4);
        f.s.n_gen = (int)le(8, 2);
        for (size_t i = 0; i < n; i++)
            f.s.prompt.push_back((int)le(12 + 3 * i, 3));
        f.s.what = "host frame";
        uint8_t x = 0;
        for (size_t i = 0; i + 1 < cur.size(); i++)
            x ^= cur[i];
        f.chk_ok = x == cur.back();
        done.push_back(f);
        cur.clear();
    }
};

// Serves the host on the pseudo-terminal until runs_want 'E' records have
// gone to it. Every frame the core accepts is checked against the reference
// as in System::run (logits, ids, 'E' status and count); a rejected one
// ('E' without 'A') only has its status printed.
static bool serve(System &sys, PtyLink &pty, int runs_want, double idle_s, uint64_t watchdog)
{
    HostFrames hf;
    int runs = 0, n_tok = 0;
    bool active = false;
    std::vector<int> ids;
    std::string text; // the run's text, with a tokenizer (the C model's decode)
    uint64_t last_progress = sys.tb->cycle;
    auto last_host = std::chrono::steady_clock::now();
    while (runs < runs_want && errors == 0) {
        // the host's bytes onto the line (each as the harness's own UART
        // sends them); while the core is idle and the line quiet, poll at
        // 1 kHz instead of spinning the model
        std::vector<uint8_t> in = pty.poll_in();
        if (!in.empty()) {
            last_host = std::chrono::steady_clock::now();
            for (uint8_t b : in)
                hf.feed(b);
            sys.send(in);
        }
        pty.flush_out();
        bool quiet = in.empty() && sys.line.empty() && !active && pty.out.empty() &&
                     sys.rx.empty() && sys.rx_state == 0;
        if (quiet) {
            double idle = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                        last_host).count();
            CHECK(idle < idle_s, "no byte from the host for %.0f s", idle_s);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        for (int k = 0; k < (quiet ? 64 : 4096) && errors == 0; k++) {
            if (sys.m->m_logit_valid) {
                CHECK(active, "logits while no accepted frame runs");
                int p = sys.ref.logit((int32_t)sys.m->m_logit_data, sys.m->m_logit_last);
                if (p >= 0)
                    last_progress = sys.tb->cycle;
            }
            sys.tick();
            while (!sys.rx.empty()) {
                uint8_t r = sys.rx.front();
                size_t need = uart_record_len(r);
                if (sys.rx.size() < need)
                    break;
                std::vector<uint8_t> rec(sys.rx.begin(), sys.rx.begin() + (long)need);
                sys.rx.erase(sys.rx.begin(), sys.rx.begin() + (long)need);
                pty.out.insert(pty.out.end(), rec.begin(), rec.end());
                last_progress = sys.tb->cycle;
                if (r == 'I') {
                    continue;
                } else if (r == 'A') {
                    CHECK(!active && !hf.done.empty(), "'A' without a frame from the host");
                    if (active || hf.done.empty())
                        break;
                    HostFrames::Frame f = hf.done.front();
                    hf.done.pop_front();
                    CHECK(f.chk_ok, "the core accepted a frame with a bad checksum");
                    std::printf("host frame: inv_temp %u seed %u n_gen %d prompt", f.s.inv_temp,
                                f.s.seed, f.s.n_gen);
                    for (int t : f.s.prompt)
                        std::printf(" %d", t);
                    std::printf("\n");
                    sys.ref.begin(f.s);
                    active = true;
                    n_tok = 0;
                    ids.clear();
                    text.clear();
                } else if (r == 'T') {
                    int t = rec[1] | rec[2] << 8 | rec[3] << 16;
                    CHECK(active && !sys.ref.exp_tokens.empty(), "unexpected 'T' %d", t);
                    if (active && !sys.ref.exp_tokens.empty()) {
                        std::pair<int, int> e = sys.ref.exp_tokens.front();
                        sys.ref.exp_tokens.pop_front();
                        CHECK(t == e.second, "generated id %d, reference %d", t, e.second);
                        // the text as lg_tokenizer_print_piece prints it (a
                        // lone unprintable byte dropped)
                        const char *pc = sys.tok ? lg_tokenizer_decode(sys.tok, e.first, t) : "";
                        unsigned char b0 = (unsigned char)pc[0];
                        if (pc[0] && (pc[1] || std::isprint(b0) || std::isspace(b0)))
                            text += pc;
                    }
                    ids.push_back(t);
                    n_tok++;
                } else if (r == 'E' && (rec[1] & 0x10) && active) {
                    // (status bit 4, busy: a frame that came during the run,
                    // rejected; the run goes on)
                    CHECK(!hf.done.empty(), "a busy 'E' without a frame from the host");
                    if (!hf.done.empty())
                        hf.done.pop_back();
                    std::printf("host frame rejected: status 0x%02x (a run was on)\n", rec[1]);
                    runs++;
                } else if (r == 'E') {
                    int status = rec[1], count = rec[2] | rec[3] << 8;
                    if (active) {
                        Ref &ref = sys.ref;
                        int exp = (ref.err_pos ? 1 : 0) | (ref.err_tok ? 2 : 0);
                        CHECK(status == exp, "'E' status 0x%02x, expected 0x%02x", status, exp);
                        CHECK(count == n_tok, "'E' count %d, %d 'T' records came", count, n_tok);
                        CHECK(ref.tap.empty() && ref.exp_tokens.empty() &&
                                  ref.pos_done == (int)ref.inputs.size(),
                              "the run ended early: %d of %zu positions, %zu ids due",
                              ref.pos_done, ref.inputs.size(), ref.exp_tokens.size());
                        ref.end_kv_check();
                        std::printf("host ids:");
                        for (int t : ids)
                            std::printf(" %d", t);
                        std::printf("\nhost status: 0x%02x\n", status);
                        if (sys.tok) {
                            std::printf("host text:");
                            for (unsigned char c : text)
                                std::printf("%02x", c);
                            std::printf("\n");
                        }
                    } else {
                        CHECK(!hf.done.empty(), "'E' without a frame from the host");
                        if (!hf.done.empty())
                            hf.done.pop_front();
                        std::printf("host frame rejected: status 0x%02x\n", status);
                    }
                    std::fflush(stdout);
                    active = false;
                    runs++;
                } else {
                    CHECK(false, "unknown record byte 0x%02x", r);
                }
            }
            if (active && sys.tb->cycle - last_progress > watchdog) {
                CHECK(false, "no progress for %llu cycles (pos %u)",
                      (unsigned long long)watchdog, (unsigned)sys.m->st_pos);
                break;
            }
        }
    }
    // the last records to the host before the port goes away
    CHECK(pty.drain(10), "the host did not read the last %zu bytes", pty.out.size());
    return errors == 0;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    DecSetup ds;
    if (dec_setup("sim_decoder", &ds))
        return 2;
    lg_config &cfg = ds.cfg;
    lg_err err;

    // the flash image of the weight stream (as mkflash weights writes it)
    lg_wimage img;
    if (lg_wimage_build(&img, &ds.qm, cfg.hw.lanes, &err)) {
        std::printf("sim_decoder: %s\n", err.msg);
        return 2;
    }
    // (the marked layout: mkflash weights --marks)
    uint8_t *packed;
    int64_t npacked = 0;
    char why[256];
    if (lg_flash_build(&img, SIM_MARKS, &packed, &npacked, NULL, NULL, why, sizeof why)) {
        std::printf("sim_decoder: %s\n", why);
        return 2;
    }
    std::vector<uint8_t> bytes(packed, packed + npacked);
    free(packed);
    // the bytes a token reads: the image but (marked) the repeat marks ahead
    // of beat 0's mark, which the core's MARKS_LEAD (decoder_params.sh, from
    // the manifest) skips
    int64_t token_bytes = npacked - (SIM_MARKS ? (int64_t)cfg.hw.lanes * lg_wimage_marks_lead(&img, NULL, NULL) : 0);
    // +image=FILE: the flash image mkflash wrote for the board (make
    // decoder-weights' command); it must be the harness's own, byte for byte
    std::string image_arg = arg("image", "");
    if (!image_arg.empty() && image_arg != "erased") {
        std::string fs = read_file(image_arg);
        std::vector<uint8_t> fb(fs.begin(), fs.end());
        if (fb.empty()) {
            std::printf("sim_decoder: +image=%s: cannot read it\n", image_arg.c_str());
            return 2;
        }
        size_t d = 0;
        while (d < fb.size() && d < bytes.size() && fb[d] == bytes[d])
            d++;
        if (fb.size() != bytes.size() || d != fb.size()) {
            std::printf("sim_decoder: +image=%s: %zu bytes, the harness's image %zu; first "
                        "difference at byte %zu\n",
                        image_arg.c_str(), fb.size(), bytes.size(), d);
            return 2;
        }
        std::printf("sim_decoder: serving %s (the harness's own image, byte for byte)\n",
                    image_arg.c_str());
    }
    int64_t nbeats = img.nbeats;
    int32_t beat_nibbles = SIM_MARKS ? 2 * img.lanes : lg_flash_beat_nibbles(img.beat_bits);
    lg_wimage_free(&img);

    TB *tb = new TB(argc, argv, "sim_decoder");
    System sys;
    sys.tb = tb;
    sys.m = tb->m;
    sys.fl.load(LG_FLASH_BASE, bytes);
    sys.fl.powered_down = true; // as after a deep power-down; QE = 0 (an -IM part)
    sys.tok = ds.have_tok ? &ds.tok : nullptr;
    sys.quiet = has("quiet");
    sys.ref.qm = &ds.qm;
    sys.ref.vocab = cfg.m.vocab_size;
    sys.ref.seq_len = cfg.m.seq_len;
    if (lg_ref_model_init(&sys.ref.rm, &ds.qm, &err)) {
        std::printf("sim_decoder: %s\n", err.msg);
        return 2;
    }
    sys.ref.attach_kv(&sys.kvt, tb->ctx, cfg);
    std::printf("sim_decoder: %s, lanes %d, seq_len %d: %lld weight beats of %d nibbles "
                "(%s layout: %lld bytes at flash offset 0x%x)\n",
                arg("config", "260k").c_str(), cfg.hw.lanes, cfg.m.seq_len, (long long)nbeats,
                beat_nibbles, SIM_MARKS ? "marked" : "packed", (long long)bytes.size(),
                LG_FLASH_BASE);

    // boot (after a reset): the reader's wake-up and quad enable, then its
    // image check (a burst from beat 0, whose first flash beat must be a
    // mark); the first boot's cycles until loaded in t_load
    uint64_t t_load = 0; // the first boot's (from deep power-down)
    bool booted = false;
    auto boot = [&]() {
        // (through sys.tick: the flash sees the pins of the reset cycles too,
        // CS# rising over a burst that a reset cut; a burst still reading
        // marks, SCK running, is let stall first: the model flags CS#
        // rising on the edge SCK falls, which a reset mid-pulse does)
        for (int q = 0, i = 0; booted && q < 16 && i < 200000; i++) {
            q = tb->m->spi_sck ? 0 : q + 1;
            sys.tick();
        }
        tb->m->rxd = 1;
        tb->m->rst = 1;
        for (int i = 0; i < 4; i++)
            sys.tick();
        tb->m->rst = 0;
        tb->settle();
        uint64_t t = 0;
        for (; !tb->m->st_loaded && t < 100000; t++)
            sys.tick();
        CHECK(tb->m->st_loaded, "the flash reader never became ready");
        if (!booted)
            t_load = t;
        booted = true;
        // the check's first flash beat: 42 + 4 + IN_LAT cycles at SCK = clk
        for (int i = 0; i < 200; i++)
            sys.tick();
    };

    // a position reads the whole image: 2 clk per byte (SCK = clk) plus the
    // command (the watchdog leaves room for SCK = clk / 2's 4 as well)
    uint64_t watchdog = 200000 + 8ull * (uint64_t)bytes.size() * 4;
    if (has("errtest") && !has("pty") && SIM_MARKS) {
        // the image check: no marked image at 1 MiB, every frame rejected
        lg_wimage pimg;
        uint8_t *pk;
        int64_t npk = 0;
        if (lg_wimage_build(&pimg, &ds.qm, cfg.hw.lanes, &err)) {
            std::printf("sim_decoder: %s\n", err.msg);
            return 2;
        }
        if (lg_flash_build(&pimg, 0, &pk, &npk, NULL, NULL, why, sizeof why)) {
            std::printf("sim_decoder: the packed image: %s\n", why);
            lg_wimage_free(&pimg);
            return 2;
        }
        lg_wimage_free(&pimg);
        // (other weights: the marked image with every mark's tag nibble
        // changed, as an image of another model has a different tag; a data
        // beat never has 0x80 in lane 0)
        std::vector<uint8_t> other = bytes;
        int nl = cfg.hw.lanes;
        for (size_t f = 0; f + (size_t)nl <= other.size(); f += (size_t)nl)
            if (other[f] == 0x80)
                other[f + (size_t)nl - 1] ^= 0xf0;
        std::vector<std::vector<uint8_t>> bad = {
            std::vector<uint8_t>(bytes.size(), 0xff), std::vector<uint8_t>(pk, pk + npk), other};
        free(pk);
        const char *what[] = {"the flash erased", "the packed layout's image",
                              "a marked image of other weights (another tag)"};
        for (size_t k = 0; k < bad.size(); k++) {
            std::vector<uint8_t> clear(bytes.size() > bad[k].size() ? bytes.size() : bad[k].size(),
                                       0xff);
            sys.fl.load(LG_FLASH_BASE, clear);
            sys.fl.load(LG_FLASH_BASE, bad[k]);
            boot();
            CHECK(tb->m->st_err_image, "%s: st_err_image low after the boot", what[k]);
            Sequence r = ds.main_seq;
            std::string w = std::string("image check, ") + what[k] +
                            " (rejected, status 0x40; the core must not start)";
            r.what = w.c_str();
            if (!sys.run(r, false, 0x40, watchdog))
                break;
            std::printf("image check, %s: st_err_image up after the boot, frame rejected "
                        "(0x40)\n", what[k]);
        }
        std::vector<uint8_t> clear(bytes.size() + bad[1].size(), 0xff);
        sys.fl.load(LG_FLASH_BASE, clear);
        sys.fl.load(LG_FLASH_BASE, bytes);
    }
    // +image=erased: the host's view of a board whose flash was never
    // written (the pty runs: lgtok.py's message for status bit 6)
    bool erased = image_arg == "erased";
    if (erased)
        sys.fl.load(LG_FLASH_BASE, std::vector<uint8_t>(bytes.size(), 0xff));
    boot();
    CHECK(tb->m->st_err_image == erased, "st_err_image %d with the %s image",
          (int)tb->m->st_err_image, erased ? "erased" : "marked");

    auto s0 = std::chrono::steady_clock::now();
    uint64_t c0 = tb->cycle;
    Sequence main_seq = ds.main_seq;
    main_seq.what = "main";
    bool ok = errors == 0;
    if (ok && has("errtest") && !has("pty")) {
        Sequence r = main_seq;
        r.what = "bad checksum (rejected; the core must not start)";
        ok = sys.run(r, true, 0x04, watchdog);
        Sequence e;
        e.prompt = {1, cfg.m.vocab_size};
        e.n_gen = 3;
        e.inv_temp = 0;
        e.seed = 7;
        e.what = "last prompt id >= vocab (st_err_token; no sampling)";
        ok = ok && sys.run(e, false, -1, watchdog);
    }
    if (has("pty")) {
        PtyLink pty;
        ok = ok && pty.open_pty(arg("pty", ""));
        ok = ok && serve(sys, pty, (int)argi("runs", 1), (double)argi("idle", 300), watchdog);
        // the host closes its side after the last record; give it the time
        // to read it before the master side goes
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } else {
        ok = ok && sys.run(main_seq, false, -1, watchdog);
    }
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    uint64_t cycles = tb->cycle - c0;

    // every token's burst from beat 0 starts at beat 0's own mark, past the
    // leading repeats (the core's MARKS_LEAD from the manifest); no read
    // starts lower (the packed layout: at beat 0)
    uint32_t want_min = LG_FLASH_BASE + (uint32_t)(npacked - token_bytes);
    CHECK(sys.fl.min_read_addr == want_min,
          "the lowest flash read started at 0x%x, not 0x%x (beat 0's mark: MARKS_LEAD)",
          sys.fl.min_read_addr, want_min);
    for (size_t i = 0; i < sys.fl.errors.size() && i < 10; i++)
        CHECK(false, "flash: %s", sys.fl.errors[i].c_str());
    for (size_t i = 0; i < sys.fl.notes.size() && i < 10; i++)
        CHECK(false, "flash note: %s", sys.fl.notes[i].c_str());

    // report: a position is flash-bound (one pass over the image per token)
    size_t np = sys.pos_cycles.size();
    if (np > 0) {
        uint64_t mn = sys.pos_cycles[0], mx = sys.pos_cycles[0];
        for (uint64_t c : sys.pos_cycles) {
            mn = c < mn ? c : mn;
            mx = c > mx ? c : mx;
        }
        std::printf("\nflash reader ready %llu cycles after the first reset; cycles/token %llu..%llu over "
                    "%zu positions (the image's read alone, 2 clk a byte: %lld): %.1f - %.1f tokens/s at the board "
                    "build's %g MHz, %.1f - %.1f at 30 MHz\n",
                    (unsigned long long)t_load, (unsigned long long)mn, (unsigned long long)mx,
                    np, (long long)(2 * token_bytes), (double)BOARD_HZ / (double)mx,
                    (double)BOARD_HZ / (double)mn, BOARD_HZ / 1e6, 30e6 / (double)mx,
                    30e6 / (double)mn);
    }
    sys.kvt.report();
    std::printf("simulated: %llu cycles in %.2f s = %.0f cycles/s\n", (unsigned long long)cycles,
                wall, wall > 0 ? (double)cycles / wall : 0.0);
    lg_ref_model_free(&sys.ref.rm);
    dec_teardown(&ds);
    int rc = tb->finish(errors == 0);
    delete tb;
    return rc;
}
