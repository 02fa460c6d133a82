// tb_wmem: the weight memory (lg_wmem) against the C weight image
// (lg_wimage_build, src/emit_wmem.c).
//
// The model (tb_wmem_top, verilated with --prefix Vdut) holds three
// instances (tests/hdl/gen_mem_units.c):
//   a  260k synthetic model, lanes 16 (16288 beats x 132 bits, weights.hex)
//   b  the same model at lanes 64 (4152 beats x 520 bits, 2 dexps per beat)
//   c  boot-only RAM: lanes 4, G 16, 100 beats, no image, PRELOADED 0
// The bench rebuilds the model exactly as the generator did and checks:
//  - the whole image streamed with random m_w_ready backpressure, every beat
//    (mantissas and dexps) equal to the C image, m_w_last only on the last,
//    valid held and data stable while not ready, done one cycle after the
//    last beat;
//  - a stall-free stream: first beat LG_WMEM_LATENCY cycles after start,
//    one beat per cycle, done lg_wmem_run_cycles(N) cycles after start;
//  - a restart from the middle of the image (the Wcls range);
//  - boot writes on top of the image: loaded falls, start is ignored until
//    boot_done, then the written beats stream out, the others unchanged;
//  - the boot-only RAM: not loaded after reset, filled in random order.
// Plusargs: +seed=N (default 1), +trace[=FILE].
#include "Vdut.h"
#include "testb.h"

extern "C" {
#include "llamagen/checkpoint.h"
#include "llamagen/emit_mem.h"
#include "llamagen/quantize.h"
}

#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

typedef TESTB<Vdut> TB;

static std::mt19937_64 rng;
static bool chance(int pct) { return (int)(rng() % 100) < pct; }
static int errors = 0;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (errors++ < 20) {                                                             \
                std::printf("FAIL %s:%d: ", __FILE__, __LINE__);                           \
                std::printf(__VA_ARGS__);                                                    \
                std::printf("\n");                                                           \
            }                                                                                \
        }                                                                                    \
    } while (0)

// ---- beats as bit vectors ------------------------------------------------------

// A beat: BEAT_W bits in 32-bit words, lsb first.
typedef std::vector<uint32_t> Beat;

static Beat beat_of(const lg_wimage *img, int64_t b)
{
    Beat v((size_t)(img->beat_bits + 31) / 32, 0);
    const uint64_t *w = img->beats + (size_t)b * (size_t)img->words;
    for (size_t i = 0; i < v.size(); i++)
        v[i] = (uint32_t)(w[i / 2] >> (32 * (i % 2)));
    return v;
}

static uint32_t bits(const Beat &v, int lo, int n)
{
    uint32_t r = 0;
    for (int k = 0; k < n; k++)
        r |= ((v[(size_t)(lo + k) / 32] >> ((lo + k) % 32)) & 1u) << k;
    return r;
}

static Beat random_beat(int beat_bits)
{
    Beat v((size_t)(beat_bits + 31) / 32, 0);
    for (int k = 0; k < beat_bits; k++)
        v[(size_t)k / 32] |= (uint32_t)(rng() & 1) << (k % 32);
    return v;
}

// Port <-> words, for ports of any width.
template <typename T> static void get_words(std::vector<uint32_t> &w, const T &port, int bits_n)
{
    uint64_t v = (uint64_t)port;
    w.assign((size_t)(bits_n + 31) / 32, 0);
    for (size_t i = 0; i < w.size(); i++)
        w[i] = (uint32_t)(v >> (32 * i));
}

template <std::size_t N>
static void get_words(std::vector<uint32_t> &w, const VlWide<N> &port, int bits_n)
{
    w.assign((size_t)(bits_n + 31) / 32, 0);
    for (size_t i = 0; i < w.size(); i++)
        w[i] = port[i];
}

template <typename T> static void set_words(T &port, const Beat &v)
{
    uint64_t x = v[0] | (v.size() > 1 ? (uint64_t)v[1] << 32 : 0);
    port = (T)x;
}

