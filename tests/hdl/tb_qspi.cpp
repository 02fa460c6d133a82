// tb_qspi: the QSPI weight stream (lg_qspi_stream) reading flash images
// packed by lg_flash_pack (examples/fpga/icebreaker/flash_image.h) from the
// pin-level flash model (sim/flash_model.h).
//
// The model (tb_qspi_top, verilated with --prefix Vdut) holds eight instances
// (tests/hdl/gen_fpga_units.c, table in tb_qspi_cfg.h), each with its own
// flash model, all running at once:
//   a  the 260k synthetic model's whole weight stream at lanes 4 (64832
//      beats of 9 nibbles at 1 MiB); the flash starts in deep power-down
//      with QE = 0 and a slow volatile status write (the BUSY poll loops)
//   b  lanes 1 (3 nibbles a beat), random image at an odd base, IN_LAT 1,
//      no boot sequence
//   c  lanes 64 (two dexps, 130-nibble beats), IN_LAT 2, QE set at boot
//   d  lanes 16 (33 nibbles), image ending at the last flash byte
//   e  SCK_DDR (SCK = clk): lanes 2 (5 nibbles a beat, the iCEBreaker
//      decoder's reader), IN_LAT 2, from deep power-down, QE set
//   f  SCK_DDR: lanes 64 (whole bytes), IN_LAT 1, random image at an odd base
//   g  MARKS: the 260k model's stream at lanes 2 in the marked layout (each
//      dexp once, in a mark beat: lg_flash_pack_marks), the iCEBreaker
//      decoder's reader (SCK_DDR, IN_LAT 2, from deep power-down); its
//      streams start where the decoder's do, at beat 0 and at classifier
//      rows (the embedding rows), the only starts the layout addresses
//   h  MARKS at SCK = clk / 2: the same model at lanes 8 (a mark every 4
//      beats at most), IN_LAT 2
// With one dexp a beat is an odd number of nibbles, so every odd beat
// starts in the middle of a byte: the random ranges below start at odd
// beats too (the reader's skipped nibble).
// For each the bench checks:
//  - boot: start is ignored until loaded; loaded rises; afterwards the
//    flash is awake with QE = 1 (volatile only: the non-volatile status is
//    untouched);
//  - every beat of every stream equal to the C image (lg_wimage: mantissas
//    and dexps), m_w_last only on the image's last beat, valid held and data
//    stable while not ready; a stream to the image's end: done the cycle
//    after the last handshake with busy falling; a shorter one (the bench
//    takes beats first .. last, then stops taking) is cut by the next
//    stream's start: busy stays high, no done, the beat not taken dropped;
//  - random downstream backpressure (bursts of ready low up to 120 cycles);
//  - a stall-free stream: first beat after the latency the header states
//    (one SCK more from an odd beat of an odd NW), one beat every 2 * NW
//    cycles (SCK_DDR: NW; NW = nibbles a beat);
//  - restarts: cut streams (for a: a restart in the middle of a token),
//    one beat, back-to-back streams (the next start the cycle after done or
//    after the last beat owed);
//  - the flash model's protocol and timing checks (mode 0, hold, tSHSL,
//    tRES1, tSHQZ, tCLQV, contention, SCK rate at the instance's clk) and
//    one read command per stream with no over-read beyond one byte (a cut
//    stream's read-ahead: at most two beats but a nibble and a byte);
//  - MARKS (g, h), the image check: err_image stays low through every
//    decoder-style start of the program (the image written with its tag,
//    IMAGE_TAG the same); then a start whose burst begins at a data beat
//    (g) or at a mark whose tag nibble the bench spoiled (h) raises it when
//    that beat would have come, and it stays up through the next start (one
//    read command each more).
// Plusargs: +seed=N (default 1), +trace[=FILE].
#include "Vdut.h"
#include "flash_model.h"
#include "tb_qspi_cfg.h"
#include "testb.h"

extern "C" {
#include "flash_image.h"
#include "llamagen/checkpoint.h"
#include "llamagen/emit_mem.h"
#include "llamagen/quantize.h"
}

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

typedef TESTB<Vdut> TB;

static std::mt19937_64 rng;
static int errors = 0;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (errors++ < 30) {                                                             \
                std::printf("FAIL %s:%d: ", __FILE__, __LINE__);                           \
                std::printf(__VA_ARGS__);                                                    \
                std::printf("\n");                                                           \
            }                                                                                \
        }                                                                                    \
    } while (0)

// ---- beats as bit vectors ------------------------------------------------------

typedef std::vector<uint32_t> Beat; // beat bits in 32-bit words, lsb first

