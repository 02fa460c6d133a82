// tb_embstream: the embedding lookup from the weight stream (lg_embstream)
// against its C twin lg_ref_embed.
//
// The model (tb_embstream_top, verilated with --prefix Vdut) holds five
// instances (tests/hdl/gen_mem_units.c) on the tables of tb_embed:
//   a  the 260k synthetic model's embedding (512 x 64, G 32), lanes 4: 16
//      beats a row, rows from beat 100
//   b  37 x 40, G 16, ebase -30, lanes 32 > G: two dexps a beat, two beats a
//      row (the second with 8 of 32 lanes), rows from beat 3
//   c  the same table with ebase +8 (left shifts, saturation), lanes 1: a
//      beat per element, rows from beat 0
//   d  the 260k table at the iCEBreaker shape: lanes 2, 32 beats a row, rows
//      from beat 113280 (a multiple of 32: the last beat address is the
//      start's with its low bits set)
//   e  b's table, lanes 48 = 3 G (not a power of two: a lane counter), three
//      dexps a beat, one beat a row (40 of 48 lanes), rows from beat 5
// The bench is the weight source: on each w_start it checks the requested
// range (row t: base + t * BPR .. + BPR - 1, and no request while a range is
// served) and serves those beats, packed from the table as the weight image
// packs a matrix (docs/architecture.md), with random valid gaps; a beat's
// data hold while it waits. Every element must equal lg_ref_embed, m_x_last
// mark the row end, valid hold and data stay stable while stalled; out of
// range ids set err_oob and request nothing. The unit must take exactly the
// range's beats (a beat offered past the range must not be taken).
// Plusargs: +seed=N (default 1), +trace[=FILE].
#include "Vdut.h"
#include "embed_table.h"
#include "testb.h"

#include <cstdio>
#include <deque>
#include <random>
#include <string>
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

// ---- ports of any width -------------------------------------------------------------

template <class T> static void put_bits(T &port, const std::vector<uint32_t> &w) { port = w[0]; }
template <std::size_t N> static void put_bits(VlWide<N> &port, const std::vector<uint32_t> &w)
{
    for (std::size_t i = 0; i < N; i++)
        port[i] = i < w.size() ? w[i] : 0u;
}

struct Io {
    virtual ~Io() {}
    virtual void tok(bool v, uint32_t id) = 0;
    virtual void ready(bool r) = 0;
    virtual void beat(bool v, const std::vector<uint32_t> &mant, uint32_t dexp) = 0;
    virtual bool tok_ready() = 0;
    virtual bool w_start() = 0;
    virtual uint32_t w_saddr() = 0;
    virtual uint32_t w_laddr() = 0;
    virtual bool w_ready() = 0;
    virtual bool valid() = 0;
    virtual int32_t data() = 0;
    virtual bool last() = 0;
    virtual bool err() = 0;
};