template <std::size_t N> static void set_words(VlWide<N> &port, const Beat &v)
{
    for (std::size_t i = 0; i < N; i++)
        port[i] = i < v.size() ? v[i] : 0;
}

// ---- one instance's ports --------------------------------------------------------

struct Io {
    int lanes, ndexp, beat_bits;
    virtual ~Io() {}
    virtual void start(bool v, uint32_t first, uint32_t last) = 0;
    virtual void boot(bool we, uint32_t addr, const Beat &data, bool done) = 0;
    virtual void ready(bool r) = 0;
    virtual bool valid() = 0;
    virtual bool last() = 0;
    virtual bool busy() = 0;
    virtual bool done() = 0;
    virtual bool loaded() = 0;
    // the output beat as {dexp, mant}
    virtual Beat data() = 0;
};

#define IO_CLASS(P)                                                                          \
    struct Io_##P : Io {                                                                     \
        Vdut *m;                                                                     \
        Io_##P(Vdut *mm, int l, int nd)                                              \
        {                                                                                    \
            m = mm;                                                                          \
            lanes = l;                                                                       \
            ndexp = nd;                                                                      \
            beat_bits = 8 * l + 4 * nd;                                                      \
        }                                                                                    \
        void start(bool v, uint32_t first, uint32_t lst) override                            \
        {                                                                                    \
            m->P##_start = v;                                                                \
            m->P##_start_addr = first;                                                       \
            m->P##_last_addr = lst;                                                          \
        }                                                                                    \
        void boot(bool we, uint32_t addr, const Beat &d, bool dn) override                   \
        {                                                                                    \
            m->P##_boot_we = we;                                                             \
            m->P##_boot_addr = addr;                                                         \
            set_words(m->P##_boot_data, d);                                                  \
            m->P##_boot_done = dn;                                                           \
        }                                                                                    \
        void ready(bool r) override { m->P##_m_ready = r; }                                  \
        bool valid() override { return m->P##_m_valid; }                                    \
        bool last() override { return m->P##_m_last; }                                       \
        bool busy() override { return m->P##_busy; }                                         \
        bool done() override { return m->P##_done; }                                         \
        bool loaded() override { return m->P##_loaded; }                                     \
        Beat data() override                                                                 \
        {                                                                                    \
            std::vector<uint32_t> mw, dw;                                                    \
            get_words(mw, m->P##_m_mant, 8 * lanes);                                         \
            get_words(dw, m->P##_m_dexp, 4 * ndexp);                                         \
            Beat v((size_t)(beat_bits + 31) / 32, 0);                                        \
            for (int k = 0; k < beat_bits; k++) {                                            \
                uint32_t bit = k < 8 * lanes ? (mw[(size_t)k / 32] >> (k % 32)) & 1u         \
                                             : (dw[(size_t)(k - 8 * lanes) / 32] >>          \
                                                ((k - 8 * lanes) % 32)) & 1u;                \
                v[(size_t)k / 32] |= bit << (k % 32);                                        \
            }                                                                                \
            return v;                                                                        \
        }                                                                                    \
    };

IO_CLASS(a)
IO_CLASS(b)
IO_CLASS(c)

static void idle(Io &io)
{
    io.start(false, 0, 0);
    io.boot(false, 0, Beat(32, 0), false);
    io.ready(false);
}

// ---- stream checks --------------------------------------------------------------

// Streams beats first..last (expected: exp[first..last]) with m_w_ready high
// with probability ready_pct; checks data, last, the hold rule and done.
// With ready_pct = 100 also checks the latency and the run length.
static void stream(TB &tb, Io &io, const std::vector<Beat> &exp, uint32_t first, uint32_t last,
                   int ready_pct, const char *what)
{
    CHECK(!io.busy(), "%s: busy before start", what);
    io.start(true, first, last);
    uint64_t t0 = tb.cycle;
    uint32_t next = first;
    bool prev_stall = false, saw_done = false;
    Beat prev;
    uint64_t first_valid = 0, done_cycle = 0, limit = tb.cycle + 20 * (last - first + 1) + 100;
    while (tb.cycle < limit) {
        bool rdy = chance(ready_pct);
        io.ready(rdy);
        tb.settle();
        if (tb.cycle > t0)
            io.start(false, 0, 0);
        if (io.done()) {
            CHECK(next == last + 1 && !saw_done, "%s: done at beat %u", what, next);
            saw_done = true;
            done_cycle = tb.cycle;
            CHECK(!io.busy(), "%s: busy with done", what);
            break;
        }
        bool v = io.valid();
        if (prev_stall) {
            CHECK(v, "%s: valid dropped while stalled at beat %u", what, next);
            CHECK(io.data() == prev, "%s: data changed while stalled at beat %u", what, next);
        }
        if (v && !first_valid)
            first_valid = tb.cycle;
        if (v) {
            CHECK(next <= last, "%s: beat past the end", what);
            Beat d = io.data();
            if (next <= last && d != exp[next]) {
                CHECK(false, "%s: beat %u differs (mant lane 0 %02x vs %02x, dexp %x vs %x)",
                      what, next, bits(d, 0, 8), bits(exp[next], 0, 8),
                      bits(d, 8 * io.lanes, 4), bits(exp[next], 8 * io.lanes, 4));
            }
            CHECK(io.last() == (next == last), "%s: m_w_last %d at beat %u", what, io.last(),
                  next);
            prev = d;
        }
        bool fire = v && rdy;
        prev_stall = v && !fire;
        if (fire)
            next++;
        tb.tick();
    }
    CHECK(saw_done, "%s: no done (%u of %u beats)", what, next - first, last - first + 1);
    if (ready_pct == 100) {
        uint64_t n = last - first + 1;
        CHECK(first_valid - t0 == LG_WMEM_LATENCY, "%s: first beat after %llu cycles", what,
              (unsigned long long)(first_valid - t0));
        CHECK(done_cycle - t0 == (uint64_t)lg_wmem_run_cycles((int64_t)n),
              "%s: done after %llu cycles, header says %lld", what,
              (unsigned long long)(done_cycle - t0), (long long)lg_wmem_run_cycles((int64_t)n));
        std::printf("%s: %llu beats, first beat %llu cycles after start, done after %llu\n",
                    what, (unsigned long long)n, (unsigned long long)(first_valid - t0),
                    (unsigned long long)(done_cycle - t0));
    }
    io.ready(false);
    tb.tick();
}

// Boot writes: `writes` (addr, beat) pairs in the given order, then boot_done.
// loaded must fall with the first write and rise after boot_done; a start
// pulse in between is ignored.
static void boot(TB &tb, Io &io, const std::vector<std::pair<uint32_t, Beat>> &writes,
                 const char *what)
{
    bool was_loaded = io.loaded();
    for (size_t i = 0; i < writes.size(); i++) {
        io.boot(true, writes[i].first, writes[i].second, false);
        tb.tick();
        CHECK(!io.loaded(), "%s: loaded high after a boot write", what);
        // random gaps between writes
        while (chance(20)) {
            io.boot(false, 0, writes[i].second, false);
            tb.tick();
        }
    }
    io.boot(false, 0, Beat(32, 0), false);
    // start while not loaded: ignored
    io.start(true, 0, 1);
    tb.tick();
    io.start(false, 0, 0);
    tb.settle();
    CHECK(!io.busy(), "%s: start accepted while not loaded", what);
    for (int i = 0; i < 5; i++) {
        tb.tick();
        CHECK(!io.valid() && !io.busy(), "%s: streaming while not loaded", what);
    }
    io.boot(false, 0, Beat(32, 0), true);
    tb.tick();
    io.boot(false, 0, Beat(32, 0), false);
    tb.settle();
    CHECK(io.loaded(), "%s: not loaded after boot_done (was %d)", what, was_loaded);
}

// The 260k model exactly as gen_mem_units builds it.
static int model_260k(lg_qmodel *qm)
{
    lg_err err = {{0}};
    lg_config cfg;
    lg_weights w;
    if (lg_config_preset("260k", &cfg, &err) || lg_weights_synthetic(&cfg.m, 260, &w, &err)) {
        std::printf("tb_wmem: %s\n", err.msg);
        return -1;
    }
    lg_quant_opts o;
    lg_quant_opts_default(&o);
    o.smooth_k = 0;
    int rc = lg_quantize_model(qm, &cfg, &w, &o, &err);
    lg_weights_free(&w);
    if (rc)
        std::printf("tb_wmem: %s\n", err.msg);
    return rc;
}

static std::vector<Beat> image_beats(const lg_wimage *img)
{
    std::vector<Beat> v;
    for (int64_t b = 0; b < img->nbeats; b++)
        v.push_back(beat_of(img, b));
    return v;
}

int main(int argc, char **argv)
{
    TB tb(argc, argv, "tb_wmem");
    rng.seed(tb.plusarg("seed", 1));
    lg_qmodel qm;
    if (model_260k(&qm))
        return tb.finish(false);
    lg_err err = {{0}};
    lg_wimage img16, img64;
    if (lg_wimage_build(&img16, &qm, 16, &err) || lg_wimage_build(&img64, &qm, 64, &err)) {
        std::printf("tb_wmem: %s\n", err.msg);
        return tb.finish(false);
    }
    std::vector<Beat> ea = image_beats(&img16), eb = image_beats(&img64);
    Io_a a(tb.m, 16, 1);
    Io_b b(tb.m, 64, 2);
    Io_c c(tb.m, 4, 1);
    idle(a);
    idle(b);
    idle(c);
    tb.reset(4);
    CHECK(a.loaded() && b.loaded(), "preloaded instances not loaded after reset");
    CHECK(!c.loaded(), "boot-only instance loaded after reset");

    uint32_t na = (uint32_t)img16.nbeats, nb = (uint32_t)img64.nbeats;
    // whole images with backpressure, then stall-free (latency), twice in a
    // row (restart per token)
    stream(tb, a, ea, 0, na - 1, 70, "a(l16) backpressure");
    stream(tb, a, ea, 0, na - 1, 100, "a(l16) full rate");
    stream(tb, b, eb, 0, nb - 1, 60, "b(l64) backpressure");
    stream(tb, b, eb, 0, nb - 1, 100, "b(l64) full rate");
    stream(tb, b, eb, 0, nb - 1, 100, "b(l64) full rate again");
    // a restart in the middle: the classifier only
    const lg_wimage_mat *cls = &img16.mats[img16.nmats - 1];
    stream(tb, a, ea, (uint32_t)cls->first, (uint32_t)(cls->first + cls->nbeats - 1), 50,
           "a(l16) wcls range");
    stream(tb, a, ea, 5, 6, 30, "a(l16) two beats");

    // boot writes on top of the image
    std::vector<std::pair<uint32_t, Beat>> wr;
    for (uint32_t k = 0; k < 40; k++) {
        Beat v = random_beat(a.beat_bits);
        wr.push_back({1000 + k, v});
        ea[1000 + k] = v;
    }
    wr.push_back({na - 1, random_beat(a.beat_bits)});
    ea[na - 1] = wr.back().second;
    boot(tb, a, wr, "a(l16) boot");
    stream(tb, a, ea, 990, 1050, 50, "a(l16) after boot");
    stream(tb, a, ea, 0, na - 1, 100, "a(l16) full image after boot");

    // boot-only RAM: every beat, random order
    std::vector<Beat> ec;
    std::vector<std::pair<uint32_t, Beat>> wc;
    for (uint32_t k = 0; k < 100; k++) {
        ec.push_back(random_beat(c.beat_bits));
        wc.push_back({k, ec.back()});
    }
    std::shuffle(wc.begin(), wc.end(), rng);
    tb.settle();
    boot(tb, c, wc, "c(boot) fill");
    stream(tb, c, ec, 0, 99, 50, "c(boot) backpressure");
    stream(tb, c, ec, 0, 99, 100, "c(boot) full rate");

    lg_wimage_free(&img16);
    lg_wimage_free(&img64);
    lg_qmodel_free(&qm);
    if (errors)
        std::printf("tb_wmem: %d errors\n", errors);
    return tb.finish(errors == 0);
}