static Beat beat_of(const lg_wimage *img, int64_t b)
{
    Beat v((size_t)(img->beat_bits + 31) / 32, 0);
    const uint64_t *w = img->beats + (size_t)b * (size_t)img->words;
    for (size_t i = 0; i < v.size(); i++)
        v[i] = (uint32_t)(w[i / 2] >> (32 * (i % 2)));
    return v;
}

template <typename T> static void get_words(std::vector<uint32_t> &w, const T &port, int n)
{
    uint64_t v = (uint64_t)port;
    w.assign((size_t)(n + 31) / 32, 0);
    for (size_t i = 0; i < w.size(); i++)
        w[i] = (uint32_t)(v >> (32 * i));
}

template <std::size_t N>
static void get_words(std::vector<uint32_t> &w, const VlWide<N> &port, int n)
{
    w.assign((size_t)(n + 31) / 32, 0);
    for (size_t i = 0; i < w.size(); i++)
        w[i] = port[i];
}

// ---- one instance's ports --------------------------------------------------------

struct Io {
    virtual ~Io() {}
    virtual void start(bool v, uint32_t first) = 0;
    virtual void ready(bool r) = 0;
    virtual bool valid() = 0;
    virtual bool loaded() = 0;
    virtual bool err_image() = 0;
    virtual void mant(std::vector<uint32_t> &w, int bits) = 0;
    virtual void dexp(std::vector<uint32_t> &w, int bits) = 0;
    virtual int cs_n() = 0;
    virtual int sck() = 0;
    virtual uint8_t io_o() = 0;
    virtual uint8_t io_oe() = 0;
    virtual void pad(uint8_t v) = 0;
};