#define IO_CLASS(P)                                                                          \
    struct Io_##P : Io {                                                                     \
        Vdut *m;                                                                             \
        explicit Io_##P(Vdut *mm) : m(mm) {}                                                 \
        void tok(bool v, uint32_t id) override                                               \
        {                                                                                    \
            m->P##_s_valid = v;                                                              \
            m->P##_s_data = id;                                                              \
        }                                                                                    \
        void ready(bool r) override { m->P##_m_ready = r; }                                  \
        void beat(bool v, const std::vector<uint32_t> &mant, uint32_t dexp) override         \
        {                                                                                    \
            m->P##_w_valid = v;                                                              \
            put_bits(m->P##_w_mant, mant);                                                   \
            m->P##_w_dexp = dexp;                                                            \
        }                                                                                    \
        bool tok_ready() override { return m->P##_s_ready; }                                 \
        bool w_start() override { return m->P##_w_start; }                                   \
        uint32_t w_saddr() override { return m->P##_w_saddr; }                               \
        uint32_t w_laddr() override { return m->P##_w_laddr; }                               \
        bool w_ready() override { return m->P##_w_ready; }                                   \
        bool valid() override { return m->P##_m_valid; }                                     \
        int32_t data() override { return (int32_t)m->P##_m_data; }                           \
        bool last() override { return m->P##_m_last; }                                       \
        bool err() override { return m->P##_err; }                                           \
    };

IO_CLASS(a)
IO_CLASS(b)
IO_CLASS(c)
IO_CLASS(d)
IO_CLASS(e)

struct Cfg {
    const Table *t;
    int lanes;
    uint32_t base;
    int bpr() const { return (t->m.cols + lanes - 1) / lanes; }
};

// Beat `b` of row `row` as the weight image packs a matrix: lane k holds
// element b * lanes + k (0 past the row), dexp j the group of lane j * G
// (one dexp when lanes <= G: the beat's group).
static void pack_beat(const Cfg &c, int row, int b, std::vector<uint32_t> &mant, uint32_t &dexp)
{
    const lg_qmat &m = c.t->m;
    mant.assign((size_t)(c.lanes * 8 + 31) / 32, 0u);
    for (int k = 0; k < c.lanes; k++) {
        int e = b * c.lanes + k;
        uint8_t v = e < m.cols ? (uint8_t)m.mant[(size_t)row * m.cols + e] : 0;
        mant[(size_t)k / 4] |= (uint32_t)v << (8 * (k % 4));
    }
    int ndx = c.lanes > m.group ? c.lanes / m.group : 1;
    dexp = 0;
    for (int j = 0; j < ndx; j++) {
        int e = b * c.lanes + j * m.group;
        uint32_t d = e < m.cols ? m.dexp[(size_t)row * m.ngroups + e / m.group] : 0;
        dexp |= d << (4 * j);
    }
}

// Requests `ids` in order; gap_pct: chance of no token / no beat offered in
// a cycle, ready_pct: chance of m_x_ready high.
static void run(TB &tb, Io &io, const Cfg &c, const std::vector<uint32_t> &ids, int gap_pct,
                int ready_pct, const char *what)
{
    const lg_qmat &m = c.t->m;
    int bpr = c.bpr();
    std::deque<std::vector<int32_t>> rows; // expected rows not yet fully out
    std::deque<int> row_ids;               // their ids, for the range check
    size_t next = 0, pos = 0, outs = 0;
    bool offering = false, prev_stall = false, err_exp = io.err();
    int32_t prev_data = 0;
    // the beat source: the range being served (serve_row < 0: idle)
    int serve_row = -1, serve_beat = 0, requests = 0;
    bool beat_offered = false;
    std::vector<uint32_t> bm;
    uint32_t bd = 0;
    uint64_t limit = tb.cycle + 1000 + (uint64_t)ids.size() * 40 * (uint64_t)(m.cols + bpr + 8);
    while ((next < ids.size() || !rows.empty()) && tb.cycle < limit) {
        // drive the token, the output ready and the beat (held until taken)
        if (!offering && next < ids.size() && !chance(gap_pct))
            offering = true;
        io.tok(offering, offering ? ids[next] : 0);
        bool rdy = chance(ready_pct);
        io.ready(rdy);
        if (!beat_offered && serve_row >= 0 && !chance(gap_pct)) {
            pack_beat(c, serve_row, serve_beat, bm, bd);
            beat_offered = true;
        }
        // between rows (no token outstanding) a decoy beat: never taken
        bool decoy = !beat_offered && rows.empty() && !offering && chance(30);
        if (!beat_offered)
            pack_beat(c, (int)(rng() % (uint64_t)m.rows), 0, bm, bd);
        io.beat(beat_offered || decoy, bm, bd);
        tb.settle();
        if (decoy)
            CHECK(!io.w_ready(), "%s: a beat taken with no row outstanding", what);
        CHECK(io.err() == err_exp, "%s: err_oob %d, expected %d (cycle %llu)", what, io.err(),
              err_exp, (unsigned long long)tb.cycle);
        // the range request
        if (io.w_start()) {
            requests++;
            CHECK(serve_row < 0, "%s: w_start while a range is served", what);
            CHECK(!row_ids.empty(), "%s: w_start without a token", what);
            if (!row_ids.empty()) {
                int t = row_ids.back();
                uint32_t s = c.base + (uint32_t)t * (uint32_t)bpr;
                CHECK(io.w_saddr() == s && io.w_laddr() == s + (uint32_t)bpr - 1,
                      "%s: row %d requested beats %u..%u, expected %u..%u", what, t,
                      io.w_saddr(), io.w_laddr(), s, s + (uint32_t)bpr - 1);
                serve_row = t;
                serve_beat = 0;
            }
        }
        if (beat_offered && io.w_ready()) {
            beat_offered = false;
            if (++serve_beat == bpr)
                serve_row = -1;
        }
        // the output
        bool v = io.valid();
        if (prev_stall) {
            CHECK(v, "%s: valid dropped while stalled", what);
            CHECK(io.data() == prev_data, "%s: data changed while stalled", what);
        }
        if (v) {
            CHECK(!rows.empty(), "%s: output without a token", what);
            if (!rows.empty()) {
                const std::vector<int32_t> &r = rows.front();
                if (io.data() != r[pos])
                    CHECK(false, "%s: row %zu element %zu: %d != %d", what, outs, pos,
                          io.data(), r[pos]);
                CHECK(io.last() == (pos + 1 == r.size()), "%s: m_x_last %d at element %zu",
                      what, io.last(), pos);
            }
            prev_data = io.data();
        }
        bool fire = v && rdy;
        prev_stall = v && !fire;
        if (fire && !rows.empty() && ++pos == rows.front().size()) {
            rows.pop_front();
            row_ids.pop_front();
            pos = 0;
            outs++;
        }
        // the token
        if (offering && io.tok_ready()) {
            uint32_t id = ids[next++];
            offering = false;
            if (id < (uint32_t)m.rows) {
                std::vector<int32_t> r((size_t)m.cols);
                lg_ref_embed(r.data(), &m, (int)id);
                rows.push_back(r);
                row_ids.push_back((int)id);
                err_exp = false;
            } else {
                err_exp = true;
            }
        }
        tb.tick();
    }
    CHECK(next == ids.size() && rows.empty(), "%s: timeout (%zu of %zu ids, %zu rows pending)",
          what, next, ids.size(), rows.size());
    CHECK(serve_row < 0, "%s: %d beats of the last range never taken", what,
          serve_row < 0 ? 0 : bpr - serve_beat);
    CHECK(requests == (int)outs, "%s: %d range requests for %zu rows", what, requests, outs);
    // nothing more may come out, no request, no beat taken
    io.tok(false, 0);
    io.ready(true);
    for (int i = 0; i < 2 * m.cols; i++) {
        pack_beat(c, 0, 0, bm, bd);
        io.beat(true, bm, bd);
        tb.settle();
        CHECK(!io.valid() && !io.w_start() && !io.w_ready(), "%s: activity after the rows",
              what);
        tb.tick();
    }
    io.beat(false, bm, bd);
    std::printf("%s: %zu ids, %zu rows compared, %d ranges of %d beats\n", what, ids.size(),
                outs, requests, bpr);
}

static void test_cfg(TB &tb, Io &io, const Cfg &c, const char *name)
{
    uint32_t V = (uint32_t)c.t->m.rows;
    std::vector<uint32_t> all, mixed;
    for (uint32_t i = 0; i < V; i++)
        all.push_back(i);
    const uint32_t bad[] = {V, V + 1, 0xffffffffu, 0x80000000u};
    for (int k = 0; k < 50; k++) {
        mixed.push_back((uint32_t)(rng() % V));
        if (k % 5 == 0)
            mixed.push_back(bad[k / 5 % 4]);
    }
    mixed.push_back(V - 1);
    std::string n = name;
    run(tb, io, c, all, 30, 70, (n + " all rows").c_str());
    run(tb, io, c, mixed, 20, 50, (n + " random + out of range").c_str());
    run(tb, io, c, mixed, 0, 100, (n + " no stalls").c_str());
}

int main(int argc, char **argv)
{
    TB tb(argc, argv, "tb_embstream");
    rng.seed(tb.plusarg("seed", 1));
    Table ta, tb_, tc;
    if (!load_table(ta, "embed_260k") || !load_table(tb_, "embed_neg") ||
        !load_table(tc, "embed_sat"))
        return tb.finish(false);
    // as tests/hdl/gen_mem_units.c emitted them
    Cfg ca = {&ta, 4, 100}, cb = {&tb_, 32, 3}, cc = {&tc, 1, 0}, cd = {&ta, 2, 113280},
        ce = {&tb_, 48, 5};
    Io_a a(tb.m);
    Io_b b(tb.m);
    Io_c c(tb.m);
    Io_d d(tb.m);
    Io_e e(tb.m);
    Io *all[5] = {&a, &b, &c, &d, &e};
    std::vector<uint32_t> zero(8, 0u);
    for (Io *io : all) {
        io->tok(false, 0);
        io->ready(false);
        io->beat(false, zero, 0);
    }
    tb.reset(4);
    for (Io *io : all)
        CHECK(!io->err() && !io->valid() && io->tok_ready() && !io->w_start(),
              "state after reset");
    test_cfg(tb, a, ca, "a(260k, lanes 4)");
    test_cfg(tb, b, cb, "b(ebase -30, lanes 32)");
    test_cfg(tb, c, cc, "c(ebase +8, lanes 1)");
    test_cfg(tb, d, cd, "d(260k, lanes 2)");
    test_cfg(tb, e, ce, "e(ebase -30, lanes 48)");
    if (errors)
        std::printf("tb_embstream: %d errors\n", errors);
    return tb.finish(errors == 0);
}