#define IO_CLASS(P)                                                                          \
    struct Io_##P : Io {                                                                     \
        Vdut *m;                                                                             \
        explicit Io_##P(Vdut *mm) : m(mm) {}                                                 \
        void start(bool v, uint32_t first) override                                          \
        {                                                                                    \
            m->P##_start = v;                                                                \
            m->P##_start_addr = first;                                                       \
        }                                                                                    \
        void ready(bool r) override { m->P##_m_ready = r; }                                  \
        bool valid() override { return m->P##_m_valid; }                                    \
        bool loaded() override { return m->P##_loaded; }                                     \
        bool err_image() override { return m->P##_err_image; }                               \
        void mant(std::vector<uint32_t> &w, int n) override { get_words(w, m->P##_m_mant, n); } \
        void dexp(std::vector<uint32_t> &w, int n) override { get_words(w, m->P##_m_dexp, n); } \
        int cs_n() override { return m->P##_cs_n; }                                          \
        int sck() override { return m->P##_sck; }                                           \
        uint8_t io_o() override { return m->P##_io_o; }                                      \
        uint8_t io_oe() override { return m->P##_io_oe; }                                    \
        void pad(uint8_t v) override { m->P##_pad_i = v; }                                   \
    };

#define X_IO(P, ...) IO_CLASS(P)
TBQ_FOREACH(X_IO)

// ---- the 260k weight image, exactly as gen_fpga_units builds it -----------------

// (the image's matrices point into qm, which the caller frees after it)
static int image_260k(lg_wimage *img, lg_qmodel &qm, int lanes)
{
    lg_err err = {{0}};
    lg_config cfg;
    lg_weights w;
    if (lg_config_preset("260k", &cfg, &err) || lg_weights_synthetic(&cfg.m, 260, &w, &err)) {
        std::printf("tb_qspi: %s\n", err.msg);
        return -1;
    }
    lg_quant_opts o;
    lg_quant_opts_default(&o);
    o.smooth_k = 0;
    int rc = lg_quantize_model(&qm, &cfg, &w, &o, &err);
    lg_weights_free(&w);
    if (!rc) {
        rc = lg_wimage_build(img, &qm, lanes, &err);
        if (rc)
            lg_qmodel_free(&qm);
    }
    if (rc)
        std::printf("tb_qspi: %s\n", err.msg);
    return rc;
}

// Random beats in an lg_wimage (beats owned by the caller's vector).
static void image_random(lg_wimage *img, std::vector<uint64_t> &store, int lanes, int group,
                         long nbeats)
{
    *img = lg_wimage{};
    img->lanes = lanes;
    img->group = group;
    img->ndexp = lg_wimage_ndexp(lanes, group);
    img->beat_bits = 8 * lanes + 4 * img->ndexp;
    img->words = (img->beat_bits + 63) / 64;
    img->nbeats = nbeats;
    store.assign((size_t)nbeats * (size_t)img->words, 0);
    for (long b = 0; b < nbeats; b++)
        for (int k = 0; k < img->beat_bits; k++)
            store[(size_t)b * img->words + (size_t)k / 64] |= (uint64_t)(rng() & 1) << (k % 64);
    img->beats = store.data();
}

// ---- one instance's test program ---------------------------------------------------

struct Stream {
    uint32_t first, last;
    bool stall_free;
    bool back_to_back; // start the cycle after the previous stream's last beat
    // stall_free with each beat taken `delay` cycles after it became valid
    // (the lanes-2 mat-vec's 2): the rate must still be the flash's
    int delay;
};

struct Runner {
    const char *name;
    Io *io;
    int lanes, group, in_lat, clk_ns, nw, csh; // nw: nibbles a beat
    int ddr; // SCK_DDR: a pulse is the second half of a cycle, the bus sampled at its start
    int marks; // MARKS: flash beats of 2 * lanes nibbles, fidx[b] the flash beat of beat b
    long lead; // MARKS_LEAD: a burst from beat 0 starts at this flash beat (0: at 0)
    std::vector<int64_t> fidx;
    long depth;
    FlashModel fl;
    lg_wimage img;
    std::vector<uint64_t> store;
    bool own_img = false;
    lg_qmodel qm; // the model image's matrices (own_img)
    std::vector<Stream> prog;

    // state
    enum { BOOT, GAP, RUN, PROBE, FIN } st = BOOT;
    size_t si = 0;          // stream index
    uint64_t t0 = 0;        // start cycle of the running stream
    uint32_t next = 0;      // next beat expected
    uint64_t first_valid = 0, last_fire = 0;
    bool prev_stall = false;
    Beat prev;
    int stall_left = 0;
    int gap = 0;
    bool start_now = false;
    bool from_cut = false; // the running stream's start cut a burst (not the first)
    uint64_t boot_cycle = 0;
    uint64_t expect_bytes = 0, read_ahead_max = 0;
    bool probed_before_load = false;
    // MARKS, after the program: the image check (err_image), from a start
    // whose first flash beat is a data beat (probe 1), then sticky through a
    // classifier row's start (probe 2, 3)
    int probe = 0;
    uint64_t probe_t = 0, probe_lat = 0;
    uint32_t probe_s = 0;
    // probe 1 from a classifier row whose first mark's tag nibble the bench
    // spoiled (an image of other weights) instead of from a data beat
    bool probe_tag = false;
    long base = 0;
    bool err_early = false;

    Runner(const char *n, Io *i, int l, int g, long d, int lat, int ns, int cs_high, int dd,
           int mk, long ld)
        : name(n), io(i), lanes(l), group(g), in_lat(lat), clk_ns(ns), ddr(dd), marks(mk), lead(ld),
          depth(d), fl(16u << 20, 7)
    {
        // the reader's CS# high time: CS_HIGH_CYCLES, at least IN_LAT + 2
        csh = cs_high > lat + 2 ? cs_high : lat + 2;
        nw = mk ? 2 * l : lg_flash_beat_nibbles(8 * l + 4 * lg_wimage_ndexp(l, g));
    }

    // flash beats from a burst's start to stream beat b, b's own included
    // (1 without marks: the burst starts at b; with marks at the flash beat
    // b + b / (group / lanes), the marks in front of b counted; from beat 0
    // at MARKS_LEAD, past the leading repeats)
    uint64_t flash_beats_to(uint32_t first, uint32_t b) const
    {
        if (!marks)
            return (uint64_t)(b - first) + 1;
        int64_t s0 = first == 0 ? (int64_t)lead : (int64_t)first + (int64_t)first / (group / lanes);
        return (uint64_t)(fidx[b] - s0) + 1;
    }

    Beat expected(uint32_t b) const { return beat_of(&img, b); }

    Beat data()
    {
        std::vector<uint32_t> mw, dw;
        int nd = lg_wimage_ndexp(lanes, group);
        io->mant(mw, 8 * lanes);
        io->dexp(dw, 4 * nd);
        int bits_n = 8 * lanes + 4 * nd;
        Beat v((size_t)(bits_n + 31) / 32, 0);
        for (int k = 0; k < bits_n; k++) {
            uint32_t bit = k < 8 * lanes
                               ? (mw[(size_t)k / 32] >> (k % 32)) & 1u
                               : (dw[(size_t)(k - 8 * lanes) / 32] >> ((k - 8 * lanes) % 32)) & 1u;
            v[(size_t)k / 32] |= bit << (k % 32);
        }
        return v;
    }

    // cycles from start to the first beat, and between beats, as the header
    // states (an odd first beat of an odd nw skips a nibble: one SCK more)
    // (MARKS: the marks in front of the first beat are read first)
    uint64_t lat_first(uint32_t first) const
    {
        uint64_t skip = (nw % 2) && (first % 2) ? 1 : 0;
        uint64_t nib = (uint64_t)nw * flash_beats_to(first, first) + skip;
        return ddr ? 42 + nib + (uint64_t)in_lat : 81 + 2 * nib + (uint64_t)in_lat;
    }
    // cycles from beat b - 1 to beat b (MARKS: a mark between them costs a beat)
    uint64_t period(uint32_t b) const
    {
        uint64_t f = marks ? (uint64_t)(fidx[b] - fidx[b - 1]) : 1;
        return (ddr ? 1 : 2) * (uint64_t)nw * f;
    }

    bool ready_now(const Stream &s, uint64_t cycle)
    {
        if (s.stall_free)
            return !s.delay || (valid_since && cycle >= valid_since + (uint64_t)s.delay);
        if (stall_left > 0) {
            stall_left--;
            return false;
        }
        if (rng() % 100 < 3) {
            stall_left = (int)(rng() % 120);
            return false;
        }
        return rng() % 100 < 75;
    }

    // Inputs for this cycle, then outputs checked (called between settle and
    // tick; `cycle` = tb.cycle).
    void cycle_pre(uint64_t cycle)
    {
        io->start(false, 0);
        io->ready(false);
        rdy_now = false;
        if (st == BOOT) {
            // a start during boot must be ignored
            if (cycle % 97 == 5 && !io->loaded()) {
                io->start(true, 0);
                probed_before_load = true;
            }
            return;
        }
        if (st == GAP) {
            if (gap > 0) {
                gap--;
                return;
            }
            if (si == prog.size()) {
                st = marks ? PROBE : FIN;
                return;
            }
            const Stream &s = prog[si];
            io->start(true, s.first);
            from_cut = si > 0;
            t0 = cycle;
            next = s.first;
            first_valid = 0;
            valid_since = 0;
            last_fire = 0;
            prev_stall = false;
            expect_bytes += marks ? flash_beats_to(s.first, s.last) * (uint64_t)lanes + 1
                                  : (uint64_t)lg_flash_range_bytes(4 * nw, s.first, s.last) + 1;
            // the reader reads ahead while the bench takes no beats: the
            // next beat and all but the last nibble of the one after it in
            // the assembly register (the +1 above covers the first nibble
            // of the byte after a stream's last one)
            read_ahead_max += (uint64_t)nw + 1;
            st = RUN;
            return;
        }
        if (st == PROBE) {
            // no beat is taken: the first flash beat, then the output
            // register holds the burst
            if (probe == 0) {
                uint32_t c = (uint32_t)img.mats[img.nmats - 1].first;
                probe_s = bad_start();
                if (probe_tag) {
                    // the row after the classifier's first: its first flash
                    // beat is a mark; flip its tag nibble's low bit
                    probe_s = c + (uint32_t)row_beats();
                    uint64_t f = (uint64_t)probe_s + probe_s / (uint32_t)(group / lanes);
                    fl.mem[(size_t)base + f * (uint64_t)lanes + (uint64_t)lanes - 1] ^= 0x10;
                }
                io->start(true, probe_s);
                probe_t = cycle;
                probe = 1;
                read_ahead_max += 4 * (uint64_t)lanes + (uint64_t)nw + 4;
            } else if (probe == 2) {
                uint32_t c = (uint32_t)img.mats[img.nmats - 1].first;
                io->start(true, c);
                probe_t = cycle;
                probe = 3;
                read_ahead_max += 4 * (uint64_t)lanes + (uint64_t)nw + 4;
            }
            return;
        }
        if (st != RUN)
            return;
        const Stream &s = prog[si];
        // (no beat is taken past the owed ones: a cut stream waits for the
        // next start)
        rdy_now = cycle > t0 && next <= s.last && ready_now(s, cycle);
        io->ready(rdy_now);
    }

    // Beats of a classifier row
    int64_t row_beats() const
    {
        return (img.mats[img.nmats - 1].m->cols + lanes - 1) / lanes;
    }

    // The first beat s > 0 whose burst starts at a data beat (the address
    // rule s + s / (group / lanes) is exact only at the decoder's starts)
    uint32_t bad_start() const
    {
        std::vector<char> data_at((size_t)fidx.back() + 1, 0);
        for (int64_t f : fidx)
            data_at[(size_t)f] = 1;
        for (uint32_t b = 1; b < (uint32_t)depth; b++) {
            uint64_t f = (uint64_t)b + b / (uint32_t)(group / lanes);
            if (f < data_at.size() && data_at[(size_t)f])
                return b;
        }
        return 0;
    }

    void cycle_check(uint64_t cycle)
    {
        // every start of the program is one the decoder makes (beat 0, a
        // classifier row) or, without MARKS, no check at all: no error
        if (st != PROBE && st != FIN && io->err_image() && !err_early) {
            CHECK(false, "%s: err_image up in stream %zu (a good image)", name, si);
            err_early = true;
        }
        if (st == PROBE) {
            uint64_t want = ddr ? 42 + (uint64_t)nw + (uint64_t)in_lat
                                : 81 + 2 * (uint64_t)nw + (uint64_t)in_lat;
            if (probe == 1 && io->err_image()) {
                // rises as a beat would become valid: after the cut burst's
                // CS# high time, then a whole flash beat from idle
                probe_lat = cycle - probe_t;
                CHECK(probe_s > 0 && probe_lat > want && probe_lat <= want + (uint64_t)csh + 4,
                      "%s: err_image %llu cycles after the start at beat %u, expected %llu "
                      "(+ up to %d after a cut)",
                      name, (unsigned long long)probe_lat, probe_s, (unsigned long long)want,
                      csh + 4);
                probe = 2;
            } else if (probe == 1 && cycle - probe_t > want + (uint64_t)csh + 40) {
                CHECK(false, "%s: err_image never rose for a burst from beat %u (flash beat "
                             "%u: %s)", name, probe_s, probe_s + probe_s / (group / lanes),
                      probe_tag ? "a mark, its tag nibble spoiled" : "a data beat");
                st = FIN;
            } else if (probe == 3) {
                CHECK(io->err_image(), "%s: err_image fell after a start", name);
                if (cycle - probe_t > 2 * want + 200)
                    st = FIN;
            }
            return;
        }
        if (st == BOOT) {
            if (io->loaded()) {
                boot_cycle = cycle;
                st = GAP;
                gap = 3;
            }
            return;
        }
        if (st != RUN)
            return;
        const Stream &s = prog[si];
        // the start cycle: a beat of the burst being cut may still be
        // offered (dropped with the start)
        if (cycle == t0) {
            prev_stall = false;
            return;
        }
        if (next > s.last) {
            // every owed beat taken: the reader streams on (the next beat
            // waits) until the next start cuts the burst
            if (s.stall_free) {
                check_first_latency(s.first);
                std::printf("%s: stall-free %llu beats%s: first beat after %llu cycles, last after "
                            "%llu (%d cycles per flash beat)\n",
                            name, (unsigned long long)(s.last - s.first + 1),
                            s.delay ? ", each taken 2 cycles after its valid" : "",
                            (unsigned long long)(first_valid - t0),
                            (unsigned long long)(last_fire - t0), (ddr ? 1 : 2) * nw);
            }
            next_stream();
            return;
        }
        bool v = io->valid();
        bool rdy = rdy_now;
        if (prev_stall) {
            CHECK(v, "%s: valid dropped while stalled at beat %u", name, next);
            CHECK(data() == prev, "%s: data changed while stalled at beat %u", name, next);
        }
        if (v) {
            if (!first_valid)
                first_valid = cycle;
            CHECK(next <= s.last, "%s: beat past the end", name);
            Beat d = data();
            if (next <= s.last && d != expected(next))
                CHECK(false, "%s: beat %u differs (word 0 %08x vs %08x)", name, next, d[0],
                      expected(next)[0]);
            prev = d;
        }
        bool fire = v && rdy;
        prev_stall = v && !fire;
        valid_since = v && !fire ? (valid_since ? valid_since : cycle) : 0;
        if (fire) {
            if (s.stall_free && last_fire)
                CHECK(cycle - last_fire == period(next),
                      "%s: beats %llu cycles apart, expected %d", name,
                      (unsigned long long)(cycle - last_fire), (int)period(next));
            last_fire = cycle;
            next++;
        }
        if (cycle - t0 > 200 * (uint64_t)nw * (s.last - s.first + 1) + 100000) {
            CHECK(false, "%s: stream %zu stuck at beat %u", name, si, next);
            st = FIN;
        }
    }

    bool rdy_now = false;     // m_w_ready driven this cycle
    uint64_t valid_since = 0; // the cycle the beat offered became valid (0: none)

    // From idle as the header states; a start that cuts a burst waits for
    // SCK low, S_FIN and the CS# high time first (CSH + 4 cycles at most).
    void check_first_latency(uint32_t first)
    {
        uint64_t lat = first_valid - t0, want = lat_first(first);
        CHECK(from_cut ? (lat > want && lat <= want + (uint64_t)csh + 4) : lat == want,
              "%s: first beat %llu cycles after start, header says %llu (+ up to %d after a cut)",
              name, (unsigned long long)lat, (unsigned long long)want, csh + 4);
    }

    // The stream's beats are taken; the next start cuts the burst.
    void next_stream()
    {
        si++;
        st = GAP;
        // back to back: start the cycle after the last beat owed (the next
        // beat may be on its way); a stall-free stream waits for the reader
        // to stall (its output register full), then its start cuts that
        if (si < prog.size() && prog[si].back_to_back)
            gap = 0;
        else if (si < prog.size() && prog[si].stall_free)
            gap = 30 + (int)(rng() % 50);
        else
            gap = (int)(rng() % 50);
    }

    // After the clock edge: the flash sees the pins, the pads see the flash.
    // SCK_DDR: SCK low in the first half of the cycle (a pulse in flight
    // falls with the edge), the input register samples the bus at clk
    // falling, then SCK rises if spi_sck is high (a DDR output with D_OUT_0
    // low and D_OUT_1 = spi_sck).
    void cycle_post(uint64_t cycle)
    {
        uint64_t t = cycle * (uint64_t)clk_ns;
        if (ddr) {
            io->pad(fl.step_ddr(t, (uint64_t)clk_ns / 2, io->cs_n(), io->sck(), io->io_o(),
                                io->io_oe()));
        } else {
            fl.step(t, io->cs_n(), io->sck(), io->io_o(), io->io_oe());
            io->pad(fl.bus(io->io_o(), io->io_oe()));
        }
    }
};

// The marked layout's plan (flash_image.h) on img (the lanes-2 model image):
// the address rule exact at every classifier row start, and each image the
// layout cannot take refused with its reason.
static void check_marks_plan(const lg_wimage *img, const lg_wimage *two_dexp)
{
    char why[256];
    int64_t bpg = img->group / img->lanes;
    std::vector<int64_t> fidx((size_t)img->nbeats);
    int64_t nf = lg_flash_marks_plan(img, fidx.data(), NULL, why, sizeof why);
    CHECK(nf == img->nbeats + img->nbeats / bpg, "marks plan: %lld flash beats", (long long)nf);
    const lg_wimage_mat *cls = &img->mats[img->nmats - 1];
    int64_t c = cls->first, bpr = (cls->m->cols + img->lanes - 1) / img->lanes, bad = 0;
    for (int64_t s = c; nf > 0 && s < img->nbeats; s += bpr)
        bad += fidx[(size_t)s] - 1 != s + s / bpg; // the row's mark at s + s / bpg
    CHECK(bad == 0, "marks plan: %lld classifier rows off the rule",
          (long long)bad);
    // beat 0's mark at lg_wimage_marks_lead (the reader's MARKS_LEAD), the
    // repeats in front of it, and their count with the changes C / bpg
    int64_t changes = 0, lead = lg_wimage_marks_lead(img, &changes, NULL);
    CHECK(nf > 0 && lead > 0 && fidx[0] == lead + 1 && lead + changes == c / bpg,
          "marks plan: beat 0 at flash beat %lld, lead %lld, %lld changes, %lld marks",
          (long long)(nf > 0 ? fidx[0] : -1), (long long)lead, (long long)changes,
          (long long)(c / bpg));
    std::printf("marks plan: %lld leading repeats (%lld dexp changes), skipped from beat 0\n",
                (long long)lead, (long long)changes);
    // refusals: a copy of the beats (and the matrix table) to spoil
    std::vector<uint64_t> beats(img->beats, img->beats + (size_t)img->nbeats * img->words);
    std::vector<lg_wimage_mat> mats(img->mats, img->mats + img->nmats);
    lg_wimage w = *img;
    w.beats = beats.data();
    w.mats = mats.data();
    struct { const char *what, *want; } cases[] = {
        {"a lane-0 mantissa of -128", "holds -128, the mark code"},
        {"a dexp change at every beat", "has room for"},
        {"the classifier off a group boundary", "classifier at a group boundary"},
    };
    for (int k = 0; k < 3; k++) {
        beats.assign(img->beats, img->beats + (size_t)img->nbeats * img->words);
        mats.assign(img->mats, img->mats + img->nmats);
        if (k == 0)
            beats[5 * (size_t)img->words] = (beats[5 * (size_t)img->words] & ~0xffull) | 0x80;
        if (k == 1)
            for (int64_t b = 0; b < c; b++) {
                uint64_t &x = beats[(size_t)b * img->words];
                int sh = 8 * img->lanes; // the dexp (one word at lanes 2)
                x = (x & ~(0xfull << sh)) | ((uint64_t)(b & 1) << sh);
            }
        if (k == 2)
            mats[(size_t)img->nmats - 1].first += 1;
        why[0] = 0;
        int64_t r = lg_flash_marks_plan(&w, NULL, NULL, why, sizeof why);
        CHECK(r < 0 && std::strstr(why, cases[k].want), "marks plan, %s: %lld, '%s'",
              cases[k].what, (long long)r, why);
        std::printf("marks plan, %s: refused: %s\n", cases[k].what, why);
    }
    why[0] = 0;
    CHECK(lg_flash_marks_plan(two_dexp, NULL, NULL, why, sizeof why) < 0 &&
              std::strstr(why, "one dexp a beat"),
          "marks plan, two dexps a beat: '%s'", why);
    std::printf("marks plan, two dexps a beat: refused: %s\n", why);
}

int main(int argc, char **argv)
{
    TB tb(argc, argv, "tb_qspi");
    rng.seed(tb.plusarg("seed", 1));

    std::vector<Runner *> rs;
#define X_RUN(P, LANES, GROUP, DEPTH, BASE, WAKE, TRES, QE, CSH, LAT, NS, MODEL, PD, FQE, DDR, \
              MARKS, LEAD)                                                                     \
    {                                                                                          \
        Runner *r = new Runner(#P, new Io_##P(tb.m), LANES, GROUP, DEPTH, LAT, NS, CSH, DDR,   \
                               MARKS, LEAD);                                                   \
        if (MODEL) {                                                                           \
            if (image_260k(&r->img, r->qm, LANES))                                             \
                return tb.finish(false);                                                       \
            r->own_img = true;                                                                 \
            CHECK(r->img.nbeats == DEPTH, "%s: image has %lld beats, wrapper %ld", #P,         \
                  (long long)r->img.nbeats, (long)DEPTH);                                      \
        } else {                                                                               \
            image_random(&r->img, r->store, LANES, GROUP, DEPTH);                              \
        }                                                                                      \
        uint8_t *packed;                                                                       \
        int64_t npacked = 0;                                                                   \
        char why[256];                                                                         \
        r->fidx.resize(MARKS ? (size_t)r->img.nbeats : 0);                                     \
        if (lg_flash_build(&r->img, MARKS, &packed, &npacked, MARKS ? r->fidx.data() : NULL,   \
                           NULL, why, sizeof why)) {                                           \
            CHECK(false, "%s: %s", #P, why);                                                   \
            return tb.finish(false);                                                           \
        }                                                                                      \
        std::vector<uint8_t> bytes(packed, packed + npacked);                                  \
        free(packed);                                                                          \
        r->fl.load((size_t)(BASE), bytes);                                                     \
        r->base = (long)(BASE);                                                                \
        r->probe_tag = std::string(#P) == "h";                                                 \
        r->fl.powered_down = PD;                                                               \
        r->fl.sr2 = r->fl.sr2_nv = FQE ? 0x02 : 0x00;                                          \
        rs.push_back(r);                                                                       \
    }
    TBQ_FOREACH(X_RUN)

    // the marked layout's plan: g's image (lanes 2), c's (two dexps a beat)
    for (Runner *r : rs)
        if (std::string(r->name) == "g")
            for (Runner *r2 : rs)
                if (std::string(r2->name) == "c")
                    check_marks_plan(&r->img, &r2->img);

    // test programs
    for (Runner *r : rs) {
        uint32_t n = (uint32_t)r->depth;
        if (r->marks) {
            // the decoder's starts: the token's stream from 0, embedding
            // rows (classifier rows) cut by it, and the stream's end
            uint32_t c = (uint32_t)r->img.mats[r->img.nmats - 1].first;
            uint32_t bpr = (uint32_t)((r->img.mats[r->img.nmats - 1].m->cols + r->lanes - 1) /
                                      r->lanes);
            uint32_t rows = (n - c) / bpr;
            uint32_t t1 = (uint32_t)(rng() % rows), t2 = (uint32_t)(rng() % rows);
            r->fl.busy_volatile_ns = 5000;
            r->prog.push_back({0, n - 1, true, false, 0});
            r->prog.push_back({c + t1 * bpr, c + t1 * bpr + bpr - 1, true, false, 0});
            // the mat-vec's pace (a beat taken 2 cycles after its valid)
            // with the flash's rate: the hold register at work
            r->prog.push_back({0, r->ddr ? 30000u : 3000u, true, false, 2});
            r->prog.push_back({0, n - 1, false, false});
            r->prog.push_back({c + t2 * bpr, c + t2 * bpr + bpr - 1, false, false});
            r->prog.push_back({0, 20000, false, true});
            r->prog.push_back({c + (rows - 1) * bpr, n - 1, true, false});
            r->prog.push_back({c, c, false, true});
        } else if (std::string(r->name) == "a") {
            // slow volatile status write: the BUSY poll must loop
            r->fl.busy_volatile_ns = 5000;
            r->prog.push_back({0, n - 1, false, false});
            r->prog.push_back({TBQ_CLS_FIRST, TBQ_CLS_FIRST + TBQ_CLS_BEATS - 1, true, false});
            r->prog.push_back({1000, 1000, false, true});
            r->prog.push_back({12345, 13344, false, true});
        } else {
            // e (SCK_DDR, from power-down): the BUSY poll must loop at SCK =
            // clk too, where its first status bit is clocked from S_TX
            if (std::string(r->name) == "e")
                r->fl.busy_volatile_ns = 5000;
            // SCK_DDR: the whole image stall-free from idle first (the
            // exact latency from idle, and the rate at every beat)
            if (r->ddr) {
                r->prog.push_back({0, n - 1, true, false, 0});
                // a consumer 2 cycles late: the flash's rate still (the
                // assembly register covers it)
                r->prog.push_back({0, n - 1, true, false, 2});
            }
            r->prog.push_back({0, n - 1, false, false});
            // (an odd first beat: with one dexp it starts mid-byte)
            uint32_t a = (uint32_t)(rng() % (n / 2)) | 1u, b = a + (uint32_t)(rng() % (n / 2));
            r->prog.push_back({a, b, true, false});
            r->prog.push_back({n - 1, n - 1, false, true});
            r->prog.push_back({0, n - 1, false, true});
            r->prog.push_back({0, 0, true, false});
        }
    }

    tb.reset(4);
    for (Runner *r : rs)
        r->cycle_post(tb.cycle);
    uint64_t limit = 6000000;
    while (tb.cycle < limit) {
        bool all_fin = true;
        for (Runner *r : rs) {
            r->cycle_pre(tb.cycle);
            all_fin = all_fin && r->st == Runner::FIN;
        }
        if (all_fin)
            break;
        tb.settle();
        for (Runner *r : rs)
            r->cycle_check(tb.cycle);
        tb.tick();
        for (Runner *r : rs)
            r->cycle_post(tb.cycle);
    }

    for (Runner *r : rs) {
        CHECK(r->st == Runner::FIN, "%s: did not finish (stream %zu, beat %u)", r->name, r->si,
              r->next);
        CHECK(r->probed_before_load || r->boot_cycle < 97,
              "%s: no start probe during boot", r->name);
        for (size_t i = 0; i < r->fl.errors.size() && i < 10; i++)
            CHECK(false, "%s: flash: %s", r->name, r->fl.errors[i].c_str());
        for (size_t i = 0; i < r->fl.notes.size() && i < 10; i++)
            CHECK(false, "%s: flash note: %s", r->name, r->fl.notes[i].c_str());
        CHECK(r->fl.reads == r->prog.size() + (r->marks ? 2 : 0),
              "%s: %llu read commands for %zu streams", r->name,
              (unsigned long long)r->fl.reads, r->prog.size());
        CHECK(r->fl.bytes_out >= r->expect_bytes &&
                  r->fl.bytes_out <= r->expect_bytes + r->read_ahead_max,
              "%s: flash shifted out %llu bytes, expected %llu (+ up to %llu read ahead)", r->name,
              (unsigned long long)r->fl.bytes_out, (unsigned long long)r->expect_bytes,
              (unsigned long long)r->read_ahead_max);
        CHECK(!r->fl.powered_down && r->fl.qe(), "%s: flash not awake with QE after boot",
              r->name);
        std::printf("%s: lanes %d, %d nibbles a beat, IN_LAT %d, SCK = clk%s: loaded after "
                    "%llu cycles, %zu streams, %llu flash bytes\n",
                    r->name, r->lanes, r->nw, r->in_lat, r->ddr ? "" : " / 2",
                    (unsigned long long)r->boot_cycle,
                    r->prog.size(), (unsigned long long)r->fl.bytes_out);
        if (r->marks)
            std::printf("%s: image check: a burst from beat %u (%s) raised err_image after "
                        "%llu cycles; it stayed up through a classifier row's start\n",
                        r->name, r->probe_s,
                        r->probe_tag ? "a classifier row, its mark's tag nibble spoiled"
                                     : "its first flash beat a data beat",
                        (unsigned long long)r->probe_lat);
    }
    // non-volatile status untouched by the boot sequence
    CHECK(rs[0]->fl.sr2_nv == 0, "a: non-volatile status register 2 written");
    for (Runner *r : rs)
        if (r->own_img) {
            lg_wimage_free(&r->img);
            lg_qmodel_free(&r->qm);
        }
    return tb.finish(errors == 0);
}
